/**
 * C xenstored 4.17's per-domain memory accounting (`domain_memory_add`, `do_tdb_write`,
 * `do_tdb_delete`, `add_watch`): a node record is charged to its owner as its path plus the
 * record (a 24-byte header, 8 bytes per permission, the value, the child names each with a
 * NUL); a watch to its connection's domain as its path plus its token. A charge that would
 * take an unprivileged domain to its `memory` quota or past it is refused.
 *
 * @module
 */

import type { DomainInfo } from "./domains.ts";
import type { Node } from "./store.ts";

/** `sizeof(struct xs_tdb_record_hdr)`. */
const RECORD_HEADER = 24;
/** `sizeof(struct xs_permissions)`. */
const PERM_SIZE = 8;

/** Bytes C charges for a node record stored under `key` (the path). */
export function recordBytes(
  key: string,
  record: { valueLength: number; permCount: number; kidBytes: number },
): number {
  return key.length + RECORD_HEADER + PERM_SIZE * record.permCount + record.valueLength +
    record.kidBytes;
}

/**
 * `domain_chk_quota`: true when charging `bytes` more (after `released` is given back) takes
 * `d` to its hard memory quota. Dom0 and a disabled quota (`Infinity`) never are.
 */
export function overMemory(
  d: DomainInfo | undefined,
  quota: number,
  bytes: number,
  released = 0,
): boolean {
  return d !== undefined && d.domid !== 0 && d.memory - released + bytes >= quota;
}

/** Gives back what a live node was charged. */
export function releaseNode(node: Node): void {
  const d = node.acc;
  if (d === undefined) return;
  d.memory -= node.accBytes;
  node.acc = undefined;
  node.accBytes = 0;
}

/** Charges a live node's record (stored under `path`) to `d`, giving back its old charge. */
export function chargeNode(node: Node, path: string, d: DomainInfo | undefined): void {
  releaseNode(node);
  if (d === undefined) return;
  let kids = 0;
  if (node.kids !== undefined) { for (const k of node.kids.keys()) kids += k.length + 1; }
  const bytes = recordBytes(path, {
    valueLength: node.value.length,
    permCount: node.perms.length,
    kidBytes: kids,
  });
  d.memory += bytes;
  node.acc = d;
  node.accBytes = bytes;
}

/** Bytes `add_watch` charges a watch: its (absolute) path and its token. */
export function watchBytes(watch: { node: string; token: string }): number {
  return watch.node.length + watch.token.length;
}
