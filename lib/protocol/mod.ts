/**
 * The xenstore wire protocol, pure: no I/O and no Deno APIs.
 *
 * @module
 */

export * from "./op.ts";
export * from "./domid.ts";
export * from "./errors.ts";
export * from "./packet.ts";
export * from "./frame_reader.ts";
export * from "./payload.ts";
export * from "./path.ts";
export * from "./perms.ts";
