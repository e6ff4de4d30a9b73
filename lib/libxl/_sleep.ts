/**
 * An abortable sleep, the default timer of the XenBus waits and simulated drivers.
 *
 * @module
 */

/**
 * Sleeps `ms` milliseconds; resolves early (without error) when `signal` aborts.
 *
 * @example
 * ```ts
 * import { sleep } from "./_sleep.ts";
 * await sleep(1, new AbortController().signal);
 * ```
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
