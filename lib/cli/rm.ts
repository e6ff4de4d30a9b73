/**
 * `dxl rm PATH...`: as `xenstore-rm` (with `--tidy`: then empty, value-less parents too),
 * in one transaction.
 *
 * @module
 */

import { examples, type GlobalOptions, type Program, withStore } from "./context.ts";

/**
 * Registers `dxl rm` on the program.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProgram } from "./context.ts";
 * import { register } from "./rm.ts";
 * const program = createProgram();
 * register(program);
 * assert.match(program.commands[0]!.helpInformation(), /^Usage: dxl rm /);
 * ```
 */
export function register(program: Program): void {
  const cmd = program
    .command("rm")
    .description("remove PATHs and everything below them, as `xenstore-rm` does")
    .argument("<path...>", "xenstore paths")
    .option("-t, --tidy", "then remove each parent left with no children and an empty value")
    .action(async (paths, opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      await withStore(globals, async ({ xs }) => {
        await xs.transaction(async (tx) => {
          for (const path of paths) {
            await tx.rm(path);
            if (!opts.tidy) continue;
            for (let parent = parentOf(path); parent !== undefined; parent = parentOf(parent)) {
              const value = await tx.tryRead(parent);
              if (value !== "" || (await tx.directory(parent)).length > 0) break;
              await tx.rm(parent);
            }
          }
        });
      });
    });
  examples(cmd, ["dxl rm /tool/scratch", "dxl rm -t /tool/scratch/a/b"]);
}

/** `/a/b` → `/a`; `/a` and `/` → undefined (the root is never removed). */
function parentOf(path: string): string | undefined {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? undefined : path.slice(0, slash);
}
