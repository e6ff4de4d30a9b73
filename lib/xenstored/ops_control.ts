/**
 * CONTROL (`xenstore-control`): `check`, `help`, `log`, `logfile`, `memreport`, `print`,
 * `quota` and `quota-soft`, answered as C xenstored 4.17 answers them; and the embedded
 * server's own `dxl-domain` (see `ops_dxl_domain.ts`), which `help` does not list.
 *
 * @module
 */

import { Errno } from "./access.ts";
import { atou, getStrings } from "./_bytes.ts";
import type { RequestContext } from "./context.ts";
import { isQuotaName, QUOTA_DESCRIPTIONS } from "./quotas.ts";
import { DXL_DOMAIN_COMMAND, dxlDomain } from "./ops_dxl_domain.ts";

const COMMANDS: readonly (readonly [string, string])[] = [
  ["check", ""],
  ["log", "on|off"],
  ["logfile", "<file>"],
  ["memreport", "[<file>]"],
  ["print", "<string>"],
  ["quota", "[set <name> <val>|<domid>]"],
  ["quota-soft", "[set <name> <val>]"],
  ["help", ""],
];

/** C's default of `quota-soft memory`. */
export const SOFT_MEMORY_DEFAULT = 2 * 1024 * 1024;

/** CONTROL `cmd|arg|...|` → command-specific text, or OK. */
export function doControl(ctx: RequestContext): void {
  const core = ctx.server;
  const payload = ctx.req.payload;
  if (payload.indexOf(0) < 0) throw new Errno("EINVAL");
  const [cmd, ...args] = getStrings(payload) as [string, ...string[]];
  const text = (s: string) => ctx.reply([s, "\0"]);
  const okReply = () => ctx.reply(["OK\0"]);
  switch (cmd) {
    case "check":
    case "log":
    case "logfile":
    case "memreport":
    case "print":
      okReply();
      return;
    case "help":
      if (args.length > 0) throw new Errno("EINVAL");
      text(COMMANDS.map(([c, p]) => `${c}\t${p}\n`).join(""));
      return;
    case "quota": {
      if (args.length === 0) {
        let s = "Quota settings:\n";
        for (const [name, descr] of QUOTA_DESCRIPTIONS) {
          s += `${name.padEnd(17)}: ${String(core.quotas[name]).padStart(8)} ${descr}\n`;
        }
        text(s);
        return;
      }
      if (args[0] === "set") {
        const [name, value] = args.slice(1);
        const v = Number.parseInt(value ?? "", 10);
        if (args.length !== 3 || name === undefined || !isQuotaName(name) || !(v >= 1)) {
          throw new Errno("EINVAL");
        }
        core.quotas[name] = v;
        okReply();
        return;
      }
      if (args.length !== 1) throw new Errno("EINVAL");
      const domid = atou(args[0] as string);
      const d = core.domains.find(domid);
      if (d === undefined) throw new Errno("ENOENT");
      let ta = 0;
      for (const c of core.connections) if (c.domain === d) ta += c.transactions.size;
      const row = (n: string, v: number) => `${n.padEnd(16)}: ${String(v).padStart(8)}\n`;
      text(
        `Domain ${domid}:\n${row("nodes", d.nbentry)}${row("watches", d.nbwatch)}${
          row("transactions", ta)
        }${row("outstanding", 0)}${row("memory", d.memory)}`,
      );
      return;
    }
    case "quota-soft": {
      if (args.length === 0) {
        text(
          `Quota settings:\n${"memory".padEnd(17)}: ${
            String(core.softMemory).padStart(8)
          } Total Xenstore memory per domain (warning level)\n`,
        );
        return;
      }
      const v = Number.parseInt(args[2] ?? "", 10);
      if (args[0] !== "set" || args.length !== 3 || args[1] !== "memory" || !(v >= 1)) {
        throw new Errno("EINVAL");
      }
      core.softMemory = v;
      okReply();
      return;
    }
    case DXL_DOMAIN_COMMAND:
      text(dxlDomain(ctx, args));
      return;
    default:
      throw new Errno("EINVAL");
  }
}
