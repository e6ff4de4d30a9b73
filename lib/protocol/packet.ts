/**
 * The xenstore frame: a 16-byte little-endian header (`struct xsd_sockmsg`) and its payload.
 *
 * @module
 */

/** Size of the frame header in bytes. */
export const HEADER_SIZE = 16;
/** `XENSTORE_PAYLOAD_MAX`: the largest payload either side may send. */
export const PAYLOAD_MAX = 4096;

/** One xenstore message, either direction. */
export interface Packet {
  /** Message type (see {@linkcode Op}); any u32 on the wire. */
  type: number;
  /** Chosen by the client, echoed in the reply; 0 for watch events. */
  reqId: number;
  /** Transaction id, 0 outside a transaction. */
  txId: number;
  /** The payload bytes. */
  payload: Uint8Array;
}

/**
 * Encodes a packet as header plus payload. The payload limit is not checked here: the client
 * checks it with a clear error before sending, and tests need to build oversized frames.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodePacket } from "./packet.ts";
 * const bytes = encodePacket({ type: 2, reqId: 1, txId: 0, payload: new TextEncoder().encode("/a\0") });
 * assert.equal(bytes.length, 19); // 16-byte header + 3-byte payload
 * const header = new DataView(bytes.buffer, bytes.byteOffset, 16);
 * assert.equal(header.getUint32(0, true), 2); // type, little-endian
 * assert.equal(header.getUint32(12, true), 3); // payload length
 * ```
 */
export function encodePacket(packet: Packet): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + packet.payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, packet.type, true);
  view.setUint32(4, packet.reqId, true);
  view.setUint32(8, packet.txId, true);
  view.setUint32(12, packet.payload.length, true);
  out.set(packet.payload, HEADER_SIZE);
  return out;
}
