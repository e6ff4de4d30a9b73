/**
 * The node tree: byte values, interned permission lists, generation counts and children in
 * insertion order (a `Map` per node keeps both the order and O(1) lookups).
 *
 * @module
 */

import { DEFAULT_PERMS, type NodePerms, PermsTable } from "./node_perms.ts";

/**
 * A node value: a string when every byte is 7-bit ASCII (compact in V8), the bytes otherwise.
 */
export type Value = string | Uint8Array;

/** One node of the live tree. */
export class Node {
  /** The value. */
  value: Value;
  /** The permission list (interned). */
  perms: NodePerms;
  /** Generation count of the last change. */
  gen: number;
  /** Children by name, in insertion order; `undefined` while there are none. */
  kids: Map<string, Node> | undefined;
  /** Bytes of the child names as C stores them (each plus a NUL), kept with `kids`. */
  kidBytes: number;
  /** The domain record its memory is charged to (`_memory.ts`); `undefined` when none. */
  acc: { memory: number } | undefined;
  /** Bytes charged to {@linkcode Node.acc}. */
  accBytes: number;

  /** A node without children. */
  constructor(value: Value, perms: NodePerms, gen: number) {
    this.value = value;
    this.perms = perms;
    this.gen = gen;
    this.kids = undefined;
    this.kidBytes = 0;
    this.acc = undefined;
    this.accBytes = 0;
  }
}

/**
 * Decodes value bytes: ASCII becomes a string, anything else stays bytes (copied).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toValue } from "./store.ts";
 * assert.equal(toValue(new Uint8Array([104, 105])), "hi");
 * const utf8 = new TextEncoder().encode("é");
 * assert.deepEqual(toValue(utf8), utf8); // not ASCII: stays bytes
 * ```
 */
export function toValue(bytes: Uint8Array): Value {
  const n = bytes.length;
  if (n === 0) return "";
  for (let i = 0; i < n; i++) if ((bytes[i] as number) >= 0x80) return bytes.slice();
  // One flat string: building it with `+=` would leave a chain of cons-strings per value.
  if (n <= 256) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  return asciiDecoder.decode(bytes);
}

const asciiDecoder = new TextDecoder();

/** The bytes of a value. */
export function valueBytes(value: Value): Uint8Array {
  if (typeof value !== "string") return value;
  const out = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) out[i] = value.charCodeAt(i);
  return out;
}

const VALID_CHARS = /^[A-Za-z0-9\-/_@]*$/;
const LOCAL_PREFIX = /^\/local\/domain\/(?:-[0-9]{1,4}|[0-9]{1,5})\//;

/**
 * C xenstored's `is_valid_nodename`: absolute, no trailing or double slash, allowed characters
 * only, and at most `pathMax` bytes after a `/local/domain/<N>/` prefix.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isValidNodename } from "./store.ts";
 * assert.equal(isValidNodename("/local/domain/1/x", 2048), true);
 * assert.equal(isValidNodename("/a/", 2048), false); // trailing slash
 * assert.equal(isValidNodename("/a b", 2048), false); // space is not allowed
 * ```
 */
export function isValidNodename(path: string, pathMax: number): boolean {
  if (path.charCodeAt(0) !== 47) return false;
  if (path.length > 1 && path.charCodeAt(path.length - 1) === 47) return false;
  if (path.includes("//")) return false;
  const m = LOCAL_PREFIX.exec(path);
  const offset = m === null ? 0 : m[0].length;
  if (path.length > offset + pathMax) return false;
  return VALID_CHARS.test(path);
}

/** The parent of an absolute path; `/` for top-level nodes. */
export function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** The last component of an absolute path other than `/`. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** `parent/child`, without doubling the slash at the root. */
export function childPath(parent: string, name: string): string {
  return parent === "/" ? `/${name}` : `${parent}/${name}`;
}

/** The nodes of a fresh store, as C xenstored's `setup_structure` makes them. */
export const INITIAL_PATHS: readonly string[] = ["/", "/tool", "/tool/xenstored"];

/**
 * The tree and the global generation counter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Tree } from "./store.ts";
 * const tree = new Tree();
 * assert.equal(tree.lookup("/tool/xenstored")?.value, ""); // made as C's setup_structure does
 * assert.equal(tree.lookup("/local"), undefined);
 * ```
 */
export class Tree {
  /** The root node `/`. */
  readonly root: Node;
  /** The global generation counter: incremented before every use. */
  generation = 0;
  /** This tree's interned permission lists. */
  readonly perms: PermsTable = new PermsTable();

  constructor() {
    this.root = new Node("", DEFAULT_PERMS, ++this.generation);
    const tool = new Node("", DEFAULT_PERMS, ++this.generation);
    tool.kids = new Map([["xenstored", new Node("", DEFAULT_PERMS, ++this.generation)]]);
    tool.kidBytes = "xenstored".length + 1;
    this.root.kids = new Map([["tool", tool]]);
    this.root.kidBytes = "tool".length + 1;
  }

  /** The node at a valid absolute path, or `undefined`. */
  lookup(path: string): Node | undefined {
    let node: Node | undefined = this.root;
    const n = path.length;
    let i = 1;
    while (i < n) {
      let j = path.indexOf("/", i);
      if (j < 0) j = n;
      node = node.kids?.get(path.slice(i, j));
      if (node === undefined) return undefined;
      i = j + 1;
    }
    return node;
  }
}
