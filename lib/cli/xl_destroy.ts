/**
 * `dxl destroy DOMAIN` (xl's `destroy`): the domain's devices found through its `/libxl`
 * records and removed as libxl does, its `/vm`, home and `/libxl` entries removed, then the
 * hypervisor asked to destroy it.
 *
 * `dxl destroy FILE` (a script's domains) belongs to the scripts part of the CLI; its
 * command dispatches here when the argument is not a script ({@linkcode isScriptArgument}).
 *
 * @module
 */

import { readDomainUuid } from "../libxl/domain.ts";
import { destroyDomain } from "../libxl/domain_destroy.ts";
import { forgetDomain } from "../xen/host.ts";
import type { OpenStore } from "./connection.ts";
import { UsageError } from "./errors.ts";
import { domainLister, resolveDomainArg } from "./xl_common.ts";
import { withRemovalHook } from "./_host.ts";

/** What {@linkcode destroyDomainArg} did. */
export interface XlDestroyResult {
  /** The domain destroyed. */
  domid: number;
  /** How many devices were removed. */
  devices: number;
  /** True when a hypervisor destroyed the domain itself (else only xenstore was cleaned). */
  hypervisor: boolean;
}

/**
 * True when `dxl destroy`'s argument names a script (an existing file, or a name ending in
 * `.ts`, `.js`, `.mjs`) rather than a domain.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isScriptArgument } from "./xl_destroy.ts";
 * assert.equal(isScriptArgument("web"), false);
 * assert.equal(isScriptArgument("fleet.ts"), true);
 * ```
 */
export function isScriptArgument(arg: string): boolean {
  if (/\.(ts|js|mjs|mts)$/.test(arg)) return true;
  try {
    return Deno.statSync(arg).isFile;
  } catch {
    return false;
  }
}

/**
 * Destroys DOMAIN (a name or an id) as `xl destroy` does. With no hypervisor binding on a
 * real Xen host it refuses before touching anything (removing a running domain's records
 * would orphan it); against a socket with the simulated hypervisor kind (tests, `dxl serve`
 * without a control channel) it cleans xenstore only, which is what `libxl__destroy_domid`
 * does in xenstore.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openStore } from "./connection.ts";
 * import { destroyDomainArg } from "./xl_destroy.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * {
 *   await using store = await openStore({ env: { XDG_STATE_HOME: dir }, noStandard: true });
 *   await assert.rejects(destroyDomainArg(store, "nosuch"), { name: "DomainNotFoundError" });
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function destroyDomainArg(
  store: OpenStore,
  domain: string,
  options: { timeoutMs?: number } = {},
): Promise<XlDestroyResult> {
  const domid = await resolveDomainArg(store.xs, domain).catch(async (error) => {
    // A domain with no records at all (an apply killed between the hypervisor's create and
    // its transaction, which doctor reports) is named by its id and known to the hypervisor.
    const list = domainLister(store.hypervisor);
    if (/^[1-9][0-9]*$/.test(domain) && list !== undefined) {
      if ([...await list()].includes(Number(domain))) return Number(domain);
    }
    throw error;
  });
  if (domid === 0) throw new UsageError("Cannot destroy domain 0 (Domain-0)");
  if (store.hypervisor === undefined && store.hypervisorKind === "xen") {
    throw new UsageError(`Cannot destroy domain ${domain}: ${store.noHypervisorReason ?? ""}`);
  }
  // On a Xen host, as xl: each device's removal script, then libxl's config file removed
  // (its name has the uuid, which goes with ~/vm).
  const host = store.host;
  const uuid = host === undefined ? undefined : await readDomainUuid(store.xs, domid);
  const result = await withRemovalHook(store, (beforeCleanup) =>
    destroyDomain(store.xs, domid, {
      ...(store.hypervisor === undefined ? {} : { hypervisor: store.hypervisor }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(beforeCleanup === undefined ? {} : { beforeCleanup }),
    }).then(async (destroyed) => {
      if (host !== undefined) await forgetDomain({ domid, uuid }, host);
      return destroyed;
    }));
  return { domid, devices: result.devices.length, hypervisor: store.hypervisor !== undefined };
}
