/**
 * The one xenstore tree printer: lines exactly as `xenstore-ls` prints them, with
 * `-f` (full paths) or indented, with or without `-p` (permissions), including its escaping
 * of values and its cutting of long lines to the terminal width.
 *
 * @module
 */

import { formatPermissions, type Permission } from "../protocol/mod.ts";
import type { XenstoreOps } from "../client/types.ts";
import { isErrno } from "./store.ts";

/** `strlen(" = \"...\"")`: what a value adds around itself. */
const TAG_LEN = 8;
/** The permission column starts here (indented form). */
const LEADER_END = 60;

/**
 * Escapes a value as `xenstore-ls` does: printable ASCII except `\` as is; tab, newline and
 * CR as `\t` `\n` `\r`; `\` doubled; bytes 0x00-0x07 as three octal digits (`\000`); every
 * other byte (0x08-0x1f, 0x7f-0xff) as `\xNN`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeValue } from "./tree.ts";
 * assert.equal(escapeValue(new Uint8Array([65, 0, 9, 0x1b, 92, 0xc8])), "A\\000\\t\\x1b\\\\\\xc8");
 * ```
 */
export function escapeValue(value: Uint8Array): string {
  let out = "";
  for (const byte of value) {
    if (byte === 0x5c) out += "\\\\";
    else if (byte >= 0x20 && byte <= 0x7e) out += String.fromCharCode(byte);
    else if (byte === 0x09) out += "\\t";
    else if (byte === 0x0a) out += "\\n";
    else if (byte === 0x0d) out += "\\r";
    else if (byte < 0o10) out += `\\${byte.toString(8).padStart(3, "0")}`;
    else out += `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return out;
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b,
  "\\": 0x5c,
  "'": 0x27,
  '"': 0x22,
  "?": 0x3f,
};

/**
 * The bytes a value typed with C escapes stands for, as `xenstore-write` reads its values:
 * `\\`, `\n`, `\t`, `\r`, `\a`, `\b`, `\f`, `\v`, `\'`, `\"`, `\?`, octal `\NNN` (1-3
 * digits) and `\xHH` (1-2 hex digits); everything else is UTF-8. Reverses
 * {@linkcode escapeValue}. Throws `TypeError` naming a bad escape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeValue, unescapeValue } from "./tree.ts";
 * assert.deepEqual(unescapeValue("a\\x41\\101\\n"), new Uint8Array([0x61, 0x41, 0x41, 0x0a]));
 * const all = Uint8Array.from({ length: 256 }, (_, i) => i);
 * assert.deepEqual(unescapeValue(escapeValue(all)), all);
 * assert.throws(() => unescapeValue("a\\q"), /Bad escape "\\q"/);
 * ```
 */
export function unescapeValue(text: string): Uint8Array {
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  let i = 0;
  while (i < text.length) {
    const slash = text.indexOf("\\", i);
    const end = slash === -1 ? text.length : slash;
    if (end > i) bytes.push(...encoder.encode(text.slice(i, end)));
    if (slash === -1) break;
    const next = text.charAt(slash + 1);
    const simple = SIMPLE_ESCAPES[next];
    let match: RegExpMatchArray | null;
    if (simple !== undefined) {
      bytes.push(simple);
      i = slash + 2;
    } else if ((match = text.slice(slash + 1).match(/^[0-7]{1,3}/)) !== null) {
      bytes.push(parseInt(match[0], 8) & 0xff);
      i = slash + 1 + match[0].length;
    } else if ((match = text.slice(slash + 1).match(/^x([0-9a-fA-F]{1,2})/)) !== null) {
      bytes.push(parseInt(match[1] ?? "", 16));
      i = slash + 1 + match[0].length;
    } else {
      throw new TypeError(
        `Bad escape "${
          text.slice(slash, slash + 2)
        }" in "${text}": use \\\\, \\n, \\t, \\r, \\NNN (octal) or \\xHH`,
      );
    }
  }
  return new Uint8Array(bytes);
}

/** One node met by {@linkcode walkTree}. */
export interface TreeNode {
  /** Its full path. */
  path: string;
  /** Its name (last path component; `"/"` for the root). */
  name: string;
  /** Depth below the walk's start (its children are 0). */
  depth: number;
  /** Its value, or `undefined` when it could not be read (gone meanwhile). */
  value: Uint8Array | undefined;
  /** Its permissions, or `undefined` when not asked for or not readable. */
  perms: Permission[] | undefined;
}

/** Options of {@linkcode walkTree}. */
export interface WalkTreeOptions {
  /** Fetch each node's permissions. @default {true} */
  perms?: boolean;
  /** Also yield `path` itself first (at depth -1). @default {false} */
  root?: boolean;
}

/**
 * The nodes below `path` depth-first in the server's DIRECTORY order, as `xenstore-ls` walks
 * them: a node that vanishes during the walk is skipped. Rejects with the server's error
 * (`ENOENT`, ...) when `path` itself cannot be listed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { walkTree } from "./tree.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * {
 *   await using xsd = await startXenstored({ dir });
 *   await using xs = await connect({ path: xsd.socket });
 *   await xs.write("/a/b", "1");
 *   const paths = [];
 *   for await (const node of walkTree(xs, "/a")) paths.push(node.path);
 *   assert.deepEqual(paths, ["/a/b"]);
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function* walkTree(
  ops: XenstoreOps,
  path: string,
  options: WalkTreeOptions = {},
): AsyncGenerator<TreeNode> {
  const wantPerms = options.perms ?? true;
  if (options.root) {
    const root = await readNode(ops, path, -1, wantPerms);
    if (root === undefined) return;
    yield root;
  }
  yield* walkChildren(ops, path, 0, wantPerms, await ops.directory(path));
}

async function* walkChildren(
  ops: XenstoreOps,
  path: string,
  depth: number,
  wantPerms: boolean,
  names: string[],
): AsyncGenerator<TreeNode> {
  for (const name of names) {
    const child = path.endsWith("/") ? path + name : `${path}/${name}`;
    // The three requests go out together; the client matches the replies.
    const [node, children] = await Promise.all([
      readNode(ops, child, depth, wantPerms),
      ops.directory(child).catch((error) => {
        if (isErrno(error, "ENOENT")) return undefined;
        throw error;
      }),
    ]);
    if (node === undefined) continue;
    yield node;
    if (children !== undefined) yield* walkChildren(ops, child, depth + 1, wantPerms, children);
  }
}

async function readNode(
  ops: XenstoreOps,
  path: string,
  depth: number,
  wantPerms: boolean,
): Promise<TreeNode | undefined> {
  const missing = (error: unknown) => {
    if (isErrno(error, "ENOENT")) return undefined;
    throw error;
  };
  const [value, perms] = await Promise.all([
    ops.readBytes(path).catch(missing),
    wantPerms ? ops.getPerms(path).catch(missing) : undefined,
  ]);
  if (value === undefined && perms === undefined && wantPerms) return undefined;
  const name = path === "/" ? "/" : path.slice(path.lastIndexOf("/") + 1);
  return { path, name, depth, value, perms };
}

/** Options of {@linkcode formatTreeLine}. */
export interface TreeLineOptions {
  /** Full paths (`xenstore-ls -f`) instead of names indented by depth. @default {true} */
  fullPath?: boolean;
  /** Append the permissions (`xenstore-ls -p`). @default {true} */
  perms?: boolean;
  /**
   * Line width: longer values (and, indented, names) are cut with `\...` as `xenstore-ls`
   * does on a terminal of `width + 2` columns. @default {Infinity}
   */
  width?: number;
}

/**
 * The line `xenstore-ls` prints for one node, without the newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTreeLine } from "./tree.ts";
 * const node = {
 *   path: "/local/domain/0/name", name: "name", depth: 2,
 *   value: new TextEncoder().encode("Domain-0"), perms: [{ domid: 0, access: "none" as const }],
 * };
 * assert.equal(formatTreeLine(node), '/local/domain/0/name = "Domain-0"   (n0)');
 * assert.equal(
 *   formatTreeLine(node, { fullPath: false, width: 80 }),
 *   '  name = "Domain-0"  . . . . . . . . . . . . . . . . . . . .  (n0)',
 * );
 * ```
 */
export function formatTreeLine(node: TreeNode, options: TreeLineOptions = {}): string {
  const fullPath = options.fullPath ?? true;
  const showPerms = options.perms ?? true;
  const width = options.width ?? Infinity;
  let line: string;
  let col: number;
  if (fullPath) {
    line = node.path;
    col = 0;
  } else {
    const depth = Math.max(0, node.depth);
    line = " ".repeat(depth) + node.name.slice(0, Math.max(0, width - TAG_LEN - depth));
    col = line.length;
  }
  const value = node.value;
  if (value === undefined) {
    line += ":";
  } else if (width < col + value.length + TAG_LEN) {
    line += ` = "${escapeValue(value).slice(0, Math.max(0, width - TAG_LEN - col))}\\..."`;
  } else {
    const text = ` = "${escapeValue(value)}"`;
    line += text;
    col += text.length;
    if (showPerms) {
      line += " ";
      if (!fullPath) {
        for (col++; col < Math.min(LEADER_END, width); col++) line += col % 2 === 1 ? "." : " ";
      }
    }
  }
  if (showPerms && node.perms !== undefined) line += `  (${formatPermissions(node.perms)})`;
  return line;
}

/** Options of {@linkcode formatTree}. */
export interface FormatTreeOptions extends TreeLineOptions {
  /** Include the root node's own line (`xenstore-ls` prints only its descendants). @default {true} */
  root?: boolean;
}

/**
 * Lists `path` and its descendants depth-first in the server's DIRECTORY order, one line per
 * node, each ending in a newline: by default `/full/path = "value"   (n0,r1)` as
 * `xenstore-ls -f -p` prints (plus the root's own line). Returns `""` when `path` does not
 * exist.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { formatTree } from "./tree.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * {
 *   await using xsd = await startXenstored({ dir });
 *   await using xs = await connect({ path: xsd.socket });
 *   await xs.write("/a/b", "x\x1b");
 *   assert.equal(await formatTree(xs, "/a"), '/a = ""   (n0)\n/a/b = "x\\x1b"   (n0)\n');
 *   assert.equal(await formatTree(xs, "/nope"), "");
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function formatTree(
  ops: XenstoreOps,
  path: string,
  options: FormatTreeOptions = {},
): Promise<string> {
  const lines: string[] = [];
  try {
    for await (
      const node of walkTree(ops, path, {
        root: options.root ?? true,
        perms: options.perms ?? true,
      })
    ) {
      lines.push(formatTreeLine(node, options) + "\n");
    }
  } catch (error) {
    if (isErrno(error, "ENOENT")) return "";
    throw error;
  }
  return lines.join("");
}
