/**
 * `dxl destroy FILE`: remove the domains FILE declares (only those dxl created), showing
 * what goes and asking as `apply` does. `dxl destroy DOMAIN` (an argument that is not a
 * script) is xl's `destroy`, in `xl_destroy.ts`.
 *
 * @module
 */

import { examples, type GlobalOptions, type Program, withStore } from "./context.ts";
import { out, toJson } from "./output.ts";
import { destroyDomainArg, isScriptArgument } from "./xl_destroy.ts";
import { parseTimeout } from "./xl_common.ts";
import { runPlan } from "./_run_plan.ts";
import { scriptOptions } from "./_script.ts";

/**
 * Registers `dxl destroy` on the program.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProgram } from "./context.ts";
 * import { register } from "./destroy.ts";
 * const program = createProgram();
 * register(program);
 * assert.match(program.commands[0]!.helpInformation(), /^Usage: dxl destroy /);
 * ```
 */
export function register(program: Program): void {
  const cmd = program
    .command("destroy")
    .description(
      "remove the domains FILE declares (only ones dxl created): show them, ask, remove " +
        "them and their devices",
    )
    .argument(
      "<file>",
      "the domain script (TypeScript; default export: the config); or, as `xl destroy`, " +
        "a domain name or id",
    )
    .option("-y, --yes", "do not ask (needed when stdin is not a terminal)")
    .option("--prune", "also remove domains dxl created that FILE does not declare")
    .option("--timeout <seconds>", "how long the backends have to close (default 10)")
    .option("--json", "print what was done as JSON (with --yes)");
  for (const option of scriptOptions()) cmd.addOption(option);
  cmd.action(async (file, opts, command) => {
    const globals: GlobalOptions = command.optsWithGlobals();
    if (!isScriptArgument(file)) {
      // xl's `destroy DOMAIN`: no plan, no question, as xl.
      const timeout = opts.timeout === undefined ? {} : { timeoutMs: parseTimeout(opts.timeout) };
      const result = await withStore(globals, (store) => destroyDomainArg(store, file, timeout));
      if (opts.json) out(toJson(result));
      return;
    }
    await runPlan(file, { verb: "destroy", flags: opts, globals });
  });
  examples(cmd, [
    "dxl destroy scripts/examples/web.ts",
    "dxl destroy --yes --prune scripts/examples/fleet.ts",
    "dxl destroy web   # xl destroy: the domain named web",
  ]);
}
