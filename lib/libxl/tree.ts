/**
 * A subtree printed the way `xenstore-ls -f -p` prints it (one node a line,
 * `path = "value"   (perms)`), for comparing stores with captures of real tools.
 *
 * @module
 */

import { formatPermissions } from "../protocol/perms.ts";
import type { XenstoreOps } from "../client/types.ts";
import { isErrno } from "./store.ts";

/** Escapes a value as `xenstore-ls` does (`sanitise_value` in `xenstore_client.c`). */
function quote(value: Uint8Array): string {
  let out = "";
  for (const byte of value) {
    if (byte === 0x5c) out += "\\\\";
    else if (byte === 0x09) out += "\\t";
    else if (byte === 0x0a) out += "\\n";
    else if (byte === 0x0d) out += "\\r";
    else if (byte < 0o10) out += `\\${byte.toString(8).padStart(3, "0")}`;
    else if (byte < 0x20 || byte > 0x7e) out += `\\x${byte.toString(16).padStart(2, "0")}`;
    else out += String.fromCharCode(byte);
  }
  return out;
}

/** Options of {@linkcode formatTree}. */
export interface FormatTreeOptions {
  /** Include the root node's own line (`xenstore-ls` prints only its descendants). @default {true} */
  root?: boolean;
}

/**
 * Lists `path` and its descendants depth-first in the server's DIRECTORY order, one line per
 * node: `/full/path = "value"   (n0,r1)`, each line ending in a newline. Returns `""` when the
 * node does not exist.
 *
 * @example
 * ```ts ignore
 * import { formatTree } from "./tree.ts";
 * console.log(await formatTree(xs, "/libxl/1"));
 * ```
 */
export async function formatTree(
  ops: XenstoreOps,
  path: string,
  options: FormatTreeOptions = {},
): Promise<string> {
  const lines: string[] = [];
  const visit = async (node: string, print: boolean): Promise<boolean> => {
    let value: Uint8Array;
    try {
      value = await ops.readBytes(node);
    } catch (error) {
      if (isErrno(error, "ENOENT")) return false;
      throw error;
    }
    if (print) {
      const perms = formatPermissions(await ops.getPerms(node));
      lines.push(`${node} = "${quote(value)}"   (${perms})\n`);
    }
    let children: string[];
    try {
      children = await ops.directory(node);
    } catch {
      return true;
    }
    for (const child of children) {
      await visit(node === "/" ? `/${child}` : `${node}/${child}`, true);
    }
    return true;
  };
  await visit(path, options.root ?? true);
  return lines.join("");
}
