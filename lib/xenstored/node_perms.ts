/**
 * Permission lists as xenstored stores them: entry 0 is the owner and the default, entries
 * naming a domain that did not exist when they were set carry an "ignore" flag (as C
 * xenstored 4.17 does). Lists are interned per server ({@linkcode PermsTable}), so the many
 * nodes that share one list share one object.
 *
 * @module
 */

/** Permission bits (`xenstore_lib.h`). */
export const PermBits = {
  None: 0x00,
  Read: 0x01,
  Write: 0x02,
  Owner: 0x08,
  Ignore: 0x10,
} as const;

/** One stored entry: a domain id (u32, as C stores it) and its bits. */
export interface PermEntry {
  /** The domain the entry names. */
  readonly id: number;
  /** `PermBits` flags. */
  readonly bits: number;
}

/** An interned, immutable permission list (at least one entry). */
export type NodePerms = readonly PermEntry[];

function freeze(entries: readonly PermEntry[]): NodePerms {
  return Object.freeze(entries.map((e) => Object.freeze({ id: e.id, bits: e.bits })));
}

/** The permission list of a fresh store's nodes: `n0`. */
export const DEFAULT_PERMS: NodePerms = freeze([{ id: 0, bits: PermBits.None }]);

/**
 * One server's interned permission lists: the many nodes that share a list share one frozen
 * object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_PERMS, PermsTable } from "./node_perms.ts";
 * const table = new PermsTable();
 * const a = table.intern([{ id: 5, bits: 0 }, { id: 0, bits: 1 }]);
 * assert.equal(a, table.intern([{ id: 5, bits: 0 }, { id: 0, bits: 1 }]));
 * assert.equal(table.intern([{ id: 0, bits: 0 }]), DEFAULT_PERMS);
 * ```
 */
export class PermsTable {
  readonly #lists = new Map<string, NodePerms>([["0:0,", DEFAULT_PERMS]]);

  /** The shared instance of a permission list. */
  intern(entries: readonly PermEntry[]): NodePerms {
    let key = "";
    for (const e of entries) key += `${e.id}:${e.bits},`;
    const found = this.#lists.get(key);
    if (found !== undefined) return found;
    const list = freeze(entries);
    this.#lists.set(key, list);
    return list;
  }
}

const LETTERS: Readonly<Record<number, string>> = { 0: "n", 1: "r", 2: "w", 3: "b" };

/**
 * Formats a list as GET_PERMS sends it: each entry `<letter><id>` with the id printed as a
 * signed 32-bit number, as C's `%i` does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatNodePerms } from "./node_perms.ts";
 * assert.deepEqual(formatNodePerms([{ id: 5, bits: 0 }, { id: 0, bits: 1 }]), ["n5", "r0"]);
 * ```
 */
export function formatNodePerms(perms: NodePerms): string[] {
  return perms.map((p) => `${LETTERS[p.bits & 3]}${p.id | 0}`);
}

/**
 * C's `strtol(s, &end, 0)`: returns the parsed value and how many characters it used (0 when
 * no number was found).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { strtol } from "./node_perms.ts";
 * assert.deepEqual(strtol("0x1f!"), { value: 31, used: 4 });
 * assert.deepEqual(strtol("010"), { value: 8, used: 3 }); // a leading 0 means octal
 * assert.deepEqual(strtol("x"), { value: 0, used: 0 });
 * ```
 */
export function strtol(text: string): { value: number; used: number } {
  let i = 0;
  while (i < text.length && " \t\n\v\f\r".includes(text[i] as string)) i++;
  let negative = false;
  if (text[i] === "+" || text[i] === "-") {
    negative = text[i] === "-";
    i++;
  }
  let base = 10;
  if (text[i] === "0" && (text[i + 1] === "x" || text[i + 1] === "X") && isDigit(text[i + 2], 16)) {
    base = 16;
    i += 2;
  } else if (text[i] === "0") {
    base = 8;
  }
  const start = i;
  let value = 0n;
  while (i < text.length && isDigit(text[i], base)) {
    value = value * BigInt(base) + BigInt(parseInt(text[i] as string, base));
    i++;
  }
  if (i === start) return { value: 0, used: 0 };
  const max = (1n << 63n) - 1n;
  if (value > max) value = negative ? max + 1n : max;
  const signed = negative ? -value : value;
  return { value: Number(BigInt.asUintN(32, signed)), used: i };
}

function isDigit(c: string | undefined, base: number): boolean {
  if (c === undefined) return false;
  const d = parseInt(c, 36);
  return !Number.isNaN(d) && d < base && /[0-9a-zA-Z]/.test(c);
}

const LETTER_BITS: Readonly<Record<string, number>> = { n: 0, r: 1, w: 2, b: 3 };

/**
 * Parses SET_PERMS entries as C xenstored does (`xs_strings_to_perms`): a letter, then a
 * number in `strtol` base-0 syntax and nothing else. Returns `undefined` on any bad entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseNodePerms } from "./node_perms.ts";
 * assert.deepEqual(parseNodePerms(["n5", "r0x10"]), [{ id: 5, bits: 0 }, { id: 16, bits: 1 }]);
 * assert.equal(parseNodePerms(["n5", "r1x"]), undefined); // trailing junk
 * ```
 */
export function parseNodePerms(texts: readonly string[]): PermEntry[] | undefined {
  const out: PermEntry[] = [];
  for (const text of texts) {
    const bits = LETTER_BITS[text.charAt(0)];
    if (bits === undefined) return undefined;
    const rest = text.slice(1);
    const { value, used } = strtol(rest);
    if (rest.length === 0 || used !== rest.length) return undefined;
    out.push({ id: value, bits });
  }
  return out;
}
