/**
 * The outgoing frame buffer: what `take()` hands to the socket writer must stay as it was
 * while later replies are queued and taken (small outputs share a slab).
 *
 * @module
 */

import assert from "node:assert/strict";
import { OutBuffer } from "../../lib/xenstored/_bytes.ts";

function frameBytes(type: number, reqId: number, txId: number, payload: string): number[] {
  const header = [type, reqId, txId, payload.length].flatMap((v) => [
    v & 0xff,
    (v >>> 8) & 0xff,
    (v >>> 16) & 0xff,
    v >>> 24,
  ]);
  return [...header, ...[...payload].map((c) => c.charCodeAt(0))];
}

Deno.test("take() returns bytes that later frames and takes do not change", () => {
  const out = new OutBuffer();
  const taken: [Uint8Array, number[]][] = [];
  // Enough small takes to fill several 64 KiB slabs, with a large one in between.
  for (let i = 0; i < 10_000; i++) {
    const payload = i === 5_000 ? "x".repeat(5_000) : `value-${i}\0`;
    out.frame(2, i, 7, [payload]);
    const bytes = out.take();
    assert.equal(out.length, 0);
    taken.push([bytes, frameBytes(2, i, 7, payload)]);
  }
  for (const [bytes, expected] of taken) assert.deepEqual([...bytes], expected);
});

Deno.test("take() returns every frame queued since the last take, in order", () => {
  const out = new OutBuffer();
  out.frame(15, 0, 0, ["/a", "\0", "tok", "\0"]);
  out.frame(2, 9, 7, [new Uint8Array([0x80, 0x81])]);
  assert.deepEqual([...out.take()], [
    ...frameBytes(15, 0, 0, "/a\0tok\0"),
    ...frameBytes(2, 9, 7, "\x80\x81"),
  ]);
  assert.equal(out.take().length, 0);
});
