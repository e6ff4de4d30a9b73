/**
 * Backoff and delay helpers shared by transaction retries and reconnects.
 *
 * @module
 */

/**
 * Waits `ms` milliseconds; rejects with the signal's reason if it aborts first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { delay } from "./retry.ts";
 * const start = performance.now();
 * await delay(5);
 * assert.ok(performance.now() - start >= 4);
 * ```
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The longest backoff, as a multiple of the base: the exponent stops growing at 2^10. */
const MAX_EXPONENT = 10;

/**
 * The jittered exponential backoff before retry number `attempt` (1-based): a random
 * duration between half and all of `baseMs * 2^(attempt - 1)` ("equal jitter").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backoff } from "./retry.ts";
 * assert.equal(backoff(3, 10, () => 1), 40);
 * assert.equal(backoff(3, 10, () => 0), 20);
 * ```
 */
export function backoff(
  attempt: number,
  baseMs: number,
  random: () => number = Math.random,
): number {
  if (!Number.isFinite(baseMs) || baseMs < 0) {
    throw new RangeError(`backoff base must be a non-negative number of ms, got ${baseMs}`);
  }
  const full = baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), MAX_EXPONENT);
  return full / 2 + (full / 2) * random();
}
