/**
 * The one incremental frame decoder, used by the client (replies and events), the embedded
 * xenstored (requests) and {@linkcode PacketDecoder}. Frames wholly inside a read are decoded
 * in place; only a frame split across reads is carried over. Pure: no I/O, no Deno APIs.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import { HEADER_SIZE, type Packet, PAYLOAD_MAX } from "./packet.ts";

/** Where a {@linkcode FrameReader} sends what it decodes. */
export interface FrameSink {
  /**
   * A whole frame. With `copy: false` the payload is a view into the caller's read buffer
   * (or the reader's carry buffer), valid only during the call. Returning `false` stops the
   * decoding after this frame: `push` returns how many of its bytes were used, and the rest
   * is the caller's (dropped when the connection is going away, or pushed again later to
   * resume). Throwing stops it too.
   */
  onFrame(type: number, reqId: number, txId: number, payload: Uint8Array): boolean | void;
  /**
   * Whether a frame of `len` bytes, over the reader's `maxPayload`, is acceptable as request or reply
   * `reqId`; when not, `push` throws {@linkcode ProtocolError}.
   */
  allowsOversized(len: number, reqId: number): boolean;
}

/** Options of {@linkcode FrameReader}. */
export interface FrameReaderOptions {
  /**
   * Give each frame its own copy of the payload (small ones carved from a shared 8 KiB slab,
   * as Node's Buffer pool does), so the read buffer can be reused at once; `false` hands out
   * views valid only during `onFrame` (zero-copy).
   * @default {true}
   */
  copy?: boolean;
  /**
   * Largest payload accepted without asking the sink's `allowsOversized`.
   * @default {4096}
   */
  maxPayload?: number;
}

const SLAB_SIZE = 8 * 1024;
const SLAB_ITEM_MAX = 1024;

/**
 * The incremental decoder of one connection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameReader } from "./frame_reader.ts";
 * import { encodePacket } from "./packet.ts";
 * import { Op } from "./op.ts";
 * const got: number[] = [];
 * const reader = new FrameReader({
 *   onFrame: (_type, reqId) => void got.push(reqId),
 *   allowsOversized: () => false,
 * });
 * const frame = encodePacket({ type: Op.Read, reqId: 1, txId: 0, payload: new Uint8Array([7]) });
 * const buf = new Uint8Array(64);
 * buf.set(frame);
 * reader.push(buf, new DataView(buf.buffer), 5); // a partial header is carried
 * buf.set(frame.subarray(5));
 * reader.push(buf, new DataView(buf.buffer), frame.length - 5);
 * assert.deepEqual(got, [1]);
 * assert.equal(reader.partial, 0);
 * ```
 */
export class FrameReader {
  readonly #sink: FrameSink;
  readonly #copy: boolean;
  readonly #max: number;
  // Bytes of a frame split across reads.
  #carry = new Uint8Array(HEADER_SIZE + PAYLOAD_MAX);
  #carryView = new DataView(this.#carry.buffer);
  #carryLen = 0;
  #slab: Uint8Array | undefined;
  #slabUsed = 0;

  /** A reader that hands each whole frame to `sink`. */
  constructor(sink: FrameSink, options: FrameReaderOptions = {}) {
    this.#sink = sink;
    this.#copy = options.copy ?? true;
    this.#max = options.maxPayload ?? PAYLOAD_MAX;
  }

  /** How many bytes of an incomplete frame are held. */
  get partial(): number {
    return this.#carryLen;
  }

  /**
   * Dispatches every whole frame in `buf[0, n)` (`view` is a DataView over `buf`'s whole
   * buffer, `buf.byteOffset` included): first completing a frame carried over from the last
   * read, then straight from `buf`; a trailing partial frame is carried over. Returns the
   * bytes used: `n`, or less when the sink stopped the decoding (the offset just after the
   * frame it stopped at; `buf[used, n)` was not looked at).
   */
  push(buf: Uint8Array, view: DataView, n: number): number {
    const base = buf.byteOffset - view.byteOffset;
    let at = 0;
    if (this.#carryLen > 0) {
      at = this.#completeCarry(buf, n);
      if (at < 0) return -at - 1;
    }
    const sink = this.#sink;
    while (n - at >= HEADER_SIZE) {
      const h = base + at;
      const len = view.getUint32(h + 12, true);
      if (len > this.#max) this.#checkLength(len, view.getUint32(h + 4, true));
      if (n - at < HEADER_SIZE + len) break;
      const start = at + HEADER_SIZE;
      at = start + len;
      const payload = this.#copy ? this.#copyOut(buf, start, at) : buf.subarray(start, at);
      const go = sink.onFrame(
        view.getUint32(h, true),
        view.getUint32(h + 4, true),
        view.getUint32(h + 8, true),
        payload,
      );
      if (go === false) return at;
    }
    if (at < n) {
      // The loop above already vetted the length of a frame whose header is here.
      if (n - at >= HEADER_SIZE) {
        this.#reserveCarry(HEADER_SIZE + view.getUint32(base + at + 12, true));
      }
      this.#carry.set(buf.subarray(at, n), this.#carryLen);
      this.#carryLen += n - at;
    }
    return n;
  }

  /**
   * Adds bytes from `buf` to the carried frame; dispatches it once whole. Returns the bytes
   * used `u`, or `-u - 1` when the sink stopped the decoding.
   */
  #completeCarry(buf: Uint8Array, n: number): number {
    let at = 0;
    if (this.#carryLen < HEADER_SIZE) {
      at = Math.min(HEADER_SIZE - this.#carryLen, n);
      this.#carry.set(buf.subarray(0, at), this.#carryLen);
      this.#carryLen += at;
      if (this.#carryLen < HEADER_SIZE) return at;
      const len = this.#carryView.getUint32(12, true);
      if (len > this.#max) this.#checkLength(len, this.#carryView.getUint32(4, true));
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
      const payload = this.#copy
        ? this.#carry.slice(HEADER_SIZE, total)
        : this.#carry.subarray(HEADER_SIZE, total);
      const go = this.#sink.onFrame(
        view.getUint32(0, true),
        view.getUint32(4, true),
        view.getUint32(8, true),
        payload,
      );
      if (go === false) return -at - 1;
    }
    return at;
  }

  /**
   * Copies `buf[start, end)` out of the reused read buffer. Small payloads are carved from a
   * slab: one backing store per slab instead of one per frame, which is most of the garbage
   * under load. A held payload keeps at most its slab alive.
   */
  #copyOut(buf: Uint8Array, start: number, end: number): Uint8Array {
    const len = end - start;
    if (len > SLAB_ITEM_MAX) return buf.slice(start, end);
    let slab = this.#slab;
    if (slab === undefined || this.#slabUsed + len > SLAB_SIZE) {
      slab = this.#slab = new Uint8Array(SLAB_SIZE);
      this.#slabUsed = 0;
    }
    const at = this.#slabUsed;
    slab.set(buf.subarray(start, end), at);
    this.#slabUsed = at + len;
    return slab.subarray(at, at + len);
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
      `Frame announces a payload of ${len} bytes, over the ${this.#max}-byte limit`,
    );
  }
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
 * An incremental decoder that returns packets (each with its own payload copy): feed it
 * bytes in chunks of any size, take out whole packets. A {@linkcode FrameReader} inside.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PacketDecoder } from "./frame_reader.ts";
 * import { encodePacket } from "./packet.ts";
 * const frame = encodePacket({ type: 2, reqId: 7, txId: 0, payload: new Uint8Array([47, 0]) });
 * const decoder = new PacketDecoder();
 * assert.equal(decoder.push(frame.subarray(0, 5)).length, 0);
 * assert.equal(decoder.push(frame.subarray(5))[0]?.reqId, 7);
 * ```
 */
export class PacketDecoder {
  readonly #reader: FrameReader;
  #out: Packet[] = [];

  /** A decoder with the given payload limit. */
  constructor(options: PacketDecoderOptions = {}) {
    this.#reader = new FrameReader({
      onFrame: (type, reqId, txId, payload) => void this.#out.push({ type, reqId, txId, payload }),
      allowsOversized: () => false,
    }, { maxPayload: options.maxPayload ?? PAYLOAD_MAX });
  }

  /** Bytes received that do not yet form a whole packet. */
  get pending(): number {
    return this.#reader.partial;
  }

  /**
   * Adds bytes and returns every packet they complete, in order. Throws
   * {@linkcode ProtocolError} when a header announces a payload over the limit; the decoder
   * is then unusable (the stream has lost its framing).
   */
  push(chunk: Uint8Array): Packet[] {
    this.#reader.push(
      chunk,
      new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      chunk.length,
    );
    const out = this.#out;
    this.#out = [];
    return out;
  }
}
