/**
 * The 16-byte header, packet encoding and the incremental decoder: byte-at-a-time, random
 * chunks, a round-trip property over random packets, and oversized lengths.
 */

import assert from "node:assert/strict";
import {
  encodePacket,
  HEADER_SIZE,
  type Packet,
  PacketDecoder,
  PAYLOAD_MAX,
  ProtocolError,
} from "../../lib/protocol/mod.ts";
import { type Prng, withSeed } from "./_prng.ts";
import { concatBytes } from "../_helpers/bytes.ts";

const opts = { permissions: "none" } as const;

function randomPacket(rng: Prng): Packet {
  const payload = new Uint8Array(rng.next() < 0.1 ? 0 : rng.int(0, PAYLOAD_MAX));
  for (let i = 0; i < payload.length; i++) payload[i] = rng.int(0, 255);
  return {
    type: rng.int(0, 0xffffffff),
    reqId: rng.int(0, 0xffffffff),
    txId: rng.int(0, 0xffffffff),
    payload,
  };
}

Deno.test("encodePacket() writes a little-endian header then the payload", opts, () => {
  const bytes = encodePacket({
    type: 2,
    reqId: 0x01020304,
    txId: 7,
    payload: new Uint8Array([47, 0]),
  });
  assert.deepEqual(
    [...bytes],
    [2, 0, 0, 0, 4, 3, 2, 1, 7, 0, 0, 0, 2, 0, 0, 0, 47, 0],
  );
  assert.equal(HEADER_SIZE, 16);
});

Deno.test("PacketDecoder decodes frames fed one byte at a time", opts, () => {
  withSeed((rng) => {
    const packets = Array.from({ length: 20 }, () => randomPacket(rng));
    const stream = concatBytes(packets.map(encodePacket));
    const decoder = new PacketDecoder();
    const out: Packet[] = [];
    for (let i = 0; i < stream.length; i++) out.push(...decoder.push(stream.subarray(i, i + 1)));
    assert.deepEqual(out, packets);
    assert.equal(decoder.pending, 0);
  });
});

Deno.test("PacketDecoder decodes frames fed in random chunk sizes", opts, () => {
  for (let round = 0; round < 20; round++) {
    withSeed((rng) => {
      const packets = Array.from({ length: rng.int(1, 40) }, () => randomPacket(rng));
      const stream = concatBytes(packets.map(encodePacket));
      const decoder = new PacketDecoder();
      const out: Packet[] = [];
      for (let at = 0; at < stream.length;) {
        const size = rng.int(1, rng.next() < 0.5 ? 32 : 9000);
        out.push(...decoder.push(stream.subarray(at, at + size)));
        at += size;
      }
      assert.deepEqual(out, packets);
      assert.equal(decoder.pending, 0);
    });
  }
});

Deno.test("decode(encode(p)) is p for random packets, whole and split in two", opts, () => {
  withSeed((rng) => {
    const decoder = new PacketDecoder();
    for (let i = 0; i < 500; i++) {
      const packet = randomPacket(rng);
      const bytes = encodePacket(packet);
      assert.equal(bytes.length, HEADER_SIZE + packet.payload.length);
      const cut = rng.int(0, bytes.length);
      const got = [...decoder.push(bytes.subarray(0, cut)), ...decoder.push(bytes.subarray(cut))];
      assert.deepEqual(got, [packet]);
    }
  });
});

Deno.test("decoded payloads do not alias the caller's chunk", opts, () => {
  const chunk = encodePacket({ type: 2, reqId: 1, txId: 0, payload: new Uint8Array([1, 2]) });
  const [packet] = new PacketDecoder().push(chunk);
  chunk.fill(0);
  assert.deepEqual([...packet!.payload], [1, 2]);
});

Deno.test("a header announcing more than 4096 bytes throws ProtocolError", opts, () => {
  const header = encodePacket({ type: 2, reqId: 1, txId: 0, payload: new Uint8Array(0) });
  new DataView(header.buffer).setUint32(12, PAYLOAD_MAX + 1, true);
  assert.throws(
    () => new PacketDecoder().push(header),
    (e) => e instanceof ProtocolError && /4097 bytes, over the 4096-byte limit/.test(e.message),
  );
  // Exactly the limit is fine, and the check fires as soon as the header is complete.
  const ok = encodePacket({ type: 2, reqId: 1, txId: 0, payload: new Uint8Array(PAYLOAD_MAX) });
  assert.equal(new PacketDecoder().push(ok).length, 1);
  const partial = new PacketDecoder();
  assert.deepEqual(partial.push(header.subarray(0, 15)), []);
  assert.throws(() => partial.push(header.subarray(15)), ProtocolError);
});

Deno.test("maxPayload raises or lowers the decoder's limit", opts, () => {
  const big = encodePacket({ type: 1, reqId: 1, txId: 0, payload: new Uint8Array(5000) });
  assert.equal(new PacketDecoder({ maxPayload: 8192 }).push(big).length, 1);
  assert.throws(() => new PacketDecoder({ maxPayload: 10 }).push(big.subarray(0, 16)), /5000/);
});

Deno.test("withSeed() names the seed of a failing randomized test", opts, () => {
  assert.throws(() =>
    withSeed(() => {
      throw new Error("boom");
    }, 1234), /failed with seed 1234 \(pass it to withSeed to replay\): boom/);
});
