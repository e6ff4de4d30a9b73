/**
 * Xenstore path rules (`core.c` `is_valid_nodename`, `valid_chars`).
 *
 * @module
 */

import { InvalidPathError } from "./errors.ts";

/** `XENSTORE_ABS_PATH_MAX`: the longest absolute path, in bytes. */
export const ABS_PATH_MAX = 3072;
/** `XENSTORE_REL_PATH_MAX`: the longest relative path, in bytes. */
export const REL_PATH_MAX = 2048;

/** The special watch paths xenstored itself fires. */
export const SPECIAL_PATHS = ["@introduceDomain", "@releaseDomain"] as const;

const VALID = /^[A-Za-z0-9\-/_@]*$/;
const SPECIAL = /^@(introduceDomain|releaseDomain)(\/[0-9]+)?$/;

/** Options of {@linkcode validatePath}. */
export interface ValidatePathOptions {
  /**
   * Accept paths that do not start with `/` (resolved by the server against the
   * connection's home, `/local/domain/<domid>`).
   * @default {true}
   */
  relative?: boolean;
  /**
   * Accept the special paths `@introduceDomain` and `@releaseDomain` (and their
   * `/<domid>` forms), as WATCH, UNWATCH, GET_PERMS and SET_PERMS do.
   * @default {false}
   */
  special?: boolean;
}

/** True for `@introduceDomain`, `@releaseDomain` and their `/<domid>` forms.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSpecialPath } from "./path.ts";
 * assert.equal(isSpecialPath("@releaseDomain/5"), true);
 * assert.equal(isSpecialPath("@other"), false);
 * ```
 */
export function isSpecialPath(path: string): boolean {
  return SPECIAL.test(path);
}

/**
 * Throws {@linkcode InvalidPathError} naming the broken rule unless `path` is a valid
 * xenstore path; returns it unchanged otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidPathError } from "./errors.ts";
 * import { validatePath } from "./path.ts";
 * assert.equal(validatePath("/local/domain/0/name"), "/local/domain/0/name");
 * assert.throws(() => validatePath("/local//domain"), {
 *   name: "InvalidPathError",
 *   message: 'Invalid xenstore path "/local//domain": it contains "//"',
 * });
 * assert.throws(() => validatePath("/a/"), InvalidPathError);
 * ```
 */
export function validatePath(path: string, options: ValidatePathOptions = {}): string {
  if (typeof path !== "string") throw new InvalidPathError(String(path), "it is not a string");
  if (path.length === 0) throw new InvalidPathError(path, "it is empty");
  if (path.startsWith("@")) {
    if (!(options.special ?? false)) {
      throw new InvalidPathError(path, "special @ paths are only for watches and permissions");
    }
    if (!SPECIAL.test(path)) {
      throw new InvalidPathError(
        path,
        "the special paths are @introduceDomain and @releaseDomain, optionally with /<domid>",
      );
    }
    return path;
  }
  if (!VALID.test(path)) {
    const bad = [...path].find((c) => !VALID.test(c));
    throw new InvalidPathError(
      path,
      `character ${JSON.stringify(bad)} is not allowed (only A-Z a-z 0-9 - / _ @)`,
    );
  }
  if (path.includes("//")) throw new InvalidPathError(path, 'it contains "//"');
  if (path.length > 1 && path.endsWith("/")) {
    throw new InvalidPathError(path, 'it ends with "/"');
  }
  const absolute = path.startsWith("/");
  if (!absolute && !(options.relative ?? true)) {
    throw new InvalidPathError(path, 'it must be absolute (start with "/")');
  }
  const max = absolute ? ABS_PATH_MAX : REL_PATH_MAX;
  if (path.length > max) {
    throw new InvalidPathError(
      path.slice(0, 40) + "...",
      `it is ${path.length} bytes long, over the ${max}-byte limit for ${
        absolute ? "absolute" : "relative"
      } paths`,
    );
  }
  return path;
}

/**
 * Joins path components with `/`, without doubling separators.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { joinPath } from "./path.ts";
 * assert.equal(joinPath("/local/domain/3", "device", "vif", 0), "/local/domain/3/device/vif/0");
 * ```
 */
export function joinPath(base: string, ...parts: (string | number)[]): string {
  let out = base;
  for (const part of parts) {
    const p = String(part);
    if (p.length === 0) continue;
    out = out.endsWith("/") ? out + p : `${out}/${p}`;
  }
  return out;
}

/**
 * The parent of an absolute path (`/` for a top-level node), or `undefined` for `/`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parentPath } from "./path.ts";
 * assert.equal(parentPath("/local/domain"), "/local");
 * assert.equal(parentPath("/local"), "/");
 * assert.equal(parentPath("/"), undefined);
 * ```
 */
export function parentPath(path: string): string | undefined {
  if (path === "/") return undefined;
  const i = path.lastIndexOf("/");
  if (i <= 0) return path.startsWith("/") ? "/" : undefined;
  return path.slice(0, i);
}
