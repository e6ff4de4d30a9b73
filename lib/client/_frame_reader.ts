/**
 * The client's side of the one frame codec (`lib/protocol/frame_reader.ts`): frames wholly
 * inside a read are decoded in place, each reply's payload is its own copy (small ones
 * carved from a slab), only a frame split across reads is carried. Private to the client.
 *
 * @module
 */

import { FrameReader as ProtocolFrameReader, type Packet } from "../protocol/mod.ts";

/** Where a {@linkcode FrameReader} sends what it decodes. */
export interface FrameSink {
  /** A whole frame. Throwing (a `ProtocolError`) stops the decoding. */
  onFrame(packet: Packet): void;
  /** Whether a frame of `len` bytes, over `PAYLOAD_MAX`, is acceptable as reply `reqId`. */
  allowsOversized(len: number, reqId: number): boolean;
}

/**
 * The incremental decoder of one client connection: the protocol's reader with payload
 * copies, handing out {@linkcode Packet}s.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
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
 * assert.equal(got.length, 1);
 * assert.equal(reader.partial, 0);
 * ```
 */
export class FrameReader extends ProtocolFrameReader {
  /** A reader that hands each whole frame to `sink`. */
  constructor(sink: FrameSink) {
    super({
      onFrame: (type, reqId, txId, payload) => sink.onFrame({ type, reqId, txId, payload }),
      allowsOversized: (len, reqId) => sink.allowsOversized(len, reqId),
    });
  }
}
