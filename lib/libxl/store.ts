/**
 * What the libxl layer needs from a xenstore connection, and how its operations run either
 * inside the caller's transaction or in their own.
 *
 * @module
 */

import { XenstoreError } from "../protocol/errors.ts";
import { NodeOps } from "../client/node_ops.ts";
import type { Permission } from "../protocol/perms.ts";
import type {
  Transaction,
  TransactionOptions,
  Watch,
  WatchOptions,
  XenstoreOps,
} from "../client/types.ts";

/**
 * A xenstore connection as the libxl layer uses it: the node operations, transactions with
 * EAGAIN retry, and watches. dxl's `XenstoreClient` is one.
 */
export interface LibxlStore extends XenstoreOps {
  /** Runs `fn` in a transaction, rerunning it on EAGAIN a bounded number of times. */
  transaction<T>(fn: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Watches `path`; the first event is the server's initial one. */
  watch(path: string, options?: WatchOptions): Watch;
}

/** Where an operation runs: its own transaction on a store, or the caller's transaction. */
export type Target = LibxlStore | Transaction;

/**
 * True when `target` is an open transaction (it has `commit`, `abort` and an `id`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { isTransaction } from "./store.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * assert.equal(await xs.transaction((tx) => Promise.resolve(isTransaction(tx))), true);
 * assert.equal(isTransaction(xs), false);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function isTransaction(target: Target): target is Transaction {
  const t = target as Partial<Transaction>;
  return typeof t.commit === "function" && typeof t.abort === "function" &&
    typeof t.id === "number";
}

/** Options for an operation that may open its own transaction. */
export interface TransactionalOptions {
  /**
   * How many times its own transaction may run before `TransactionConflictError`.
   * @default {16}
   */
  attempts?: number;
  /** Stops retrying and aborts its own transaction. */
  signal?: AbortSignal;
}

/**
 * Runs `fn` in the caller's transaction when `target` is one, else in a new transaction on
 * the store, retried on EAGAIN up to `attempts` times.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { inTransaction } from "./store.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * await inTransaction(xs, (tx) => tx.write("/tool/a", "1"));
 * await xs.transaction((tx) => inTransaction(tx, (same) => same.write("/tool/b", "2")));
 * assert.deepEqual([await xs.read("/tool/a"), await xs.read("/tool/b")], ["1", "2"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function inTransaction<T>(
  target: Target,
  fn: (tx: Transaction) => Promise<T>,
  options: TransactionalOptions = {},
): Promise<T> {
  if (isTransaction(target)) return fn(target);
  const txOptions: TransactionOptions = { attempts: options.attempts ?? 16 };
  if (options.signal !== undefined) txOptions.signal = options.signal;
  return target.transaction(fn, txOptions);
}

/**
 * True for a `XenstoreError` with the given errno name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { XenstoreError } from "../protocol/errors.ts";
import { NodeOps } from "../client/node_ops.ts";
 * import { isErrno } from "./store.ts";
 * assert.equal(isErrno(new XenstoreError("ENOENT", "READ"), "ENOENT"), true);
 * ```
 */
export function isErrno(error: unknown, code: string): boolean {
  return error instanceof XenstoreError && error.code === code;
}

/**
 * RM that also accepts a missing parent (ENOENT), as `libxl__xs_rm_checked`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { rmIfPresent } from "./store.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * await rmIfPresent(xs, "/libxl/7/device/vif/0"); // no /libxl/7: no error
 * await xs.write("/tool/a", "1");
 * await rmIfPresent(xs, "/tool/a");
 * assert.equal(await xs.exists("/tool/a"), false);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function rmIfPresent(ops: XenstoreOps, path: string): Promise<void> {
  // dxl's client takes the ENOENT reply as an answer (no error object made for it).
  if (ops instanceof NodeOps) {
    await ops.rmIfPresent(path);
    return;
  }
  try {
    await ops.rm(path);
  } catch (error) {
    if (!isErrno(error, "ENOENT")) throw error;
  }
}

/**
 * DIRECTORY that returns `[]` for a missing node.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { listIfPresent } from "./store.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * assert.deepEqual(await listIfPresent(xs, "/libxl/7/device"), []);
 * await xs.write("/tool/dxl/a", "1");
 * assert.deepEqual(await listIfPresent(xs, "/tool/dxl"), ["a"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function listIfPresent(ops: XenstoreOps, path: string): Promise<string[]> {
  try {
    return await ops.directory(path);
  } catch (error) {
    if (isErrno(error, "ENOENT")) return [];
    throw error;
  }
}

/**
 * Issues requests without waiting for each reply, then waits for all of them and rejects with
 * the first failure. The client sends requests in call order and xenstored answers a
 * connection's requests in order, so the server sees exactly the sequence of `send` calls;
 * only the waiting is saved. `issue` must call each operation synchronously.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { pipelined } from "./store.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * await xs.transaction((tx) =>
 *   pipelined((send) => {
 *     send(tx.write("/tool/dxl/a", "1"));
 *     send(tx.write("/tool/dxl/b", "2"));
 *   })
 * );
 * assert.deepEqual(await xs.directory("/tool/dxl"), ["a", "b"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function pipelined(
  issue: (send: (request: Promise<unknown>) => void) => void,
): Promise<void> {
  // Every request is waited for; the first failure in send order is the one reported.
  let left = 0;
  let failed: { index: number; reason: unknown } | undefined;
  const all = Promise.withResolvers<void>();
  let issuing = true;
  let index = 0;
  const settle = () => {
    if (--left === 0 && !issuing) all.resolve();
  };
  issue((request) => {
    const i = index++;
    left++;
    request.then(settle, (reason: unknown) => {
      if (failed === undefined || i < failed.index) failed = { index: i, reason };
      settle();
    });
  });
  issuing = false;
  if (left > 0) await all.promise;
  if (failed !== undefined) throw failed.reason;
}

/** The requests a {@linkcode sendAll} batch can hold (`RequestBatch` is one). */
export interface RequestSender {
  /** WRITE. */
  write(path: string, value: string): void;
  /** MKDIR. */
  mkdir(path: string): void;
  /** RM where ENOENT is no failure ({@linkcode rmIfPresent}). */
  rmIfPresent(path: string): void;
  /** SET_PERMS. */
  setPerms(path: string, perms: readonly Permission[]): void;
}

/**
 * Sends the requests `issue` makes, in that order, without waiting for each reply, then
 * waits for all of them and rejects with the first failure — as {@linkcode pipelined}, but on
 * dxl's client without a promise per request (a `RequestBatch`); on any other
 * `XenstoreOps` each request is sent through its methods, as `pipelined` does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { sendAll } from "./store.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * await xs.transaction((tx) =>
 *   sendAll(tx, (s) => {
 *     s.rmIfPresent("/tool/dxl/old/x");
 *     s.write("/tool/dxl/a", "1");
 *     s.mkdir("/tool/dxl/b");
 *   })
 * );
 * assert.deepEqual(await xs.directory("/tool/dxl"), ["a", "b"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function sendAll(ops: XenstoreOps, issue: (s: RequestSender) => void): Promise<void> {
  if (ops instanceof NodeOps) {
    const batch = ops.batch();
    try {
      issue(batch);
    } catch (error) {
      // What was sent still gets its replies; the failure is the caller's.
      void batch.done().catch(() => {});
      return Promise.reject(error);
    }
    return batch.done();
  }
  return pipelined((send) =>
    issue({
      write: (path, value) => send(ops.write(path, value)),
      mkdir: (path) => send(ops.mkdir(path)),
      rmIfPresent: (path) => send(rmIfPresent(ops, path)),
      setPerms: (path, perms) => send(ops.setPerms(path, perms)),
    })
  );
}
