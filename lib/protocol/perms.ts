/**
 * Xenstore permission entries (`n0`, `r5`, `w3`, `b7`) as a typed model.
 *
 * @module
 */

import { DOMID_MAX } from "./domid.ts";
import { InvalidPermissionError } from "./errors.ts";

/** What one entry grants: nothing, read, write, or both. */
export type Access = "none" | "read" | "write" | "both";

/**
 * One permission entry. In a list, entry 0 names the node's owner (who always has full
 * access) and its `access` is the default for every domain without an entry of its own.
 */
export interface Permission {
  /** The domain the entry is about. */
  domid: number;
  /** The access granted. */
  access: Access;
}

const LETTER_TO_ACCESS: Readonly<Record<string, Access>> = {
  n: "none",
  r: "read",
  w: "write",
  b: "both",
};
const ACCESS_TO_LETTER: Readonly<Record<Access, string>> = {
  none: "n",
  read: "r",
  write: "w",
  both: "b",
};

/**
 * Parses one entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidPermissionError } from "./errors.ts";
 * import { parsePermission } from "./perms.ts";
 * assert.deepEqual(parsePermission("r5"), { domid: 5, access: "read" });
 * assert.throws(() => parsePermission("x5"), InvalidPermissionError);
 * ```
 */
export function parsePermission(text: string): Permission {
  const letter = text.charAt(0);
  const access = LETTER_TO_ACCESS[letter];
  if (access === undefined) {
    throw new InvalidPermissionError(text, "the first letter must be n, r, w or b");
  }
  const rest = text.slice(1);
  if (!/^[0-9]+$/.test(rest)) {
    throw new InvalidPermissionError(text, "the letter must be followed by a decimal domid");
  }
  const domid = Number(rest);
  if (domid > DOMID_MAX) {
    throw new InvalidPermissionError(text, `the domid must be at most ${DOMID_MAX}`);
  }
  return { domid, access };
}

/**
 * Formats one entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPermission } from "./perms.ts";
 * assert.equal(formatPermission({ domid: 0, access: "none" }), "n0");
 * assert.equal(formatPermission({ domid: 7, access: "both" }), "b7");
 * ```
 */
export function formatPermission(perm: Permission): string {
  const letter = ACCESS_TO_LETTER[perm.access];
  if (letter === undefined) {
    throw new InvalidPermissionError(
      String(perm.access),
      "access must be none, read, write or both",
    );
  }
  if (!Number.isInteger(perm.domid) || perm.domid < 0 || perm.domid > DOMID_MAX) {
    throw new InvalidPermissionError(
      `${letter}${perm.domid}`,
      `the domid must be an integer from 0 to ${DOMID_MAX}`,
    );
  }
  return `${letter}${perm.domid}`;
}

/**
 * Parses a list of entries; accepts the strings themselves or one comma- or space-separated
 * string as `xenstore-ls -p` prints it (`n0,r5`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePermissions } from "./perms.ts";
 * const expected = [{ domid: 1, access: "none" }, { domid: 0, access: "read" }];
 * assert.deepEqual(parsePermissions("n1,r0"), expected);
 * assert.deepEqual(parsePermissions(["n1", "r0"]), expected);
 * ```
 */
export function parsePermissions(list: string | readonly string[]): Permission[] {
  const items = typeof list === "string" ? list.split(/[,\s]+/).filter((s) => s !== "") : list;
  if (items.length === 0) throw new InvalidPermissionError("", "a list needs at least one entry");
  return items.map(parsePermission);
}

/**
 * Formats a list as `xenstore-ls -p` prints it: entries joined by commas.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPermissions } from "./perms.ts";
 * assert.equal(
 *   formatPermissions([{ domid: 1, access: "none" }, { domid: 0, access: "read" }]),
 *   "n1,r0",
 * );
 * ```
 */
export function formatPermissions(perms: readonly Permission[]): string {
  return perms.map(formatPermission).join(",");
}

/** Shorthand constructor: `perm("r", 5)` is `{ domid: 5, access: "read" }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { perm } from "./perms.ts";
 * assert.deepEqual(perm("r", 5), { domid: 5, access: "read" });
 * ```
 */
export function perm(letter: "n" | "r" | "w" | "b", domid: number): Permission {
  return parsePermission(`${letter}${domid}`);
}
