/**
 * `dxl doctor [--fix]`: what interrupted runs left in xenstore and what breaks XSA-175's
 * trust rules; `--fix` removes the provably stale part in one transaction and prints each
 * removal.
 *
 * @module
 */

import { doctor, type DoctorReport } from "../libxl/doctor.ts";
import { examples, type GlobalOptions, type Program, withStore } from "./context.ts";
import { err, out, paint, toJson } from "./output.ts";
import { domainLister } from "./xl_common.ts";

/**
 * The text `dxl doctor` prints for a report: one line per finding (severity, kind, message),
 * one per removal, and a summary line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDoctorReport } from "./doctor.ts";
 * assert.equal(
 *   formatDoctorReport({ findings: [], changes: [], usedDomainList: false }),
 *   "doctor: nothing to report\n",
 * );
 * ```
 */
export function formatDoctorReport(report: DoctorReport): string {
  const lines: string[] = [];
  const style = { stale: "yellow", violation: "red", warning: "cyan" } as const;
  for (const f of report.findings) {
    lines.push(
      `${paint(style[f.severity], f.severity.padEnd(9))} ${f.kind.padEnd(24)} ${f.message}`,
    );
  }
  for (const c of report.changes) lines.push(`removed   ${c.path}`);
  const count = (s: string) => report.findings.filter((f) => f.severity === s).length;
  const fixable = report.findings.filter((f) => f.removes.length > 0).length;
  if (report.findings.length === 0) {
    lines.push("doctor: nothing to report");
  } else {
    lines.push(
      `doctor: ${report.findings.length} finding(s): ${count("stale")} stale, ${
        count("violation")
      } violation(s), ${count("warning")} warning(s); ${
        report.changes.length > 0 || fixable === 0
          ? `${report.changes.length} node(s) removed`
          : `${fixable} fixable with --fix`
      }`,
    );
  }
  return lines.join("\n") + "\n";
}

/** Registers `dxl doctor`. */
export function register(program: Program): void {
  const cmd = program
    .command("doctor")
    .description(
      "check xenstore for what interrupted runs left (stale /libxl, /vm and domain homes, " +
        "backends no /libxl record names, emptied parents, domains without records) and for " +
        "XSA-175 violations (guest-accessible /libxl, redirected frontends, guest-owned " +
        "backend nodes); --fix removes only what is provably stale, in one transaction",
    )
    .option("--fix", "remove what is provably stale and print each removal")
    .option("--json", "print {findings, changes, usedDomainList}")
    .action(async (opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      await withStore(globals, async ({ xs, hypervisor }) => {
        let listDomains = domainLister(hypervisor);
        if (listDomains !== undefined) {
          try {
            await listDomains();
          } catch (error) {
            // e.g. a C or OCaml xenstored asked for dxl serve's domain table.
            err(
              `dxl: no domain list from the hypervisor (${
                error instanceof Error ? error.message : String(error)
              }): dead domains are reported, not removed`,
            );
            listDomains = undefined;
          }
        }
        const report = await doctor(xs, {
          fix: opts.fix === true,
          ...(listDomains === undefined ? {} : { listDomains }),
        });
        out(opts.json ? toJson(report) : formatDoctorReport(report));
      });
    });
  examples(cmd, ["dxl doctor", "dxl doctor --fix", "dxl doctor --json"]);
}
