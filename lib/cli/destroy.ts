/**
 * `dxl destroy FILE`: remove the domains FILE declares (only those dxl created), showing
 * what goes and asking as `apply` does.
 *
 * @module
 */

import { examples, type GlobalOptions, type Program } from "./context.ts";
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
    .argument("<file>", "the domain script (TypeScript; default export: the config)")
    .option("-y, --yes", "do not ask (needed when stdin is not a terminal)")
    .option("--prune", "also remove domains dxl created that FILE does not declare")
    .option("--timeout <seconds>", "how long the backends have to close (default 10)")
    .option("--json", "print what was done as JSON (with --yes)");
  for (const option of scriptOptions()) cmd.addOption(option);
  cmd.action(async (file, opts, command) => {
    const globals: GlobalOptions = command.optsWithGlobals();
    await runPlan(file, opts, globals, { verb: "destroy" });
  });
  examples(cmd, [
    "dxl destroy scripts/examples/web.ts",
    "dxl destroy --yes --prune scripts/examples/fleet.ts",
  ]);
}
