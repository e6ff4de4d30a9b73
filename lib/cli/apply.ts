/**
 * `dxl apply FILE`: show the plan, ask (on a terminal, unless `--yes`), apply it in one
 * transaction, then one progress display while the backends connect.
 *
 * @module
 */

import { examples, type GlobalOptions, type Program } from "./context.ts";
import { runPlan } from "./_run_plan.ts";
import { scriptOptions } from "./_script.ts";

/**
 * Registers `dxl apply` on the program.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProgram } from "./context.ts";
 * import { register } from "./apply.ts";
 * const program = createProgram();
 * register(program);
 * assert.match(program.commands[0]!.helpInformation(), /^Usage: dxl apply /);
 * ```
 */
export function register(program: Program): void {
  const cmd = program
    .command("apply")
    .description(
      "make the live store match FILE: show the plan, ask, apply it in one transaction, " +
        "wait for the backends",
    )
    .argument("<file>", "the domain script (TypeScript; default export: the config)")
    .option("-y, --yes", "do not ask (needed when stdin is not a terminal)")
    .option("--prune", "also remove domains dxl created that FILE does not declare")
    .option("--timeout <seconds>", "how long the backends have to connect (default 10)")
    .option("--json", "print what was done as JSON (with --yes)");
  for (const option of scriptOptions()) cmd.addOption(option);
  cmd.action(async (file, opts, command) => {
    const globals: GlobalOptions = command.optsWithGlobals();
    await runPlan(file, { verb: "apply", flags: opts, globals });
  });
  examples(cmd, [
    "dxl apply scripts/examples/web.ts",
    "dxl apply --yes scripts/examples/fleet.ts",
    "dxl apply --yes --prune site.ts",
    "dxl apply --allow-read=scripts/examples/inventory.json scripts/examples/inventory.ts",
  ]);
}
