/**
 * `dxl devices DOMAIN`: a domain's devices from its `/libxl` records only (never from what
 * the guest wrote), with each backend's state.
 *
 * @module
 */

import { listDevices } from "../libxl/device_list.ts";
import { examples, type GlobalOptions, type Program, withStore } from "./context.ts";
import { formatTable, out, toJson } from "./output.ts";
import { deviceRow, resolveDomainArg } from "./xl_common.ts";

/** Registers `dxl devices`. */
export function register(program: Program): void {
  const cmd = program
    .command("devices")
    .description(
      "list a domain's devices (disks, nics, consoles, ...) from its /libxl records only, " +
        "with the state of each backend",
    )
    .argument("<domain>", "domain name or id")
    .option(
      "--json",
      "an array of {kind, devid, backendDomid, backendKind, state, stateName, details, frontend, backend}",
    )
    .action(async (domain, opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      await withStore(globals, async ({ xs }) => {
        const domid = await resolveDomainArg(xs, domain);
        const records = await listDevices(xs, domid);
        const rows = await Promise.all(records.map((r) => deviceRow(xs, r)));
        if (opts.json) {
          out(toJson(rows));
          return;
        }
        const table = [["Kind", "Devid", "BE", "State", "Details"]];
        for (const r of rows) {
          table.push([
            r.backendKind === r.kind ? r.kind : `${r.kind}/${r.backendKind}`,
            String(r.devid),
            String(r.backendDomid),
            r.state === null ? "-" : `${r.state} (${r.stateName ?? "?"})`,
            r.details,
          ]);
        }
        out(
          formatTable(table, { align: ["left", "right", "right"] }).map((l) => l.trimEnd()).join(
            "\n",
          ) + "\n",
        );
      });
    });
  examples(cmd, ["dxl devices web", "dxl devices 3 --json"]);
}
