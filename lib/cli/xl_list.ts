/**
 * `dxl list [DOMAIN...]`: xl's `list` from xenstore — Name ID Mem VCPUs State — for dom0
 * and every domain the toolstack made (those with a `/libxl` record).
 *
 * @module
 */

import type { XenstoreClient } from "../client/mod.ts";
import { listDomains } from "../libxl/domain.ts";
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
}

/**
 * Reads what `dxl list` prints, in id order: dom0 (when `/local/domain/0` exists), then
 * every domain with a `/libxl` record.
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
export async function readDomainList(xs: XenstoreClient): Promise<ListedDomain[]> {
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
    };
  }));
}

/** Registers `dxl list`. */
export function register(program: Program): void {
  const cmd = program
    .command("list")
    .description(
      "list domains as `xl list` does (Name ID Mem VCPUs State), from xenstore: dom0 and the " +
        "domains with a /libxl record; State is what xenstore shows (active = introduced to " +
        "xenstored, inactive, shutdown:<request> while a shutdown request is pending)",
    )
    .argument("[domain...]", "only these domains (names or ids)")
    .option("--json", "an array of {name, domid, memMb, vcpus, state, uuid, type}")
    .action(async (domains, opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      await withStore(globals, async ({ xs }) => {
        let list = await readDomainList(xs);
        if (domains.length > 0) {
          const wanted = new Set<number>();
          for (const d of domains) wanted.add(await resolveDomainArg(xs, d));
          list = list.filter((d) => wanted.has(d.domid));
        }
        if (opts.json) {
          out(toJson(list));
          return;
        }
        const rows = [["Name", "ID", "Mem", "VCPUs", "State"]];
        for (const d of list) {
          rows.push([
            d.name,
            String(d.domid),
            d.memMb === null ? "-" : String(d.memMb),
            d.vcpus === null ? "-" : String(d.vcpus),
            d.state,
          ]);
        }
        out(formatTable(rows, { align: ["left", "right", "right", "right"] }).join("\n") + "\n");
      });
    });
  examples(cmd, ["dxl list", "dxl list web 3", "dxl list --json"]);
}
