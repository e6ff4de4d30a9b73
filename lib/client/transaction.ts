/**
 * Transactions: an explicit handle (`startTransaction`) and the retrying runner behind
 * `transaction(fn, options)`.
 *
 * @module
 */

import {
  encodeArgs,
  Op,
  ProtocolError,
  TransactionConflictError,
  XenstoreError,
} from "../protocol/mod.ts";
import type { Payload, RequestOptions } from "./connection.ts";
import { decodeNumber, NodeOps, type RequestFn } from "./node_ops.ts";
import { backoff, delay as defaultDelay } from "./retry.ts";
import type { Transaction, TransactionOptions } from "./types.ts";

const COMMIT = encodeArgs(["T"]);
const ABORT = encodeArgs(["F"]);

/**
 * An open transaction: the node operations in it, plus `commit` and `abort`. Once it ended,
 * every method rejects with a `TypeError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "./mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const tx = await xs.startTransaction();
 * await tx.write("/tool/a", "1");
 * assert.equal(await xs.exists("/tool/a"), false); // not committed yet
 * await tx.commit(); // XenstoreError EAGAIN on a conflict
 * assert.equal(await xs.read("/tool/a"), "1");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class XenstoreTransaction extends NodeOps implements Transaction {
  /** The server's transaction id. */
  readonly id: number;
  #ended: string | undefined;

  /** Wraps transaction `id`, already started on the server, sending through `request`. */
  constructor(request: RequestFn, id: number) {
    super(request, id);
    this.id = id;
  }

  /** True once committed, aborted or failed. */
  get ended(): boolean {
    return this.#ended !== undefined;
  }

  /** Sends in this transaction; rejects with `TypeError` once it has ended. */
  protected override send(
    type: number,
    payload: Payload,
    options?: RequestOptions,
  ): Promise<Uint8Array> {
    if (this.#ended !== undefined) {
      return Promise.reject(new TypeError(`Transaction ${this.id} has already ${this.#ended}`));
    }
    return super.send(type, payload, options);
  }

  /** Commits; rejects with `XenstoreError` `EAGAIN` when another change conflicted. */
  async commit(): Promise<void> {
    await this.#end(COMMIT, "committed");
  }

  /** Discards every change made in the transaction. */
  async abort(): Promise<void> {
    await this.#end(ABORT, "aborted");
  }

  async #end(payload: Uint8Array, how: string): Promise<void> {
    const reply = this.send(Op.TransactionEnd, payload);
    this.#ended = how;
    await reply;
  }
}

/**
 * Starts a transaction on the server and wraps its id. `request` must stay on the connection
 * the transaction was started on: transaction ids are per connection, so after a reconnect
 * the old id could name someone else's transaction.
 */
export async function startTransaction(request: RequestFn): Promise<XenstoreTransaction> {
  const reply = await request(Op.TransactionStart, 0, encodeArgs([""]));
  const id = decodeNumber(reply, "TRANSACTION_START");
  if (id === 0 || id > 0xffffffff) {
    throw new ProtocolError(`TRANSACTION_START reply is not a 32-bit transaction id: ${id}`);
  }
  return new XenstoreTransaction(request, id);
}

function isConflict(error: unknown): boolean {
  return error instanceof XenstoreError && error.code === "EAGAIN";
}

/**
 * Runs `fn` in a fresh transaction from `begin` and commits; on EAGAIN (from the commit or
 * any operation inside) waits a jittered exponential backoff and runs it again, up to
 * `attempts` times, then throws `TransactionConflictError` with the last conflict as `cause`.
 * If `fn` throws anything else the transaction is aborted and the error rethrown. An aborted
 * `signal` aborts the open transaction and rejects with the signal's reason.
 *
 * @example
 * ```ts ignore
 * const n = await runTransaction(() => startTransaction(request), async (tx) => {
 *   const next = Number(await tx.read("/counter")) + 1;
 *   await tx.write("/counter", String(next));
 *   return next;
 * });
 * ```
 */
export async function runTransaction<T>(
  begin: () => Promise<XenstoreTransaction>,
  fn: (tx: Transaction) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 16;
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new RangeError(`transaction attempts must be a positive integer, got ${attempts}`);
  }
  const baseMs = options.backoffMs ?? 1;
  const wait = options.delay ?? defaultDelay;
  const signal = options.signal;
  let lastConflict: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    signal?.throwIfAborted();
    const tx = await begin();
    try {
      const result = await runAbortable(tx, fn, signal);
      await tx.commit();
      return result;
    } catch (error) {
      if (!tx.ended) await tx.abort().catch(() => {});
      if (signal?.aborted) throw signal.reason;
      if (!isConflict(error)) throw error;
      lastConflict = error;
    }
    if (attempt < attempts) await wait(backoff(attempt, baseMs), signal);
  }
  throw new TransactionConflictError(attempts, { cause: lastConflict });
}

/** Runs `fn(tx)`, but rejects as soon as `signal` aborts (the caller then aborts `tx`). */
function runAbortable<T>(
  tx: Transaction,
  fn: (tx: Transaction) => Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  if (signal === undefined) return fn(tx);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    fn(tx).then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
