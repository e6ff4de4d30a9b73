/**
 * The embedded xenstored: a protocol-compatible xenstore server (C xenstored 4.17 semantics)
 * with a socket-free core for table tests.
 *
 * @module
 */

export { startXenstored } from "./server.ts";
export { XenstoredCore } from "./core.ts";
export { Connection } from "./connection.ts";
export { DEFAULT_QUOTAS, resolveQuotas } from "./quotas.ts";
export type { StartXenstoredOptions, XenstoredHandle } from "./server.ts";
export type { XenstoredCoreOptions } from "./core.ts";
export type { QuotaName, Quotas } from "./quotas.ts";
