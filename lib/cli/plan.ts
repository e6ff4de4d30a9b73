/**
 * `dxl plan FILE`: what `apply` would do, as a terraform-like diff (`--json` for the plan as
 * data, `--detailed-exitcode` for 3 when there are changes).
 *
 * @module
 */

import { plan, planChanges, planJson, readLive } from "../config/mod.ts";
import { examples, type GlobalOptions, type Program, setExitCode, withStore } from "./context.ts";
import { ExitCode } from "./errors.ts";
import { err, out } from "./output.ts";
import { renderPlan } from "./_plan_view.ts";
import { loadScript, scriptOptions } from "./_script.ts";

/**
 * Registers `dxl plan` on the program.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProgram } from "./context.ts";
 * import { register } from "./plan.ts";
 * const program = createProgram();
 * register(program);
 * assert.match(program.commands[0]!.helpInformation(), /^Usage: dxl plan /);
 * ```
 */
export function register(program: Program): void {
  const cmd = program
    .command("plan")
    .description("show what `dxl apply FILE` would change, as a diff against the live store")
    .argument("<file>", "the domain script (TypeScript; default export: the config)")
    .option("--prune", "also remove domains dxl created that FILE does not declare")
    .option("--destroy", "plan `dxl destroy FILE` instead")
    .option("--json", "the plan as JSON")
    .option("--detailed-exitcode", "exit 3 when there are changes, 0 when none");
  for (const option of scriptOptions()) cmd.addOption(option);
  cmd.action(async (file, opts, command) => {
    const globals: GlobalOptions = command.optsWithGlobals();
    const config = await loadScript(file, opts as Parameters<typeof loadScript>[1]);
    await withStore(globals, async (store) => {
      const p = plan(config, await readLive(store.xs), {
        prune: opts.prune ?? false,
        destroy: opts.destroy ?? false,
      });
      const changes = planChanges(p).length;
      out(opts.json ? planJson(p) + "\n" : renderPlan(p, { subject: file }));
      const creates = p.actions.some((a) =>
        a.device === undefined &&
        (a.kind === "create" || a.kind === "replace" || a.kind === "remove")
      );
      if (creates && store.hypervisor === undefined && !globals.quiet) {
        err(`dxl: note: apply would stop: ${store.noHypervisorReason}`);
      }
      if (opts.detailedExitcode && changes > 0) setExitCode(ExitCode.ChangesPending);
    });
  });
  examples(cmd, [
    "dxl plan scripts/examples/web.ts",
    "dxl plan --json scripts/examples/fleet.ts",
    "dxl plan --detailed-exitcode site.ts || echo 'changes pending (3) or error'",
    "dxl plan --allow-read=scripts/examples/inventory.json scripts/examples/inventory.ts",
  ]);
}
