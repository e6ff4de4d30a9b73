/**
 * `dxl read PATH...`: values as `xenstore-read` prints them (escaped, one a line; `--raw`
 * for the bytes; `--prefix` for `path: value`; `--json`).
 *
 * @module
 */

import { escapeValue } from "../libxl/tree.ts";
import { examples, type GlobalOptions, type Program, withStore } from "./context.ts";
import { out, toJson } from "./output.ts";
import { valueJson } from "./_value_json.ts";

/**
 * Registers `dxl read` on the program.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProgram } from "./context.ts";
 * import { register } from "./read.ts";
 * const program = createProgram();
 * register(program);
 * assert.match(program.commands[0]!.helpInformation(), /^Usage: dxl read /);
 * ```
 */
export function register(program: Program): void {
  const cmd = program
    .command("read")
    .description("print the values at PATHs as `xenstore-read` does (escaped, one a line)")
    .argument("<path...>", "xenstore paths")
    .option("-p, --prefix", "print `path: value`")
    .option("-R, --raw", "print the bytes as stored, without escaping or newline")
    .option("--json", "a list of { path, value } (base64 with encoding when not UTF-8)")
    .action(async (paths, opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      await withStore(globals, async ({ xs }) => {
        // All reads in one transaction, as xenstore-read does: a consistent snapshot.
        const values = await xs.transaction((tx) =>
          Promise.all(paths.map((path) => tx.readBytes(path)))
        );
        if (opts.json) {
          out(toJson(paths.map((path, i) => ({ path, ...valueJson(values[i]) }))));
          return;
        }
        paths.forEach((path, i) => {
          const value = values[i] ?? new Uint8Array();
          if (opts.prefix) out(`${path}: `);
          if (opts.raw) out(value);
          else out(escapeValue(value) + "\n");
        });
      });
    });
  examples(cmd, [
    "dxl read /local/domain/0/name",
    "dxl read -p /vm/$UUID/name /vm/$UUID/uuid",
    "dxl read --json /local/domain/1/device/vif/0/mac",
  ]);
}
