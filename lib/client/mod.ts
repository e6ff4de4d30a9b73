/**
 * dxl's xenstore client: `connect()` returns a {@linkcode XenstoreClient} with every
 * xenstore operation, transactions and watches over one multiplexed Unix-socket connection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "./mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket }); // omit path to find the system's
 * await xs.transaction(async (tx) => {
 *   await tx.write("/tool/demo/a", "1");
 *   await tx.write("/tool/demo/b", "2");
 * });
 * const seen: string[] = [];
 * for await (const ev of xs.watch("/tool/demo")) {
 *   if (ev.kind !== "change") continue;
 *   seen.push(ev.path);
 *   if (ev.initial) await xs.rm("/tool/demo/a");
 *   else break; // sends UNWATCH
 * }
 * assert.deepEqual(seen, ["/tool/demo", "/tool/demo/a"]);
 * assert.deepEqual(await xs.directory("/tool/demo"), ["b"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export { connect } from "./connect.ts";
export { XenstoreClient } from "./client.ts";
export { ABSENT, Connection, DIRECTORY_REPLY_MAX, UNSETTLED } from "./connection.ts";
export { RequestBatch } from "./batch.ts";
export { DomainOps } from "./domain_ops.ts";
export { NodeOps } from "./node_ops.ts";
export { runTransaction, startTransaction, XenstoreTransaction } from "./transaction.ts";
export { WatchIterator } from "./watch.ts";
export { RUN_SOCKET, socketPaths, VAR_RUN_SOCKET } from "./socket_path.ts";
export { backoff, delay } from "./retry.ts";

export type { ConnectOptions } from "./connect.ts";
export type { ClientOptions, ReconnectOptions } from "./client.ts";
export type { AdminOptions, QuotaOptions } from "./domain_ops.ts";
export type { ConnectionHandlers, Payload, ReplySink, RequestOptions } from "./connection.ts";
export type { BatchSend } from "./batch.ts";
export type { RequestFn } from "./node_ops.ts";
export type { WatchOwner } from "./watch.ts";
export type {
  Transaction,
  TransactionOptions,
  Watch,
  WatchEvent,
  WatchOptions,
  XenstoreOps,
} from "./types.ts";
