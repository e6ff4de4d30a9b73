/**
 * The embedded xenstored: a protocol-compatible xenstore server with C xenstored 4.17's
 * semantics, on Unix sockets (`<dir>/socket` for dom0, `<dir>/domains/<N>.sock` for guests).
 *
 * @example
 * ```ts ignore
 * import { startXenstored } from "./mod.ts";
 * await using xs = await startXenstored({ dir: "/tmp/xs" });
 * const guestSocket = await xs.guest(5);
 * ```
 *
 * @module
 */

export { startXenstored } from "./server.ts";
export { DEFAULT_QUOTAS, resolveQuotas } from "./quotas.ts";
export type { StartXenstoredOptions, XenstoredHandle } from "./server.ts";
export type { QuotaName, Quotas } from "./quotas.ts";
