/**
 * `dxl write PATH VALUE [PATH VALUE...]`: as `xenstore-write`, in one transaction, with C
 * escapes in VALUE (`\x1b`, `\n`, `\\`) unless `--raw`.
 *
 * @module
 */

import { unescapeValue } from "../libxl/tree.ts";
import { examples, type GlobalOptions, type Program, withStore } from "./context.ts";
import { UsageError } from "./errors.ts";

/**
 * Registers `dxl write` on the program.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProgram } from "./context.ts";
 * import { register } from "./write.ts";
 * const program = createProgram();
 * register(program);
 * assert.match(program.commands[0]!.helpInformation(), /^Usage: dxl write /);
 * ```
 */
export function register(program: Program): void {
  const cmd = program
    .command("write")
    .description("write VALUE at PATH (pairs, one transaction), as `xenstore-write` does")
    .argument("<path-value...>", "PATH VALUE pairs")
    .option("-R, --raw", "write VALUE as given (no \\ escapes)")
    .action(async (words, opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      if (words.length % 2 !== 0) {
        throw new UsageError(
          `write takes PATH VALUE pairs; "${words.at(-1)}" has no value`,
        );
      }
      const pairs: [string, Uint8Array][] = [];
      for (let i = 0; i < words.length; i += 2) {
        const path = words[i] ?? "";
        const text = words[i + 1] ?? "";
        pairs.push([path, opts.raw ? new TextEncoder().encode(text) : decode(text)]);
      }
      await withStore(globals, async ({ xs }) => {
        await xs.transaction(async (tx) => {
          for (const [path, value] of pairs) await tx.write(path, value);
        });
      });
    });
  examples(cmd, [
    "dxl write /local/domain/1/memory/target 524288",
    "dxl write /tool/a 'line\\nwith escape' /tool/b 2",
    "dxl write --raw /tool/c 'C:\\path'",
  ]);
}

function decode(text: string): Uint8Array {
  try {
    return unescapeValue(text);
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
}
