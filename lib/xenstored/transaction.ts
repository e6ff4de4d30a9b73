/**
 * Transactions with C xenstored's semantics (`xenstored_transaction.c`): the first access to
 * a node copies it into the transaction, later accesses see that copy; a commit fails with
 * EAGAIN only when a node the transaction *read* changed globally since (per-node generation
 * counts). Watches queued inside fire at commit, in first-access order.
 *
 * @module
 */

import type { NodePerms } from "./node_perms.ts";
import type { Value } from "./store.ts";

/** The generation of a node that did not exist when it was read. */
export const NO_GENERATION = -1;

/** A node as a transaction sees it: a private copy with its child names. */
export class TxNode {
  /** The value. */
  value: Value;
  /** The permission list. */
  perms: NodePerms;
  /** Generation count. */
  gen: number;
  /** Child names in order. */
  kids: string[];

  /** A copy of a node for a transaction. */
  constructor(value: Value, perms: NodePerms, gen: number, kids: string[]) {
    this.value = value;
    this.perms = perms;
    this.gen = gen;
    this.kids = kids;
  }
}

/** One node the transaction touched (`struct accessed_node`). */
export interface Accessed {
  /** Generation when first read, or {@linkcode NO_GENERATION}. */
  gen: number;
  /** Whether commit must find the same generation (the first access was a read). */
  checkGen: boolean;
  /** Written or deleted inside the transaction. */
  modified: boolean;
  /** The transaction's copy; `undefined` when the node is absent for the transaction. */
  node: TxNode | undefined;
  /** The node's permissions when first accessed (for watch filtering of deletions). */
  origPerms: NodePerms | undefined;
  /** A watch event is due at commit. */
  fireWatch: boolean;
  /** ... only for watches on exactly this path. */
  watchExact: boolean;
  /** Bytes the transaction's stored copy (`ta_node`) is charged; 0 when there is none. */
  accBytes?: number;
}

/** An open transaction. */
export class Transaction {
  /** The id given to the client. */
  readonly id: number;
  /** Nodes touched, in first-access order. */
  readonly accessed = new Map<string, Accessed>();
  /** Node-count changes per owning domain, applied at commit; `undefined` while none. */
  changedDomains: Map<number, number> | undefined;
  /** A node was created inside. */
  nodeCreated = false;
  /** Something failed inside that cannot be undone: commit answers ENOMEM. */
  fail = false;

  /** The global generation at its start: C stores its copies under `<generation>/<path>`. */
  readonly generation: number;
  /** The domain record its copies are charged to (the connection's); `undefined` for none. */
  readonly acc: { memory: number } | undefined;
  #memory = 0;

  /** A transaction with the given client-visible id. */
  constructor(
    id: number,
    options: { generation?: number; acc?: { memory: number } | undefined } = {},
  ) {
    this.id = id;
    this.generation = options.generation ?? 0;
    this.acc = options.acc;
  }

  /** The key C stores this transaction's copy of `path` under. */
  key(path: string): string {
    return `${this.generation}/${path}`;
  }

  /** Charges an entry's stored copy `bytes` (0: the copy is gone), replacing its old charge. */
  charge(entry: Accessed, bytes: number): void {
    if (this.acc === undefined) return;
    const delta = bytes - (entry.accBytes ?? 0);
    entry.accBytes = bytes;
    this.acc.memory += delta;
    this.#memory += delta;
  }

  /** Gives back what all its copies are charged (the transaction ends). */
  release(): void {
    if (this.acc !== undefined) this.acc.memory -= this.#memory;
    this.#memory = 0;
  }

  /** Records a change of a domain's node count. */
  entryDelta(domid: number, delta: number): void {
    const changed = this.changedDomains ??= new Map();
    changed.set(domid, (changed.get(domid) ?? 0) + delta);
  }
}
