/**
 * CONTROL `dxl-domain`: the embedded server's own hypervisor commands, for toolstacks in
 * another process (`dxl apply` against `dxl serve`). The embedded xenstored is also the
 * hypervisor of its domains (there is no Xen), and this drives that domain table over the
 * socket. C xenstored and oxenstored answer `EINVAL` (unknown CONTROL command), so nothing
 * can depend on it there. Privileged (dom0) connections only, as every CONTROL.
 *
 * | command | reply |
 * | --- | --- |
 * | `dxl-domain create` | a new domain with the lowest free id from 1 (neither existing, nor with a record, nor with `/local/domain/<id>` or `/libxl/<id>` in the store): `domid=<N> store-gfn=<G> store-port=1 console-gfn=<G-1> console-port=2` |
 * | `dxl-domain create <N>` | the same for domain N; `EEXIST` when it exists; `EINVAL` for a domid outside 1-32751 |
 * | `dxl-domain destroy <N>` | `OK`: the domain vanishes as when the hypervisor destroys it (released if introduced: its nodes removed, `@releaseDomain` fired); `ENOENT` when it does not exist |
 * | `dxl-domain list` | one line per existing domain, lowest first: `<N> introduced` or `<N> created` |
 *
 * The rings are the simulated hypervisor's (`SimulatedHypervisor`): store ring frame
 * `0x101000 + 2*N`, port 1; console ring one frame lower, port 2. INTRODUCE ignores them.
 *
 * @module
 */

import { DOMID_FIRST_RESERVED, parseDomid as parseId } from "../protocol/domid.ts";
import { Errno } from "./access.ts";
import type { RequestContext, ServerState } from "./context.ts";

/** The CONTROL command name of the domain table commands. */
export const DXL_DOMAIN_COMMAND = "dxl-domain";

/** The simulated store ring frame of domain `domid` (its console ring is one lower). */
const STORE_GFN_BASE = 0x101000;

/** A domain id other than dom0's (the toolstack's own, never created or destroyed here). */
function parseDomid(text: string | undefined): number {
  let domid: number;
  try {
    domid = parseId(text ?? "");
  } catch {
    throw new Errno("EINVAL");
  }
  if (domid === 0) throw new Errno("EINVAL");
  return domid;
}

function inUse(core: ServerState, domid: number): boolean {
  return core.domains.exists(domid) || core.domains.find(domid) !== undefined ||
    core.tree.lookup(`/local/domain/${domid}`) !== undefined ||
    core.tree.lookup(`/libxl/${domid}`) !== undefined;
}

/** Runs `dxl-domain <args>`; returns the reply text. */
export function dxlDomain(ctx: RequestContext, args: readonly string[]): string {
  const core = ctx.server;
  const [sub, ...rest] = args;
  switch (sub) {
    case "create": {
      if (rest.length > 1) throw new Errno("EINVAL");
      let domid: number;
      if (rest.length === 1) {
        domid = parseDomid(rest[0]);
        if (core.domains.exists(domid)) throw new Errno("EEXIST");
      } else {
        domid = 1;
        while (domid < DOMID_FIRST_RESERVED && inUse(core, domid)) domid++;
        if (domid >= DOMID_FIRST_RESERVED) throw new Errno("ENOSPC");
      }
      core.createDomain(domid);
      const gfn = STORE_GFN_BASE + 2 * domid;
      return `domid=${domid} store-gfn=${gfn} store-port=1 console-gfn=${gfn - 1} console-port=2`;
    }
    case "destroy": {
      if (rest.length !== 1) throw new Errno("EINVAL");
      const domid = parseDomid(rest[0]);
      if (!core.domains.exists(domid)) throw new Errno("ENOENT");
      core.destroyDomain(domid);
      return "OK";
    }
    case "list": {
      if (rest.length !== 0) throw new Errno("EINVAL");
      return core.domains.existing().map((domid) =>
        `${domid} ${core.domains.findIntroduced(domid) === undefined ? "created" : "introduced"}\n`
      ).join("");
    }
    default:
      throw new Errno("EINVAL");
  }
}
