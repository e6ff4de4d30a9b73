/**
 * FrameReader stopping and resuming: a sink that returns `false` stops the decoding after
 * that frame, `push` returns the bytes it used, and pushing the rest later (in any chunks)
 * gives every frame once, in order — what the embedded xenstored does with the input of a
 * guest it may not read.
 */

import assert from "node:assert/strict";
import { encodePacket, FrameReader } from "../../lib/protocol/mod.ts";
import { withSeed } from "./_prng.ts";
import { concatBytes } from "../_helpers/bytes.ts";

const opts = { permissions: "none" } as const;

function frame(reqId: number, size: number): Uint8Array {
  return encodePacket({ type: 2, reqId, txId: 0, payload: new Uint8Array(size).fill(reqId) });
}

/** A reader that stops after every frame whose id is in `stopAt`, recording what it got. */
function stopping(stopAt: Set<number>) {
  const got: string[] = [];
  const reader = new FrameReader({
    onFrame: (_type, reqId, _txId, payload) => {
      got.push(`${reqId}:${payload.length}:${payload.every((b) => b === (reqId & 0xff))}`);
      return !stopAt.has(reqId);
    },
    allowsOversized: () => false,
  }, { copy: false });
  return { got, reader };
}

const push = (reader: FrameReader, bytes: Uint8Array) =>
  reader.push(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), bytes.length);

Deno.test(
  "FrameReader.push() returns the bytes used: all of them, or up to the frame the sink stopped at",
  opts,
  () => {
    const bytes = concatBytes([frame(1, 3), frame(2, 0), frame(3, 10)]);
    const { got, reader } = stopping(new Set([2]));
    assert.equal(push(reader, bytes), 19 + 16);
    assert.deepEqual(got, ["1:3:true", "2:0:true"]);
    assert.equal(reader.partial, 0); // the rest is the caller's, not carried
    assert.equal(push(reader, bytes.subarray(35)), 26);
    assert.deepEqual(got, ["1:3:true", "2:0:true", "3:10:true"]);
  },
);

Deno.test(
  "FrameReader.push() stopping at a frame completed from its carry returns the bytes taken for it",
  opts,
  () => {
    const bytes = concatBytes([frame(1, 20), frame(2, 5)]);
    const { got, reader } = stopping(new Set([1]));
    assert.equal(push(reader, bytes.subarray(0, 10)), 10); // carried
    assert.equal(reader.partial, 10);
    assert.equal(push(reader, bytes.subarray(10)), 26); // 26 more bytes finish frame 1
    assert.deepEqual(got, ["1:20:true"]);
    assert.equal(push(reader, bytes.subarray(36)), 21);
    assert.deepEqual(got, ["1:20:true", "2:5:true"]);
  },
);

Deno.test(
  "FrameReader stopped anywhere and resumed with the rest in random chunks gives every frame once, in order",
  opts,
  () => {
    withSeed((rng) => {
      for (let round = 0; round < 200; round++) {
        const n = rng.int(1, 12);
        const parts = Array.from({ length: n }, (_, i) => frame(i + 1, rng.int(0, 300)));
        const bytes = concatBytes(parts);
        const stopAt = new Set(parts.map((_, i) => i + 1).filter(() => rng.next() < 0.4));
        const { got, reader } = stopping(stopAt);
        // Bytes not used yet, as a caller holding a stopped connection's input keeps them.
        let pending = new Uint8Array(0);
        let at = 0;
        while (at < bytes.length || pending.length > 0) {
          const take = rng.int(1, 400);
          const chunk = concatBytes([pending, bytes.subarray(at, at + take)]);
          at = Math.min(bytes.length, at + take);
          const used = push(reader, chunk);
          assert.ok(used >= 0 && used <= chunk.length);
          pending = chunk.slice(used);
        }
        assert.deepEqual(got, parts.map((p, i) => `${i + 1}:${p.length - 16}:true`));
        assert.equal(reader.partial, 0);
      }
    });
  },
);
