/**
 * Formats a xenstore tree the way `xenstore-ls -p` prints it: one line per node, indented by
 * depth, `name = "value"`, a dotted leader and the permissions. `scripts/demo.ts` prints it.
 *
 * @module
 */

import type { XenstoreOps } from "../lib/client/mod.ts";
import { formatPermissions, joinPath } from "../lib/protocol/mod.ts";

/** Options of {@linkcode formatTree}. */
export interface TreeOptions {
  /**
   * Line width; longer values are cut with `\...` as `xenstore-ls` does.
   * @default {80}
   */
  width?: number;
  /**
   * Show each node's permissions after a dotted leader.
   * @default {true}
   */
  perms?: boolean;
}

const TAG_LEN = ' = "..."'.length;
const LEADER_END = 60;

/**
 * Escapes a value as `xenstore-ls` prints it: control bytes as octal (`\000`), tab, newline
 * and CR as `\t` `\n` `\r`, a backslash doubled, bytes from 0x7f up as `\xNN`.
 *
 * @example
 * ```ts
 * import { sanitiseValue } from "./demo_tree.ts";
 * console.log(sanitiseValue(new Uint8Array([65, 0, 9, 92]))); // A\000\t\\
 * ```
 */
export function sanitiseValue(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    if (b === 0x5c) out += "\\\\";
    else if (b === 9) out += "\\t";
    else if (b === 10) out += "\\n";
    else if (b === 13) out += "\\r";
    else if (b < 0x20) out += "\\" + b.toString(8).padStart(3, "0");
    else if (b >= 0x7f) out += "\\x" + b.toString(16).padStart(2, "0");
    else out += String.fromCharCode(b);
  }
  return out;
}

/**
 * The lines `xenstore-ls -p PATH` prints for the subtree below `path` (not `path` itself).
 *
 * @example
 * ```ts ignore
 * import { connect } from "../lib/client/mod.ts";
 * import { formatTree } from "./demo_tree.ts";
 * await using xs = await connect();
 * for await (const line of formatTree(xs, "/local")) console.log(line);
 * ```
 */
export async function* formatTree(
  xs: XenstoreOps,
  path = "/",
  options: TreeOptions = {},
): AsyncGenerator<string> {
  const width = options.width ?? 80;
  const showPerms = options.perms ?? true;
  yield* walk(xs, path, 0, width, showPerms);
}

async function* walk(
  xs: XenstoreOps,
  path: string,
  depth: number,
  width: number,
  showPerms: boolean,
): AsyncGenerator<string> {
  for (const name of await xs.directory(path)) {
    const child = joinPath(path, name);
    let line = " ".repeat(depth) + name.slice(0, Math.max(0, width - TAG_LEN - depth));
    const value = await xs.readBytes(child).catch(() => undefined);
    if (value === undefined) {
      line += ":";
    } else if (width < line.length + value.length + TAG_LEN) {
      line += ` = "${
        sanitiseValue(value).slice(0, Math.max(0, width - TAG_LEN - line.length))
      }\\..."`;
    } else {
      line += ` = "${sanitiseValue(value)}"`;
      if (showPerms) {
        line += " ";
        for (let col = line.length; col < Math.min(LEADER_END, width); col++) {
          line += col % 2 === 1 ? "." : " ";
        }
      }
    }
    if (showPerms) line += `  (${formatPermissions(await xs.getPerms(child))})`;
    yield line;
    yield* walk(xs, child, depth + 1, width, showPerms);
  }
}
