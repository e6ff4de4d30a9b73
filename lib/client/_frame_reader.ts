/**
 * Reassembles reply frames from the connection's reads without copying whole frames: frames
 * wholly inside a read are dispatched in place, only a frame split across reads is carried.
 * Private to the client.
 *
 * @module
 */

import { HEADER_SIZE, type Packet, PAYLOAD_MAX, ProtocolError } from "../protocol/mod.ts";

const SLAB_SIZE = 8 * 1024;
const SLAB_ITEM_MAX = 1024;

/** Where a {@linkcode FrameReader} sends what it decodes. */
export interface FrameSink {
  /** A whole frame. Throwing (a `ProtocolError`) stops the decoding. */
  onFrame(packet: Packet): void;
  /** Whether a frame of `len` bytes, over `PAYLOAD_MAX`, is acceptable as reply `reqId`. */
  allowsOversized(len: number, reqId: number): boolean;
}

/**
 * The in-place incremental decoder of one connection. Each frame's payload is its own copy
 * (small ones carved from a shared slab), so the read buffer can be reused at once.
 *
 * @example
 * ```ts
 * import { FrameReader } from "./_frame_reader.ts";
 * import { encodePacket, Op, type Packet } from "../protocol/mod.ts";
 * const got: Packet[] = [];
 * const reader = new FrameReader({ onFrame: (p) => got.push(p), allowsOversized: () => false });
 * const frame = encodePacket({ type: Op.Read, reqId: 1, txId: 0, payload: new Uint8Array([7]) });
 * const buf = new Uint8Array(64);
 * buf.set(frame);
 * reader.push(buf.subarray(0, 5), new DataView(buf.buffer), 5); // a partial header is carried
 * buf.set(frame.subarray(5));
 * reader.push(buf, new DataView(buf.buffer), frame.length - 5);
 * console.log(got.length, reader.partial); // 1 0
 * ```
 */
export class FrameReader {
  #sink: FrameSink;
  // Bytes of a frame split across reads.
  #carry = new Uint8Array(HEADER_SIZE + PAYLOAD_MAX);
  #carryView = new DataView(this.#carry.buffer);
  #carryLen = 0;
  #slab = new Uint8Array(SLAB_SIZE);
  #slabUsed = 0;

  /** A reader that hands each whole frame to `sink`. */
  constructor(sink: FrameSink) {
    this.#sink = sink;
  }

  /** How many bytes of an incomplete frame are held. */
  get partial(): number {
    return this.#carryLen;
  }

  /**
   * Dispatches every whole frame in `buf[0, n)` (`view` is a DataView of `buf`): first completing a frame carried over from
   * the last read, then straight from `buf`; a trailing partial frame is carried over.
   */
  push(buf: Uint8Array, view: DataView, n: number): void {
    let at = this.#carryLen > 0 ? this.#completeCarry(buf, n) : 0;
    while (n - at >= HEADER_SIZE) {
      const len = view.getUint32(at + 12, true);
      if (len > PAYLOAD_MAX) this.#checkLength(len, view.getUint32(at + 4, true));
      if (n - at < HEADER_SIZE + len) break;
      const start = at + HEADER_SIZE;
      at = start + len;
      this.#sink.onFrame({
        type: view.getUint32(start - 16, true),
        reqId: view.getUint32(start - 12, true),
        txId: view.getUint32(start - 8, true),
        payload: this.#copyOut(buf, start, at),
      });
    }
    if (at < n) {
      // The loop above already vetted the length of a frame whose header is here.
      if (n - at >= HEADER_SIZE) this.#reserveCarry(HEADER_SIZE + view.getUint32(at + 12, true));
      this.#carry.set(buf.subarray(at, n), this.#carryLen);
      this.#carryLen += n - at;
    }
  }

  /** Adds bytes from `buf` to the carried frame; dispatches it once whole. Returns bytes used. */
  #completeCarry(buf: Uint8Array, n: number): number {
    let at = 0;
    if (this.#carryLen < HEADER_SIZE) {
      at = Math.min(HEADER_SIZE - this.#carryLen, n);
      this.#carry.set(buf.subarray(0, at), this.#carryLen);
      this.#carryLen += at;
      if (this.#carryLen < HEADER_SIZE) return at;
      const len = this.#carryView.getUint32(12, true);
      if (len > PAYLOAD_MAX) this.#checkLength(len, this.#carryView.getUint32(4, true));
      this.#reserveCarry(HEADER_SIZE + len);
    }
    const view = this.#carryView;
    const total = HEADER_SIZE + view.getUint32(12, true);
    const take = Math.min(total - this.#carryLen, n - at);
    this.#carry.set(buf.subarray(at, at + take), this.#carryLen);
    this.#carryLen += take;
    at += take;
    if (this.#carryLen === total) {
      this.#carryLen = 0;
      this.#sink.onFrame({
        type: view.getUint32(0, true),
        reqId: view.getUint32(4, true),
        txId: view.getUint32(8, true),
        payload: this.#carry.slice(HEADER_SIZE, total),
      });
    }
    return at;
  }

  /**
   * Copies `buf[start, end)` out of the reused read buffer. Small payloads are carved from a
   * shared 8 KiB slab (as Node's Buffer pool does): one backing store per slab instead of one
   * per reply, which is most of the garbage under load. A held payload keeps at most its slab.
   */
  #copyOut(buf: Uint8Array, start: number, end: number): Uint8Array {
    const len = end - start;
    if (len > SLAB_ITEM_MAX) return buf.slice(start, end);
    if (this.#slabUsed + len > SLAB_SIZE) {
      this.#slab = new Uint8Array(SLAB_SIZE);
      this.#slabUsed = 0;
    }
    const at = this.#slabUsed;
    this.#slab.set(buf.subarray(start, end), at);
    this.#slabUsed = at + len;
    return this.#slab.subarray(at, at + len);
  }

  #reserveCarry(size: number): void {
    if (size <= this.#carry.length) return;
    const next = new Uint8Array(size);
    next.set(this.#carry.subarray(0, this.#carryLen));
    this.#carry = next;
    this.#carryView = new DataView(next.buffer);
  }

  /** Throws unless the sink accepts an oversized frame (oxenstored's long DIRECTORY). */
  #checkLength(len: number, reqId: number): void {
    if (this.#sink.allowsOversized(len, reqId)) return;
    throw new ProtocolError(
      `Frame announces a payload of ${len} bytes, over the ${PAYLOAD_MAX}-byte limit`,
    );
  }
}
