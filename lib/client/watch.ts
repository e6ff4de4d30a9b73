/**
 * A registered watch as an async iterable, with an unbounded event buffer so a slow consumer
 * never blocks the connection's reader.
 *
 * @module
 */

import type { Watch, WatchEvent } from "./types.ts";

/** What a {@linkcode WatchIterator} needs from its client. */
export interface WatchOwner {
  /** Forgets the watch, sending UNWATCH if the server has it registered. */
  unregister(watch: WatchIterator): Promise<void>;
}

interface Waiter {
  resolve: (result: IteratorResult<WatchEvent>) => void;
  reject: (error: unknown) => void;
}

/**
 * One watch. The client feeds it events ({@linkcode WatchIterator.push}); iterating drains
 * them in order. Ending the iteration in any way (`break`, `return`, `close()`, an abort,
 * the client closing) unregisters it once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "./mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const watch = xs.watch("/local/domain/3/device", { initial: false });
 * await watch.ready;
 * await xs.write("/local/domain/3/device/vif/0/state", "4");
 * for await (const ev of watch) {
 *   if (ev.kind === "reconnected") continue; // re-read state
 *   assert.equal(ev.path, "/local/domain/3/device/vif/0/state");
 *   break; // sends UNWATCH
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class WatchIterator implements Watch, AsyncIterableIterator<WatchEvent> {
  /** The watched path. */
  readonly path: string;
  /** The token. */
  readonly token: string;
  /** The depth sent with WATCH, if any. */
  readonly depth: number | undefined;
  /** Resolves once the server acknowledged the WATCH; rejects if it refused. */
  readonly ready: Promise<void>;
  /** True while the server has this watch registered (acknowledged, not yet dropped). */
  registered = false;
  #owner: WatchOwner;
  #yieldInitial: boolean;
  #expectInitial = false;
  #skipNext = false;
  #queue: WatchEvent[] = [];
  #head = 0;
  #waiter: Waiter | undefined;
  #ended = false;
  #error: unknown;
  #closing: Promise<void> | undefined;
  #signal: AbortSignal | undefined;
  #onAbort = (): void => {
    this.close().catch(() => {});
  };

  /**
   * A watch of `path` with `token`, owned (unregistered) by `owner`; `registered` settles
   * when the server answers the WATCH.
   */
  constructor(
    owner: WatchOwner,
    path: string,
    token: string,
    options: {
      depth?: number | undefined;
      initial?: boolean | undefined;
      signal?: AbortSignal | undefined;
      registered: Promise<void>;
    },
  ) {
    this.#owner = owner;
    this.path = path;
    this.token = token;
    this.depth = options.depth;
    this.#yieldInitial = options.initial ?? true;
    this.ready = options.registered;
    this.ready.catch((error) => this.end(error));
    this.#signal = options.signal;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Marks the server's acknowledgement: the next event is the initial one. */
  acknowledged(): void {
    this.registered = true;
    this.#expectInitial = true;
  }

  /** Marks a re-registration after a reconnect: its initial event is replaced by a marker. */
  reacknowledged(): void {
    this.registered = true;
    this.#expectInitial = false;
    this.#skipNext = true;
    this.#deliver({ kind: "reconnected" });
  }

  /** True if an event with this path belongs to this watch (for tokens shared by watches). */
  matches(eventPath: string): boolean {
    if (this.path === "/" || eventPath === this.path) return true;
    return eventPath.startsWith(this.path + "/");
  }

  /** Queues an event the server sent for this watch's token. */
  push(path: string): void {
    if (this.#ended) return;
    if (this.#skipNext) {
      this.#skipNext = false;
      return;
    }
    const initial = this.#expectInitial;
    this.#expectInitial = false;
    if (initial && !this.#yieldInitial) return;
    this.#deliver({ kind: "change", path, token: this.token, initial });
  }

  /** The connection dropped: the watch is no longer registered until re-registration. */
  suspend(): void {
    this.registered = false;
    this.#expectInitial = false;
    this.#skipNext = false;
  }

  #deliver(event: WatchEvent): void {
    if (this.#ended) return;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter.resolve({ value: event, done: false });
      return;
    }
    this.#queue.push(event);
  }

  /**
   * Ends the iteration without UNWATCH (the client does that itself, or the connection is
   * gone). With an `error`, the next `next()` after the buffered events rejects with it.
   */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter === undefined) return;
    if (error === undefined) waiter.resolve({ value: undefined, done: true });
    else waiter.reject(error);
  }

  /** Sends UNWATCH (if registered) and ends the iteration. Safe to call more than once. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.end();
    this.#queue = [];
    this.#head = 0;
    try {
      await this.ready;
    } catch {
      return;
    }
    await this.#owner.unregister(this);
  }

  /** The next buffered event, waiting for one if none is buffered. */
  next(): Promise<IteratorResult<WatchEvent>> {
    if (this.#head < this.#queue.length) {
      const value = this.#queue[this.#head++] as WatchEvent;
      if (this.#head === this.#queue.length) {
        this.#queue = [];
        this.#head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended) {
      if (this.#error !== undefined) {
        const error = this.#error;
        this.#error = undefined;
        return Promise.reject(error);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.#waiter !== undefined) {
      return Promise.reject(new TypeError(`watch "${this.path}": next() called concurrently`));
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** Ends the iteration (called by `break` and `return` in `for await`); sends UNWATCH. */
  async return(): Promise<IteratorResult<WatchEvent>> {
    await this.close();
    return { value: undefined, done: true };
  }

  /** This object is its own iterator. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Same as {@linkcode WatchIterator.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
