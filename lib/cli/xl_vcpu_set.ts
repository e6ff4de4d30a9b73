/**
 * `dxl vcpu-set DOMAIN N`: xl's `vcpu-set` — the first N vCPUs online, the rest offline
 * (`~/cpu/<n>/availability`).
 *
 * @module
 */

import { setVcpusOnline } from "../libxl/domain_resources.ts";
import { examples, type GlobalOptions, type Program, withStore } from "./context.ts";
import { UsageError } from "./errors.ts";
import { out, toJson } from "./output.ts";
import { resolveDomainArg } from "./xl_common.ts";

/** Registers `dxl vcpu-set`. */
export function register(program: Program): void {
  const cmd = program
    .command("vcpu-set")
    .description(
      "set how many vCPUs are online as `xl vcpu-set` does (~/cpu/<n>/availability: the " +
        "first N online, the others offline; no more than the domain was created with)",
    )
    .argument("<domain>", "domain name or id")
    .argument("<vcpus>", "how many vCPUs are online")
    .option("--json", "print {domid, online}")
    .action(async (domain, count, opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      if (!/^[0-9]+$/.test(count) || Number(count) < 1) {
        throw new UsageError(`Invalid vCPU count ${JSON.stringify(count)}: give a number from 1`);
      }
      await withStore(globals, async ({ xs }) => {
        const domid = await resolveDomainArg(xs, domain);
        let online: number[];
        try {
          online = await setVcpusOnline(xs, domid, { vcpus: Number(count) });
        } catch (error) {
          if (error instanceof RangeError) throw new UsageError(error.message, { cause: error });
          throw error;
        }
        if (opts.json) out(toJson({ domid, online }));
      });
    });
  examples(cmd, ["dxl vcpu-set web 2", "dxl vcpu-set 3 1"]);
}
