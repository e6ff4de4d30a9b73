/**
 * Waiting for a xenstore node to read a value that passes a test: one watch, its initial
 * event, a timeout and an `AbortSignal`; no polling. The XenBus state waits and the shutdown
 * acknowledgement wait are built on it.
 *
 * @module
 */

import type { LibxlStore } from "./store.ts";
import { delay } from "../client/retry.ts";

/** How a wait is bounded. */
export interface NodeWaitOptions {
  /** Give up after this many milliseconds, counted from the call. */
  timeoutMs: number;
  /** Stops waiting. */
  signal?: AbortSignal | undefined;
  /** Waits `ms` milliseconds or until `signal` aborts (injected by tests). */
  delay?: ((ms: number, signal: AbortSignal) => Promise<void>) | undefined;
  /** The clock used to report the time waited. */
  now?: (() => number) | undefined;
}

/** Why a wait ended without an accepted value, and what it saw last. */
export interface WaitEnded {
  /** `timeout`, `abort`, or `closed` (the watch ended with the connection). */
  end: "timeout" | "abort" | "closed";
  /** The abort reason, or an error describing the end. */
  cause: unknown;
  /** The last value read (`undefined`: the node was missing). */
  last: string | undefined;
  /** How long the wait lasted, in milliseconds (rounded). */
  waitedMs: number;
}

/**
 * Waits until `path` reads a value `accept` maps to something other than `undefined`, and
 * returns that. Registers one watch and re-reads on each event, starting with the initial
 * event, so a value present before the call is seen at once. When the timeout expires the
 * node is read once more (a value reached just then still counts). Otherwise rejects with
 * `failure(ended)`.
 */
export async function waitForNode<T>(
  store: LibxlStore,
  path: string,
  accept: (value: string | undefined) => T | undefined,
  options: NodeWaitOptions,
  failure: (ended: WaitEnded) => Error,
): Promise<T> {
  const { timeoutMs } = options;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new RangeError(`timeoutMs must be a non-negative number, got ${timeoutMs}`);
  }
  const now = options.now ?? (() => performance.now());
  const started = now();
  const stop = new AbortController();
  type End = { end: "timeout" | "abort"; cause: unknown };
  const ended = Promise.withResolvers<End>();
  const onAbort = () => ended.resolve({ end: "abort", cause: options.signal?.reason });
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  (options.delay ?? delay)(timeoutMs, stop.signal).then(
    () => ended.resolve({ end: "timeout", cause: new Error(`timed out after ${timeoutMs} ms`) }),
    (cause: unknown) => ended.resolve({ end: "abort", cause }),
  );
  let last: string | undefined;
  const fail = (end: WaitEnded["end"], cause: unknown) =>
    failure({ end, cause, last, waitedMs: Math.round(now() - started) });
  const finish = async (why: End): Promise<T> => {
    if (why.end === "timeout") {
      last = await store.tryRead(path).catch(() => last);
      const value = accept(last);
      if (value !== undefined) return value;
    }
    throw fail(why.end, why.cause);
  };
  const watch = store.watch(path, { initial: true });
  const events = watch[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await Promise.race([events.next(), ended.promise]);
      if ("end" in next) return await finish(next);
      if (next.done) throw fail("closed", new Error("the watch ended (connection closed)"));
      const reading = store.tryRead(path);
      reading.catch(() => {}); // a read overtaken by the end must not reject unhandled
      const read = await Promise.race([reading, ended.promise]);
      if (typeof read === "object") return await finish(read);
      last = read;
      const value = accept(last);
      if (value !== undefined) return value;
    }
  } finally {
    stop.abort();
    options.signal?.removeEventListener("abort", onAbort);
    await watch.close();
  }
}
