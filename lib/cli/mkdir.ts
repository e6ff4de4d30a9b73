/**
 * `dxl mkdir PATH...`: creates nodes with empty values (and their missing parents).
 *
 * @module
 */

import { examples, type GlobalOptions, type Program, withStore } from "./context.ts";

/**
 * Registers `dxl mkdir` on the program.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProgram } from "./context.ts";
 * import { register } from "./mkdir.ts";
 * const program = createProgram();
 * register(program);
 * assert.match(program.commands[0]!.helpInformation(), /^Usage: dxl mkdir /);
 * ```
 */
export function register(program: Program): void {
  const cmd = program
    .command("mkdir")
    .description("create PATHs (empty value; missing parents too); existing ones are kept")
    .argument("<path...>", "xenstore paths")
    .action(async (paths, _opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      await withStore(globals, async ({ xs }) => {
        await xs.transaction(async (tx) => {
          for (const path of paths) await tx.mkdir(path);
        });
      });
    });
  examples(cmd, [
    "dxl mkdir /tool/mytool",
    "dxl mkdir /local/domain/1/data/a /local/domain/1/data/b",
  ]);
}
