/**
 * `dxl sysrq DOMAIN KEY`: xl's `sysrq` — the key in `~/control/sysrq`.
 *
 * @module
 */

import { sendSysrq } from "../libxl/domain_control.ts";
import { examples, type GlobalOptions, type Program, withStore } from "./context.ts";
import { UsageError } from "./errors.ts";
import { out, toJson } from "./output.ts";
import { resolveDomainArg } from "./xl_common.ts";

/** Registers `dxl sysrq`. */
export function register(program: Program): void {
  const cmd = program
    .command("sysrq")
    .description("send a SysRq key to a domain as `xl sysrq` does (~/control/sysrq)")
    .argument("<domain>", "domain name or id")
    .argument("<key>", "one letter: b reboot, s sync, h help, ...")
    .option("--json", "print {domid, key}")
    .action(async (domain, key, opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      if (!/^[\x21-\x7e]$/.test(key)) {
        throw new UsageError(`Only one sysrq letter allowed, got ${JSON.stringify(key)}`);
      }
      await withStore(globals, async ({ xs }) => {
        const domid = await resolveDomainArg(xs, domain);
        await sendSysrq(xs, domid, { key });
        if (opts.json) out(toJson({ domid, key }));
      });
    });
  examples(cmd, ["dxl sysrq web s", "dxl sysrq 3 h"]);
}
