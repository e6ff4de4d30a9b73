/**
 * The xenstore frame: a 16-byte little-endian header (`struct xsd_sockmsg`) and its payload.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";

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
 * import { encodePacket } from "./packet.ts";
 * const bytes = encodePacket({ type: 2, reqId: 1, txId: 0, payload: new TextEncoder().encode("/a\0") });
 * console.log(bytes.length); // 19
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

/** Options of {@linkcode PacketDecoder}. */
export interface PacketDecoderOptions {
  /**
   * Largest payload accepted; a header announcing more throws {@linkcode ProtocolError}.
   * @default {4096}
   */
  maxPayload?: number;
}

/**
 * An incremental decoder: feed it bytes in chunks of any size, take out whole packets.
 *
 * @example
 * ```ts
 * import { encodePacket, PacketDecoder } from "./packet.ts";
 * const frame = encodePacket({ type: 2, reqId: 7, txId: 0, payload: new Uint8Array([47, 0]) });
 * const decoder = new PacketDecoder();
 * console.log(decoder.push(frame.subarray(0, 5)).length); // 0
 * console.log(decoder.push(frame.subarray(5))[0]?.reqId); // 7
 * ```
 */
export class PacketDecoder {
  #maxPayload: number;
  #buf: Uint8Array = new Uint8Array(0);
  #start = 0;
  #end = 0;

  constructor(options: PacketDecoderOptions = {}) {
    this.#maxPayload = options.maxPayload ?? PAYLOAD_MAX;
  }

  /** Bytes received that do not yet form a whole packet. */
  get pending(): number {
    return this.#end - this.#start;
  }

  /**
   * Adds bytes and returns every packet they complete, in order. Throws
   * {@linkcode ProtocolError} when a header announces a payload over the limit; the decoder
   * is then unusable (the stream has lost its framing).
   */
  push(chunk: Uint8Array): Packet[] {
    this.#append(chunk);
    const packets: Packet[] = [];
    while (this.#end - this.#start >= HEADER_SIZE) {
      const view = new DataView(this.#buf.buffer, this.#buf.byteOffset + this.#start, HEADER_SIZE);
      const len = view.getUint32(12, true);
      if (len > this.#maxPayload) {
        throw new ProtocolError(
          `Frame announces a payload of ${len} bytes, over the ${this.#maxPayload}-byte limit`,
        );
      }
      if (this.#end - this.#start < HEADER_SIZE + len) break;
      const at = this.#start + HEADER_SIZE;
      packets.push({
        type: view.getUint32(0, true),
        reqId: view.getUint32(4, true),
        txId: view.getUint32(8, true),
        payload: this.#buf.slice(at, at + len),
      });
      this.#start = at + len;
    }
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return packets;
  }

  #append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.#end === 0 && this.#start === 0 && chunk.length >= HEADER_SIZE) {
      // Fast path: nothing buffered; decode straight from a copy of the chunk.
      this.#buf = chunk.slice();
      this.#end = chunk.length;
      return;
    }
    if (this.#end + chunk.length > this.#buf.length) {
      const live = this.#end - this.#start;
      const size = Math.max(live + chunk.length, this.#buf.length * 2, 256);
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
      this.#start = 0;
      this.#end = live;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }
}
