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
import { waitForNode } from "./_wait_node.ts";

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

/**
 * Waits until the node `statePath` reads `wanted` (or one of `alsoAccept`) and returns the
 * state read. Registers one watch and re-reads on each event, starting with the initial
 * event, so a state reached before the call is seen at once. The timeout runs from the call;
 * when it expires the node is read once more (a state reached just then still counts).
 * Rejects with {@linkcode XenbusTimeoutError} (naming the device, the node, the state reached
 * and the time waited) on timeout or abort.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { waitForXenbusState } from "./xenbus_wait.ts";
 * import { XenbusState } from "./xenbus_state.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const state = "/tool/dxl/state";
 * await xs.write(state, "5");
 * const closed = waitForXenbusState(xs, state, { state: XenbusState.Closed, timeoutMs: 10_000 });
 * await xs.write(state, "6");
 * assert.equal(await closed, XenbusState.Closed);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function waitForXenbusState(
  store: LibxlStore,
  statePath: string,
  options: WaitForStateOptions,
): Promise<XenbusState> {
  const wanted = options.state;
  const accept = new Set<number>([wanted, ...(options.alsoAccept ?? [])]);
  return waitForNode(
    store,
    statePath,
    (value) => {
      const state = parseXenbusState(value);
      return state !== undefined && accept.has(state) ? state : undefined;
    },
    {
      timeoutMs: options.timeoutMs ?? 10_000,
      signal: options.signal,
      delay: options.delay,
      now: options.now,
    },
    (ended) =>
      new XenbusTimeoutError(statePath, {
        wanted,
        reached: ended.last,
        waitedMs: ended.waitedMs,
        cause: ended.cause,
        ...(options.device === undefined ? {} : { device: options.device }),
      }),
  );
}
