/**
 * Waiting for a XenBus `state` node to reach a state: one watch, its initial event, a
 * timeout and an `AbortSignal`; no polling.
 *
 * @module
 */

import { XenbusTimeoutError } from "./errors.ts";
import type { LibxlStore } from "./store.ts";
import type { XenbusState } from "./xenbus_state.ts";
import { parseXenbusState } from "./xenbus_state.ts";
import { sleep } from "./_sleep.ts";

/** Options of {@linkcode waitForXenbusState}. */
export interface WaitForStateOptions {
  /** The state to wait for. */
  state: XenbusState;
  /**
   * Give up after this many milliseconds, counted from the call;
   * `LIBXL_DESTROY_TIMEOUT` and `LIBXL_INIT_TIMEOUT` are 10 s.
   * @default {10000}
   */
  timeoutMs?: number;
  /** Stops waiting; the rejection's `cause` is the signal's reason. @default {undefined} */
  signal?: AbortSignal;
  /**
   * Also accept these states (for example InitWait or later after an add).
   * @default {[]}
   */
  alsoAccept?: readonly number[];
  /**
   * The device waited on, named in the error (`vbd 51712 of domain 1`).
   * @default {the state node alone}
   */
  device?: string;
  /**
   * Waits `ms` milliseconds or until `signal` aborts (injected so tests need not sleep).
   * @default {setTimeout}
   */
  delay?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The clock used to report the time waited. @default {performance.now} */
  now?: () => number;
}

/** Why a wait ended before the wanted state was seen. */
interface Ended {
  end: "timeout" | "abort";
  cause: unknown;
}

/**
 * Waits until the node `statePath` reads `wanted` (or one of `alsoAccept`) and returns the
 * state read. Registers one watch and re-reads on each event, starting with the initial
 * event, so a state reached before the call is seen at once. The timeout runs from the call;
 * when it expires the node is read once more (a state reached just then still counts).
 * Rejects with {@linkcode XenbusTimeoutError} (naming the device, the node, the state reached
 * and the time waited) on timeout or abort.
 *
 * @example
 * ```ts ignore
 * import { waitForXenbusState } from "./xenbus_wait.ts";
 * import { XenbusState } from "./xenbus_state.ts";
 * await waitForXenbusState(xs, "/local/domain/0/backend/vbd/1/51712/state", { state: XenbusState.Closed });
 * ```
 */
export async function waitForXenbusState(
  store: LibxlStore,
  statePath: string,
  options: WaitForStateOptions,
): Promise<XenbusState> {
  const wanted = options.state;
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new RangeError(`timeoutMs must be a non-negative number, got ${timeoutMs}`);
  }
  const now = options.now ?? (() => performance.now());
  const accept = new Set<number>([wanted, ...(options.alsoAccept ?? [])]);
  const started = now();
  const stop = new AbortController();
  const ended = Promise.withResolvers<Ended>();
  const onAbort = () => ended.resolve({ end: "abort", cause: options.signal?.reason });
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  (options.delay ?? sleep)(timeoutMs, stop.signal).then(
    () => ended.resolve({ end: "timeout", cause: new Error(`timed out after ${timeoutMs} ms`) }),
    (cause: unknown) => ended.resolve({ end: "abort", cause }),
  );
  let last: string | undefined;
  const accepted = (value: string | undefined) => {
    const state = parseXenbusState(value);
    return state !== undefined && accept.has(state) ? state : undefined;
  };
  const failure = (cause: unknown) =>
    new XenbusTimeoutError(statePath, {
      wanted,
      reached: last,
      waitedMs: Math.round(now() - started),
      cause,
      ...(options.device === undefined ? {} : { device: options.device }),
    });
  const finish = async (why: Ended): Promise<XenbusState> => {
    if (why.end === "timeout") {
      last = await store.tryRead(statePath).catch(() => last);
      const state = accepted(last);
      if (state !== undefined) return state;
    }
    throw failure(why.cause);
  };
  const watch = store.watch(statePath, { initial: true });
  const events = watch[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await Promise.race([events.next(), ended.promise]);
      if ("end" in next) return await finish(next);
      if (next.done) throw failure(new Error("the watch ended (connection closed)"));
      const reading = store.tryRead(statePath);
      reading.catch(() => {}); // a read overtaken by the end must not reject unhandled
      const read = await Promise.race([reading, ended.promise]);
      if (typeof read === "object") return await finish(read);
      last = read;
      const state = accepted(last);
      if (state !== undefined) return state;
    }
  } finally {
    stop.abort();
    options.signal?.removeEventListener("abort", onAbort);
    await watch.close();
  }
}
