/**
 * The `dxl` command's entry point: `deno task dxl <command> ...`.
 *
 * ## Adding a command
 * One file per subcommand in `lib/cli/`, named after it (`ls.ts`, `plan.ts`; xl's commands
 * `xl_<name>.ts`). The file exports `register(program: Program): void`, which adds the
 * command with `program.command(...)`, gives it a description, `examples(cmd, [...])` for its
 * `--help`, and an action. The action reads the global options with `cmd.optsWithGlobals()`,
 * talks to xenstore through `withStore(globals, async (store) => ...)` (which says on stderr
 * which xenstore it used), prints only through `out()`/`err()` of `output.ts` and signals
 * failure by throwing: a `UsageError` (or a library error for bad input: a missing domain, a
 * bad disk spec) exits 2, anything else 1; `setExitCode(3)` for "changes pending".
 * Then import its `register` below and add it to {@linkcode COMMANDS} (xl's commands and
 * `doctor` are listed in `xl_commands.ts`, owned by that part of the CLI).
 *
 * Exit codes: 0 ok, 1 error, 2 usage (unknown command or flag, bad input), 3 changes
 * pending (`plan --detailed-exitcode`).
 *
 * @module
 */

import { CommanderError } from "@commander-js/extra-typings";
import { createProgram, pendingExitCode, type Program, setExitCode } from "./context.ts";
import { ExitCode, exitCodeOf } from "./errors.ts";
import { err } from "./output.ts";
import { bindPermissionFlags } from "./_script.ts";
import { XL_COMMANDS } from "./xl_commands.ts";
import { register as registerPlan } from "./plan.ts";
import { register as registerApply } from "./apply.ts";
import { register as registerDestroy } from "./destroy.ts";
import { register as registerLs } from "./ls.ts";
import { register as registerRead } from "./read.ts";
import { register as registerWrite } from "./write.ts";
import { register as registerRm } from "./rm.ts";
import { register as registerMkdir } from "./mkdir.ts";
import { register as registerChmod } from "./chmod.ts";
import { register as registerWatch } from "./watch.ts";
import { register as registerServe } from "./serve.ts";
import { register as registerCompletions } from "./completions.ts";

/** The registration function of every subcommand, in `dxl --help` order. */
export const COMMANDS: readonly ((program: Program) => void)[] = [
  registerPlan,
  registerApply,
  registerDestroy,
  ...XL_COMMANDS,
  registerLs,
  registerRead,
  registerWrite,
  registerRm,
  registerMkdir,
  registerChmod,
  registerWatch,
  registerServe,
  registerCompletions,
];

/**
 * Builds the `dxl` program with every subcommand registered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildProgram } from "./main.ts";
 * assert.ok(buildProgram().commands.some((c) => c.name() === "ls"));
 * ```
 */
export function buildProgram(): Program {
  const program = createProgram();
  for (const register of COMMANDS) register(program);
  return program;
}

/**
 * Runs `dxl` with `args` (without the program name) and returns its exit code. Errors are
 * printed as one line on stderr.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./main.ts";
 * assert.equal(await main(["--no-such-flag"]), 2);
 * ```
 */
export async function main(args: readonly string[]): Promise<number> {
  setExitCode(ExitCode.Ok);
  const program = buildProgram();
  program.configureOutput({ writeErr: (text) => err(text.replace(/\n$/, "")) });
  try {
    await program.parseAsync(bindPermissionFlags(args), { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with exitCode 0; every other commander error is usage.
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    err(`dxl: ${error instanceof Error ? error.message : String(error)}`);
    return exitCodeOf(error);
  }
  return pendingExitCode();
}

if (import.meta.main) {
  // `deno task dxl` runs in the project's folder; paths on the command line are the user's.
  const initCwd = Deno.env.get("INIT_CWD");
  if (initCwd) Deno.chdir(initCwd);
  Deno.exit(await main(Deno.args));
}
