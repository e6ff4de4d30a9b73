/**
 * dxl: a Deno/TypeScript toolstack runtime for the Xen hypervisor.
 *
 * @module
 */

export {
  ConnectionClosedError,
  InvalidPathError,
  InvalidPermissionError,
  PayloadTooLargeError,
  ProtocolError,
  TransactionConflictError,
  XenstoreError,
} from "./lib/protocol/errors.ts";
