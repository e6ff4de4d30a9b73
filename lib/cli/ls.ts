/**
 * `dxl ls [PATH]`: the tree below PATH exactly as `xenstore-ls -f -p PATH` prints it
 * (`--tree` for `xenstore-ls -p`'s indented form, `--no-perms` without `-p`, `--json`).
 *
 * @module
 */

import { formatTreeLine, type TreeNode, walkTree } from "../libxl/tree.ts";
import { formatPermissions } from "../protocol/mod.ts";
import { examples, type GlobalOptions, type Program, withStore } from "./context.ts";
import { out, toJson } from "./output.ts";
import { valueJson } from "./_value_json.ts";

/**
 * Registers `dxl ls` on the program.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProgram } from "./context.ts";
 * import { register } from "./ls.ts";
 * const program = createProgram();
 * register(program);
 * assert.match(program.commands[0]!.helpInformation(), /^Usage: dxl ls /);
 * ```
 */
export function register(program: Program): void {
  const cmd = program
    .command("ls")
    .description(
      "list the tree below PATH as `xenstore-ls -f -p PATH` prints it (values escaped as it " +
        "does; cut to the terminal width on a terminal, as it does)",
    )
    .argument("[path]", "xenstore path", "/")
    .option("--tree", "indented names, as `xenstore-ls -p` prints")
    .option("--no-perms", "without the permissions column (`xenstore-ls` without -p)")
    .option("--json", "one object per node: path, value, perms")
    .action(async (path, opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      await withStore(globals, async ({ xs }) => {
        const nodes = walkTree(xs, path, { perms: opts.perms });
        if (opts.json) {
          const list = [];
          for await (const node of nodes) list.push(nodeJson(node));
          out(toJson(list));
          return;
        }
        const width = terminalWidth(opts.tree ? 80 : Infinity);
        const lineOptions = { fullPath: !opts.tree, perms: opts.perms, width };
        let chunk = "";
        for await (const node of nodes) {
          chunk += formatTreeLine(node, lineOptions) + "\n";
          if (chunk.length > 65536) {
            out(chunk);
            chunk = "";
          }
        }
        out(chunk);
      });
    });
  examples(cmd, [
    "dxl ls /local/domain/0",
    "dxl ls --tree /libxl",
    "dxl ls --json /vm",
  ]);
}

/** `xenstore-ls` cuts lines to the terminal's width less 2; in a pipe, to `fallback`. */
function terminalWidth(fallback: number): number {
  if (!Deno.stdout.isTerminal()) return fallback;
  try {
    return Deno.consoleSize().columns - 2;
  } catch {
    return fallback;
  }
}

/** A node as JSON: path, value (see `valueJson`) and permissions. */
function nodeJson(node: TreeNode): Record<string, unknown> {
  const json: Record<string, unknown> = { path: node.path, ...valueJson(node.value) };
  if (node.perms !== undefined) json.perms = formatPermissions(node.perms).split(",");
  return json;
}
