/**
 * `dxl chmod PATH PERM...`: as `xenstore-chmod`: permissions in its syntax (`n0 r7`: the
 * first entry is the owner and everyone's default; `n` none, `r` read, `w` write, `b` both),
 * `--recursive` for the subtree, `--upto` for every ancestor too.
 *
 * @module
 */

import { parsePermission, type Permission } from "../protocol/mod.ts";
import type { Transaction } from "../client/mod.ts";
import { examples, type GlobalOptions, type Program, withStore } from "./context.ts";
import { UsageError } from "./errors.ts";

/**
 * Registers `dxl chmod` on the program.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProgram } from "./context.ts";
 * import { register } from "./chmod.ts";
 * const program = createProgram();
 * register(program);
 * assert.match(program.commands[0]!.helpInformation(), /^Usage: dxl chmod /);
 * ```
 */
export function register(program: Program): void {
  const cmd = program
    .command("chmod")
    .description(
      "set the permissions of PATH, as `xenstore-chmod` does: PERM is a letter (n none, r " +
        "read, w write, b both) and a domid; the first names the owner and everyone's default",
    )
    .argument("<path>", "xenstore path")
    .argument("<perm...>", "permissions, e.g. n0 r7")
    .option("-r, --recursive", "also every node below PATH")
    .option("-u, --upto", "also every ancestor of PATH (not the root)")
    .action(async (path, words, opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      const perms = words.map((word) => {
        try {
          return parsePermission(word);
        } catch (error) {
          throw new UsageError((error as Error).message, { cause: error });
        }
      });
      await withStore(globals, async ({ xs }) => {
        await xs.transaction(async (tx) => {
          if (opts.upto) {
            for (let i = path.indexOf("/", 1); i > 0; i = path.indexOf("/", i + 1)) {
              await tx.setPerms(path.slice(0, i), perms);
            }
          }
          await setTree(tx, path, perms, opts.recursive ?? false);
        });
      });
    });
  examples(cmd, [
    "dxl chmod /local/domain/7/data n7 r0",
    "dxl chmod -r /tool/mytool n0 r7",
    "dxl chmod -u /local/domain/7/a/b b7",
  ]);
}

async function setTree(
  tx: Transaction,
  path: string,
  perms: Permission[],
  recursive: boolean,
): Promise<void> {
  await tx.setPerms(path, perms);
  if (!recursive) return;
  for (const name of await tx.directory(path)) {
    await setTree(tx, path === "/" ? `/${name}` : `${path}/${name}`, perms, true);
  }
}
