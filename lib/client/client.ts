/**
 * `XenstoreClient`: the node operations, domain and admin operations, transactions and
 * watches over one multiplexed connection, with opt-in reconnect.
 *
 * @module
 */

import {
  ConnectionClosedError,
  decodeWatchEvent,
  encodeArgs,
  Op,
  type Packet,
  validatePath,
} from "../protocol/mod.ts";
import { Connection, type RequestOptions } from "./connection.ts";
import { DomainOps } from "./domain_ops.ts";
import type { RequestFn } from "./node_ops.ts";
import { backoff, delay as defaultDelay } from "./retry.ts";
import { runTransaction, startTransaction, type XenstoreTransaction } from "./transaction.ts";
import type { Transaction, TransactionOptions, WatchOptions } from "./types.ts";
import { WatchIterator, type WatchOwner } from "./watch.ts";

/** How to reconnect after the connection drops. */
export interface ReconnectOptions {
  /**
   * Connection attempts before giving up (then the client closes and watches throw).
   * @default {10}
   */
  attempts?: number;
  /**
   * Base of the jittered exponential backoff before each attempt, in milliseconds.
   * @default {50}
   */
  backoffMs?: number;
  /**
   * Waits `ms` milliseconds (injected so tests need not sleep).
   * @default {setTimeout-based, abortable}
   */
  delay?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Options of a client, beyond the socket it connects to. */
export interface ClientOptions {
  /**
   * Reconnect when the connection drops: pending requests still reject with
   * `ConnectionClosedError` (never resent), then watches are re-registered and each yields
   * `{ kind: "reconnected" }`.
   * @default {false}
   */
  reconnect?: boolean | ReconnectOptions;
}

let tokenSeed = 0;
const TOKEN_PREFIX = `dxl-${Math.floor(Math.random() * 0x100000000).toString(16)}-`;

/**
 * A connection to xenstored. Create it with `connect()`; node operations come from
 * {@linkcode NodeOps}, domain and admin operations from {@linkcode DomainOps}. Requests may be issued concurrently: they share the socket and their
 * replies are matched by `req_id`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "./mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * await xs.write("/local/domain/0/name", "Domain-0");
 * const [name, children] = await Promise.all([ // one socket, both in flight
 *   xs.read("/local/domain/0/name"),
 *   xs.directory("/local/domain/0"),
 * ]);
 * assert.equal(name, "Domain-0");
 * assert.ok(children.includes("name"));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class XenstoreClient extends DomainOps implements WatchOwner, AsyncDisposable {
  #conn: Connection;
  #watches = new Map<string, WatchIterator[]>();
  #rewatching = new Map<WatchIterator, Promise<void>>();
  #reconnect: Required<ReconnectOptions> | undefined;
  #reconnecting: Promise<void> | undefined;
  #stop = new AbortController();
  #closing: Promise<void> | undefined;
  #request: RequestFn;

  private constructor(request: RequestFn, conn: Connection, options: ClientOptions) {
    super(request, 0);
    this.#request = request;
    this.#conn = conn;
    const r = options.reconnect;
    if (r !== undefined && r !== false) {
      const o = r === true ? {} : r;
      if (o.attempts !== undefined && (!Number.isInteger(o.attempts) || o.attempts < 1)) {
        throw new RangeError(`reconnect attempts must be a positive integer, got ${o.attempts}`);
      }
      this.#reconnect = {
        attempts: o.attempts ?? 10,
        backoffMs: o.backoffMs ?? 50,
        delay: o.delay ?? defaultDelay,
      };
    }
  }

  /** Opens a client on the socket at `path` (no search; see `connect()` for that). */
  static async open(path: string, options: ClientOptions = {}): Promise<XenstoreClient> {
    const ref: { client?: XenstoreClient } = {};
    const conn = await Connection.open(path, {
      onEvent: (packet: Packet) => {
        if (ref.client) ref.client.#onEvent(packet);
      },
      onClose: (reason: Error) => {
        if (ref.client) ref.client.#onClose(reason);
      },
    });
    const request: RequestFn = (type, txId, payload, options) =>
      (ref.client as XenstoreClient).#conn.request(type, txId, payload, options);
    const client = new XenstoreClient(request, conn, options);
    ref.client = client;
    return client;
  }

  /** The socket path this client is connected to. */
  get path(): string {
    return this.#conn.path;
  }

  /** True once `close()` was called or the connection was lost for good. */
  get closed(): boolean {
    return this.#closing !== undefined || (this.#conn.closed && this.#reconnecting === undefined);
  }

  /**
   * Sends a request as given, without path validation: the escape hatch for operations this
   * class does not wrap and for testing servers with malformed input. The payload limit still
   * applies. Resolves with the reply payload; an aborted `signal` stops the wait.
   */
  request(
    type: number,
    payload: Uint8Array,
    options: { txId?: number; path?: string; signal?: AbortSignal } = {},
  ): Promise<Uint8Array> {
    return this.#request(type, options.txId ?? 0, payload, options);
  }

  /** Drops every watch and transaction of this connection; watch iterators end. */
  async resetWatches(): Promise<void> {
    await this.#request(Op.ResetWatches, 0, encodeArgs([""]));
    for (const list of [...this.#watches.values()]) for (const w of list) w.end();
    this.#watches.clear();
  }

  /**
   * Starts a transaction to drive by hand: `commit()` or `abort()` it. It lives on the
   * current connection: if that drops, its operations reject with `ConnectionClosedError`
   * even after a reconnect (they are never sent on the new connection).
   */
  startTransaction(): Promise<XenstoreTransaction> {
    const conn = this.#conn;
    return startTransaction((type, txId, payload, options) =>
      conn.request(type, txId, payload, options)
    );
  }

  /**
   * Runs `fn` in a transaction and commits, rerunning it on EAGAIN with jittered backoff;
   * see `runTransaction` for the rules.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T> {
    return runTransaction(() => this.startTransaction(), fn, options);
  }

  /**
   * Watches `path` (or a special path such as `@releaseDomain`). Iterate the result; leaving
   * the loop sends UNWATCH. A refused registration (EEXIST for a duplicate token and path)
   * rejects `ready` and the first `next()`.
   */
  watch(path: string, options: WatchOptions = {}): WatchIterator {
    validatePath(path, { special: true });
    const depth = options.depth;
    if (depth !== undefined && (!Number.isInteger(depth) || depth < 0)) {
      throw new RangeError(`watch depth must be a non-negative integer, got ${depth}`);
    }
    const token = options.token ?? `${TOKEN_PREFIX}${++tokenSeed}`;
    if (token.length === 0 || token.includes("\0")) {
      throw new TypeError(
        `watch token must be non-empty and contain no NUL: ${JSON.stringify(token)}`,
      );
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const watch = new WatchIterator(this, path, token, {
      depth,
      initial: options.initial,
      signal: options.signal,
      registered: promise,
    });
    const list = this.#watches.get(token);
    if (list === undefined) this.#watches.set(token, [watch]);
    else list.push(watch);
    this.#sendWatch(watch, () => watch.acknowledged()).then(resolve, (error) => {
      this.#forget(watch);
      reject(error);
    });
    return watch;
  }

  #sendWatch(watch: WatchIterator, onAck: () => void): Promise<void> {
    if (this.#closing !== undefined) {
      return Promise.reject(new ConnectionClosedError("The xenstore client is closed"));
    }
    const args = [watch.path, watch.token];
    if (watch.depth !== undefined) args.push(String(watch.depth));
    const options: RequestOptions = { path: watch.path, onAck };
    return this.#conn.request(Op.Watch, 0, encodeArgs(args), options).then(() => {});
  }

  /**
   * Part of {@linkcode WatchOwner}: forgets `watch`, sending UNWATCH if registered (waiting
   * first for a re-registration in flight after a reconnect, which would otherwise leave the
   * watch registered on the server).
   */
  async unregister(watch: WatchIterator): Promise<void> {
    await this.#rewatching.get(watch)?.catch(() => {});
    const registered = watch.registered;
    watch.registered = false;
    this.#forget(watch);
    if (!registered || this.#conn.closed) return;
    try {
      const args = encodeArgs([watch.path, watch.token]);
      await this.#conn.request(Op.Unwatch, 0, args, { path: watch.path });
    } catch (error) {
      if (!(error instanceof ConnectionClosedError)) throw error;
    }
  }

  #forget(watch: WatchIterator): void {
    const list = this.#watches.get(watch.token);
    if (list === undefined) return;
    const i = list.indexOf(watch);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#watches.delete(watch.token);
  }

  #onEvent(packet: Packet): void {
    const { path, token } = decodeWatchEvent(packet.payload);
    const list = this.#watches.get(token);
    if (list === undefined) return;
    if (list.length === 1) {
      const only = list[0] as WatchIterator;
      if (only.registered) only.push(path);
      return;
    }
    const live = list.filter((w) => w.registered);
    const matching = live.filter((w) => w.matches(path));
    for (const w of matching.length > 0 ? matching : live) w.push(path);
  }

  #allWatches(): WatchIterator[] {
    return [...this.#watches.values()].flat();
  }

  #onClose(reason: Error): void {
    if (this.#closing !== undefined) return;
    const watches = this.#allWatches();
    if (this.#reconnect === undefined) {
      const error = reason instanceof ConnectionClosedError
        ? reason
        : new ConnectionClosedError("The xenstore connection failed", { cause: reason });
      for (const w of watches) w.end(error);
      this.#watches.clear();
      return;
    }
    for (const w of watches) w.suspend();
    this.#reconnecting = this.#reconnectLoop(reason, this.#reconnect);
  }

  async #reconnectLoop(reason: Error, options: Required<ReconnectOptions>): Promise<void> {
    const signal = this.#stop.signal;
    let lastError: unknown = reason;
    for (let attempt = 1; attempt <= options.attempts; attempt++) {
      try {
        await options.delay(backoff(attempt, options.backoffMs), signal);
      } catch {
        return; // close() was called meanwhile
      }
      if (signal.aborted) return;
      try {
        const next = await Connection.open(this.#conn.path, {
          onEvent: (packet) => this.#onEvent(packet),
          onClose: (why) => this.#onClose(why),
        });
        if (signal.aborted) {
          await next.close();
          return;
        }
        this.#conn = next;
      } catch (error) {
        lastError = error;
        continue;
      }
      this.#reconnecting = undefined;
      for (const w of this.#allWatches()) {
        const again = this.#sendWatch(w, () => w.reacknowledged());
        this.#rewatching.set(w, again);
        again.then(
          () => this.#rewatching.delete(w),
          (error) => {
            this.#rewatching.delete(w);
            this.#forget(w);
            w.end(error);
          },
        );
      }
      return;
    }
    this.#reconnecting = undefined;
    const error = new ConnectionClosedError(
      `Lost the xenstore connection to ${this.#conn.path}; gave up after ${options.attempts} reconnect attempts`,
      { cause: lastError },
    );
    for (const w of this.#allWatches()) w.end(error);
    this.#watches.clear();
  }

  /**
   * Sends UNWATCH for every watch (ending their iterators), then closes the connection;
   * requests still pending reject with `ConnectionClosedError`.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#stop.abort();
    await this.#reconnecting;
    const watches = this.#allWatches();
    await Promise.allSettled(watches.map((w) => w.close()));
    this.#watches.clear();
    await this.#conn.close();
  }

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
