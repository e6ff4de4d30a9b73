/**
 * C xenstored 4.17's per-domain memory accounting (`domain_memory_add`, `do_tdb_write`,
 * `do_tdb_delete`, `add_watch`): a node record is charged to its owner as its path plus the
 * record (a 24-byte header, 8 bytes per permission, the value, the child names each with a
 * NUL); a watch to its connection's domain as its path plus its token; a transaction's stored
 * copy of a node to its connection's domain as `<generation>/<path>` plus the record. A charge
 * that would take an unprivileged domain to its `memory` quota or past it is refused.
 *
 * @module
 */

import type { DomainInfo } from "./domains.ts";
import { Errno } from "./errno.ts";
import type { NodePerms, PermEntry } from "./node_perms.ts";
import { Node } from "./store.ts";
import { type Transaction, TxNode } from "./transaction.ts";
import type { Rec, StoreState } from "./types.ts";

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
  const bytes = recordBytes(path, {
    valueLength: node.value.length,
    permCount: node.perms.length,
    kidBytes: node.kidBytes,
  });
  d.memory += bytes;
  node.acc = d;
  node.accBytes = bytes;
}

/** Bytes `add_watch` charges a watch: its (absolute) path and its token. */
export function watchBytes(watch: { node: string; token: string }): number {
  return watch.node.length + watch.token.length;
}

/** Child names of a node, in order. */
export function kidNames(rec: Rec): Iterable<string> {
  if (rec instanceof TxNode) return rec.kids;
  return rec.kids === undefined ? [] : rec.kids.keys();
}

/** Bytes of the child list as C stores it (each name plus a NUL). */
export function kidBytes(rec: Rec): number {
  if (rec instanceof Node) return rec.kidBytes;
  let n = 0;
  for (const k of kidNames(rec)) n += k.length + 1;
  return n;
}

/** The domain record a live node of these permissions is charged to (its owner's). */
export function ownerOf(store: StoreState, perms: NodePerms): DomainInfo | undefined {
  return store.domains.find((perms[0] as PermEntry).id);
}

/** Who writes: the store, the connection's domain and the transaction. */
interface Writer {
  readonly store: StoreState;
  readonly conn: { readonly domain: DomainInfo | undefined } | undefined;
  readonly tx: Transaction | undefined;
}

/**
 * Who a record written at `path` is charged to, under which key, and what its current record
 * there is charged: the owner and the path outside a transaction; the connection's domain and
 * `<generation>/<path>` inside one (`get_acc_domid`, `transaction_prepend`).
 */
export function memoryTarget(
  w: Writer,
  path: string,
  node: Rec | undefined,
  perms: NodePerms,
): { d: DomainInfo | undefined; key: string; released: number } {
  const tx = w.tx;
  if (tx === undefined) {
    const d = ownerOf(w.store, perms);
    const charged = node instanceof Node && d !== undefined && node.acc === d;
    return { d, key: path, released: charged ? node.accBytes : 0 };
  }
  return {
    d: w.conn?.domain,
    key: tx.key(path),
    released: tx.accessed.get(path)?.accBytes ?? 0,
  };
}

/**
 * Throws EIO when charging `d` `bytes` (after `released` is given back) would reach its
 * memory quota (C's `write_node_raw` turns `domain_memory_add`'s ENOMEM into EIO); inside a
 * transaction the refusal fails it (`write_node`: its commit answers ENOMEM).
 */
export function checkCharge(
  w: Writer,
  d: DomainInfo | undefined,
  charge: { bytes: number; released: number },
): void {
  if (!overMemory(d, w.store.quota(d, "memory"), charge.bytes, charge.released)) return;
  if (w.tx !== undefined) w.tx.fail = true;
  throw new Errno("EIO");
}

/** Bytes a transaction's stored copy of `rec` at `path` is charged. */
export function txRecordBytes(tx: Transaction, path: string, rec: Rec): number {
  return recordBytes(tx.key(path), {
    valueLength: rec.value.length,
    permCount: rec.perms.length,
    kidBytes: kidBytes(rec),
  });
}
