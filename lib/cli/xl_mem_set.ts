/**
 * `dxl mem-set DOMAIN MEM`: xl's `mem-set` — the memory target in xenstore
 * (`~/memory/target` and `/vm/<uuid>/memory`) and, on a Xen host, the hypervisor's memory
 * limit; MEM in xl's units.
 *
 * @module
 */

import { examples, type GlobalOptions, type Program, withStore } from "./context.ts";
import { UsageError } from "./errors.ts";
import { out, toJson } from "./output.ts";
import { resolveDomainArg } from "./xl_common.ts";
import { setHostMemoryTarget } from "../xen/host_memory.ts";
import { withMemoryTarget } from "../xen/libxl_config.ts";
import { updateHostConfig } from "./_host.ts";

/**
 * A memory size as xl reads it (`parse_mem_size_kb`): a decimal number with at most one
 * suffix letter, `b`, `k`, `m` (the default), `g` or `t`, case-insensitive; in KiB (bytes
 * rounded down). Throws a {@linkcode UsageError} naming the value otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMemSizeKb } from "./xl_mem_set.ts";
 * assert.equal(parseMemSizeKb("512"), 524288);
 * assert.equal(parseMemSizeKb("1g"), 1048576);
 * assert.equal(parseMemSizeKb("2048k"), 2048);
 * assert.throws(() => parseMemSizeKb("1gb"), /invalid memory size: "1gb"/);
 * ```
 */
export function parseMemSizeKb(text: string): number {
  const m = /^([0-9]+)([bkmgtBKMGT]?)$/.exec(text);
  if (m === null) {
    throw new UsageError(
      `invalid memory size: ${
        JSON.stringify(text)
      } (a number with an optional unit b, k, m, g or t; m is the default)`,
    );
  }
  const n = BigInt(m[1]!);
  const kb = (() => {
    switch (m[2]!.toLowerCase()) {
      case "b":
        return n >> 10n;
      case "k":
        return n;
      case "":
      case "m":
        return n << 10n;
      case "g":
        return n << 20n;
      default:
        return n << 30n;
    }
  })();
  if (kb > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new UsageError(`invalid memory size: ${JSON.stringify(text)} is too large`);
  }
  return Number(kb);
}

/** Registers `dxl mem-set`. */
export function register(program: Program): void {
  const cmd = program
    .command("mem-set")
    .description(
      "set a domain's memory target as `xl mem-set` does (in xenstore: ~/memory/target and " +
        "/vm/<uuid>/memory; the balloon driver in the guest follows it); MEM in MiB, or with " +
        "a unit b, k, m, g, t",
    )
    .argument("<domain>", "domain name or id")
    .argument("<mem>", "the new target, e.g. 512, 512m, 1g, 262144k")
    .option("--json", "print {domid, targetKb, vmMemoryMb}")
    .action(async (domain, mem, opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      const targetKb = parseMemSizeKb(mem);
      await withStore(globals, async ({ xs, host }) => {
        const domid = await resolveDomainArg(xs, domain);
        let result;
        try {
          // on a Xen host the hypervisor's limit follows (xc_domain_setmaxmem), as libxl's
          // enforce does
          result = await setHostMemoryTarget(xs, domid, { targetKb, hypervisor: host?.hypervisor });
        } catch (error) {
          // libxl's refusals (above static-max, dom0 below 128 MiB) are the caller's input.
          if (error instanceof RangeError) throw new UsageError(error.message, { cause: error });
          throw error;
        }
        // on a Xen host libxl's config file gets the target (max_memkb stays: libxl reads it
        // from ~/memory/static-max, which mem-set does not change)
        await updateHostConfig({ xs, host }, domid, (c) => withMemoryTarget(c, targetKb));
        if (opts.json) out(toJson({ domid, ...result }));
      });
    });
  examples(cmd, ["dxl mem-set web 512", "dxl mem-set 3 1g"]);
}
