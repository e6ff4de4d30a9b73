/**
 * `perm_for_conn`: what a connection may do with a node, given its (adjusted) permission
 * list. Privileged connections may do everything; an owner (or its SET_TARGET domain) too.
 *
 * @module
 */

import type { Connection } from "./connection.ts";
import { PermBits, type PermEntry } from "./node_perms.ts";

/** Read, write and owner: everything. */
export const ALL_PERMS: number = PermBits.Read | PermBits.Write | PermBits.Owner;

/**
 * `perm_for_conn` on an already adjusted list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ALL_PERMS, permForConn } from "./permissions.ts";
 * assert.equal(permForConn(undefined, [{ id: 0, bits: 0 }]), ALL_PERMS);
 * ```
 */
export function permForConn(conn: Connection | undefined, perms: readonly PermEntry[]): number {
  if (conn === undefined || !conn.unprivileged) return ALL_PERMS;
  const owner = perms[0] as PermEntry;
  const target = conn.domain?.target;
  if (owner.id === conn.id || (target !== undefined && owner.id === target)) return ALL_PERMS;
  for (let i = 1; i < perms.length; i++) {
    const e = perms[i] as PermEntry;
    if ((e.bits & PermBits.Ignore) === 0 && (e.id === conn.id || e.id === target)) {
      return e.bits & ALL_PERMS;
    }
  }
  return owner.bits & ALL_PERMS;
}
