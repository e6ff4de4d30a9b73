/**
 * `dxl list [DOMAIN...]`: xl's `list` from xenstore — Name ID Mem VCPUs State — for dom0
 * and every domain the toolstack made (those with a `/libxl` record).
 *
 * @module
 */

import type { XenstoreClient } from "../client/mod.ts";
import { listDomains } from "../libxl/domain.ts";
import type { Hypervisor } from "../libxl/hypervisor.ts";
import { examples, type GlobalOptions, type Program, withStore } from "./context.ts";
import { formatTable, out, toJson } from "./output.ts";
import { resolveDomainArg } from "./xl_common.ts";

/** One domain as `dxl list` shows it. */
export interface ListedDomain {
  /** `~/name`. */
  name: string;
  /** Its id. */
  domid: number;
  /** `~/memory/target` in MiB (rounded down), `null` when it has none. */
  memMb: number | null;
  /** The vCPUs `~/cpu/N/availability` says are online, `null` when it has no `~/cpu`. */
  vcpus: number | null;
  /**
   * What xenstore says of it: `active` (introduced to xenstored), `inactive` (not
   * introduced: dying, being created, or the embedded store restarted), `shutdown:<req>`
   * while a `control/shutdown` request waits for the guest.
   */
  state: string;
  /** The uuid from `~/vm`, `null` when it has none. */
  uuid: string | null;
  /** `/libxl/<domid>/type` (`pv`, `pvh`, `hvm`), `null` for dom0 or when missing. */
  type: string | null;
  /**
   * The hypervisor's view (a real one: `xl list`'s columns), `null` when it has none of this
   * domain or gives no view (the simulated ones); absent without a hypervisor.
   */
  hypervisor?: HypervisorView | null;
}

/** What the hypervisor says of a domain, as `xl list` shows it. */
export interface HypervisorView {
  /** `xl list`'s six state letters (`r-----`, `--p---`, `---sc-`). */
  state: string;
  /** Memory it has now, MiB (rounded down). */
  memMb: number;
  /** vCPUs online. */
  vcpus: number;
  /** CPU time used, seconds. */
  cpuTimeS: number;
}

/** Options of {@linkcode readDomainList}. */
export interface ReadDomainListOptions {
  /** Joined by domid when it gives a view (`listInfo`). @default {none} */
  hypervisor?: Hypervisor | undefined;
}

/**
 * Reads what `dxl list` prints, in id order: dom0 (when `/local/domain/0` exists), then
 * every domain with a `/libxl` record; with a hypervisor that gives a view (`listInfo`),
 * its columns for each, and also the domains only it has.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { readDomainList } from "./xl_list.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir, initDom0: true });
 * await using xs = await connect({ path: xsd.socket });
 * const [dom0] = await readDomainList(xs);
 * assert.equal(dom0?.name, "Domain-0");
 * assert.equal(dom0?.state, "active");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readDomainList(
  xs: XenstoreClient,
  options: ReadDomainListOptions = {},
): Promise<ListedDomain[]> {
  const infos = await options.hypervisor?.listInfo?.();
  const byDomid = new Map(infos?.map((i) => [i.domid, i]));
  const summaries = (await listDomains(xs)).filter((d) => d.domid !== 0);
  const rows: { domid: number; name: string | undefined; uuid?: string; type?: string }[] = [];
  if (await xs.exists("/local/domain/0")) {
    rows.push({ domid: 0, name: await xs.tryRead("/local/domain/0/name") ?? "Domain-0" });
  }
  for (const d of summaries) {
    const row: (typeof rows)[number] = { domid: d.domid, name: d.name };
    if (d.uuid !== undefined) row.uuid = d.uuid;
    if (d.type !== undefined) row.type = d.type;
    rows.push(row);
  }
  // domains the hypervisor has and xenstore does not (a create or destroy cut short): xl
  // lists them too
  const known = new Set(rows.map((r) => r.domid));
  for (const info of infos ?? []) {
    if (!known.has(info.domid)) rows.push({ domid: info.domid, name: undefined, uuid: info.uuid });
  }
  rows.sort((a, b) => a.domid - b.domid);
  return await Promise.all(rows.map(async (row): Promise<ListedDomain> => {
    const home = `/local/domain/${row.domid}`;
    const [target, cpus, introduced, shutdown] = await Promise.all([
      xs.tryRead(`${home}/memory/target`),
      xs.exists(`${home}/cpu`).then(async (has) => {
        if (!has) return null;
        const ids = await xs.directory(`${home}/cpu`);
        const avail = await Promise.all(
          ids.map((i) => xs.tryRead(`${home}/cpu/${i}/availability`)),
        );
        return avail.filter((a) => a === "online").length;
      }),
      xs.isDomainIntroduced(row.domid).catch(() => false),
      xs.tryRead(`${home}/control/shutdown`),
    ]);
    const kb = target !== undefined && /^[0-9]+$/.test(target) ? Number(target) : undefined;
    return {
      name: row.name ?? `(domain ${row.domid})`,
      domid: row.domid,
      memMb: kb === undefined ? null : Math.floor(kb / 1024),
      vcpus: cpus,
      state: shutdown ? `shutdown:${shutdown}` : introduced ? "active" : "inactive",
      uuid: row.uuid ?? null,
      type: row.type ?? null,
      ...(infos === undefined ? {} : { hypervisor: hypervisorView(byDomid.get(row.domid)) }),
    };
  }));
}

function hypervisorView(
  info: { state: string; memKb: number; vcpus: number; cpuTimeNs: number } | undefined,
): HypervisorView | null {
  if (info === undefined) return null;
  return {
    state: info.state,
    memMb: Math.floor(info.memKb / 1024),
    vcpus: info.vcpus,
    cpuTimeS: Math.round(info.cpuTimeNs / 1e8) / 10,
  };
}

/** Registers `dxl list`. */
export function register(program: Program): void {
  const cmd = program
    .command("list")
    .description(
      "list domains as `xl list` does (Name ID Mem VCPUs State), from xenstore: dom0 and the " +
        "domains with a /libxl record; State is what xenstore shows (active = introduced to " +
        "xenstored, inactive, shutdown:<request> while a shutdown request is pending); on a " +
        "Xen host Mem, VCPUs, State and Time(s) are the hypervisor's, as in `xl list`",
    )
    .argument("[domain...]", "only these domains (names or ids)")
    .option(
      "--json",
      "an array of {name, domid, memMb, vcpus, state, uuid, type}, plus on a Xen host " +
        "hypervisor: {state, memMb, vcpus, cpuTimeS} or null",
    )
    .action(async (domains, opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      await withStore(globals, async ({ xs, hypervisor }) => {
        let list = await readDomainList(xs, { hypervisor });
        if (domains.length > 0) {
          const wanted = new Set<number>();
          for (const d of domains) wanted.add(await resolveDomainArg(xs, d));
          list = list.filter((d) => wanted.has(d.domid));
        }
        if (opts.json) {
          out(toJson(list));
          return;
        }
        const viewed = list.some((d) => d.hypervisor !== undefined);
        const rows = [["Name", "ID", "Mem", "VCPUs", "State", ...(viewed ? ["Time(s)"] : [])]];
        for (const d of list) {
          const hv = d.hypervisor ?? undefined;
          const mem = hv?.memMb ?? d.memMb;
          const vcpus = hv?.vcpus ?? d.vcpus;
          rows.push([
            d.name,
            String(d.domid),
            mem === null ? "-" : String(mem),
            vcpus === null ? "-" : String(vcpus),
            // a domain xenstore has and the hypervisor does not: its records outlived it
            viewed ? (hv?.state ?? `(none) ${d.state}`) : d.state,
            ...(viewed ? [hv === undefined ? "-" : hv.cpuTimeS.toFixed(1)] : []),
          ]);
        }
        const align = ["left", "right", "right", "right", "left", "right"] as const;
        out(formatTable(rows, { align: [...align] }).join("\n") + "\n");
      });
    });
  examples(cmd, ["dxl list", "dxl list web 3", "dxl list --json"]);
}
