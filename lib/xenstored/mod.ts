/**
 * The embedded xenstored: a protocol-compatible xenstore server with C xenstored 4.17's
 * semantics, on Unix sockets (`<dir>/socket` for dom0, `<dir>/domains/<N>.sock` for guests).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startXenstored } from "./mod.ts";
 * import { connect } from "../client/mod.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * {
 *   await using xsd = await startXenstored({ dir, initDom0: true });
 *   await using dom0 = await connect({ path: xsd.socket });
 *   await using guest = await connect({ path: await xsd.guest(5) });
 *   assert.equal(await guest.getDomainPath(5), "/local/domain/5");
 *   await guest.write("/local/domain/5/data/x", "1"); // its own home: allowed
 *   assert.equal(await dom0.read("/local/domain/5/data/x"), "1");
 *   await assert.rejects(guest.read("/local/domain/0/name"), { // dom0's node: denied
 *     name: "XenstoreError",
 *     code: "EACCES",
 *   });
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export { startXenstored } from "./server.ts";
export { DEFAULT_QUOTAS, resolveQuotas } from "./quotas.ts";
export type { StartXenstoredOptions, XenstoredHandle } from "./server.ts";
export type { QuotaName, Quotas } from "./quotas.ts";
