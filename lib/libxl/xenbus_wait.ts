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
  /**
   * Give up after this many milliseconds, counted from the first read of the node (the
   * initial watch event); `LIBXL_DESTROY_TIMEOUT` and `LIBXL_INIT_TIMEOUT` are 10 s.
   * @default {10000}
   */
  timeoutMs?: number;
  /** Stops waiting; the rejection's `cause` is the signal's reason. */
  signal?: AbortSignal;
  /**
   * Also accept these states (for example InitWait or later after an add).
   * @default {[]}
   */
  alsoAccept?: readonly number[];
  /**
   * Waits `ms` milliseconds or until `signal` aborts (injected so tests need not sleep).
   * @default {setTimeout}
   */
  delay?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The clock used to report the time waited. @default {performance.now} */
  now?: () => number;
}

/**
 * Waits until the node `statePath` reads `wanted` (or one of `alsoAccept`) and returns the
 * state read. Registers one watch and re-reads on each event, starting with the initial
 * event, so a state reached before the call is seen at once. Rejects with
 * {@linkcode XenbusTimeoutError} (naming the node, the state reached and the time waited)
 * on timeout or abort.
 *
 * @example
 * ```ts ignore
 * import { waitForXenbusState } from "./xenbus_wait.ts";
 * import { XenbusState } from "./xenbus_state.ts";
 * await waitForXenbusState(xs, "/local/domain/0/backend/vbd/1/51712/state", XenbusState.Closed);
 * ```
 */
export async function waitForXenbusState(
  store: LibxlStore,
  statePath: string,
  wanted: XenbusState,
  options: WaitForStateOptions = {},
): Promise<XenbusState> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new RangeError(`timeoutMs must be a non-negative number, got ${timeoutMs}`);
  }
  const now = options.now ?? (() => performance.now());
  const delay = options.delay ?? sleep;
  const accept = new Set<number>([wanted, ...(options.alsoAccept ?? [])]);
  const started = now();
  let last: string | undefined;
  const stop = new AbortController();
  const ended = Promise.withResolvers<never>();
  const fail = (cause: unknown) =>
    ended.reject(
      new XenbusTimeoutError(statePath, wanted, last, Math.round(now() - started), { cause }),
    );
  const onAbort = () => fail(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const armTimeout = () =>
    delay(timeoutMs, stop.signal).then(() => {
      if (!stop.signal.aborted) fail(new Error(`timed out after ${timeoutMs} ms`));
    });
  let armed = false;
  ended.promise.catch(() => {});
  const watch = store.watch(statePath, { initial: true });
  const events = watch[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await Promise.race([events.next(), ended.promise]);
      if (next.done) {
        throw new XenbusTimeoutError(statePath, wanted, last, Math.round(now() - started), {
          cause: new Error("the watch ended (connection closed)"),
        });
      }
      last = await Promise.race([store.tryRead(statePath), ended.promise]);
      const state = parseXenbusState(last);
      if (state !== undefined && accept.has(state)) return state;
      if (!armed) {
        armed = true;
        armTimeout();
      }
    }
  } finally {
    stop.abort();
    options.signal?.removeEventListener("abort", onAbort);
    await watch.close();
  }
}
