/**
 * DIRECTORY_PART fallback details a real daemon does not show on demand: a listing that
 * changes between chunks, and a server without DIRECTORY_PART.
 */

import assert from "node:assert/strict";
import { encodeDirectoryPart, Op, XenstoreError } from "../../lib/protocol/mod.ts";
import { connect } from "../../lib/client/mod.ts";
import { fakeServer, z } from "./_fake_server.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("directory() restarts DIRECTORY_PART from offset 0 when the generation changes", async () => {
  const seen: string[] = [];
  await using server = await fakeServer(async (peer) => {
    const [dir] = (await peer.receive(1))!;
    await peer.reply({ type: Op.Error, reqId: dir!.reqId, txId: 0, payload: z("E2BIG") });
    const chunks: [string, string[], boolean][] = [
      ["7", ["a", "bb"], false], // first listing, offset 0
      ["8", ["zz"], false], // the node changed: generation 8 at offset 5
      ["8", ["a", "bb"], false], // restart at 0
      ["8", ["c"], true], // offset 5, the end
    ];
    for (const [generation, children, done] of chunks) {
      const [req] = (await peer.receive(1))!;
      seen.push(text(req!.payload));
      const payload = encodeDirectoryPart(generation, children, done);
      await peer.reply({ ...req!, payload });
    }
    await peer.receive(1);
  });
  await using xs = await connect({ path: server.path });
  assert.deepEqual(await xs.directory("/big"), ["a", "bb", "c"]);
  assert.deepEqual(seen, ["/big\x000\0", "/big\x005\0", "/big\x000\0", "/big\x005\0"]);
});

Deno.test("directory() reports the original E2BIG when DIRECTORY_PART is ENOSYS", async () => {
  await using server = await fakeServer(async (peer) => {
    for (const code of ["E2BIG", "ENOSYS"]) {
      const [req] = (await peer.receive(1))!;
      await peer.reply({ type: Op.Error, reqId: req!.reqId, txId: 0, payload: z(code) });
    }
    await peer.receive(1);
  });
  await using xs = await connect({ path: server.path });
  await assert.rejects(xs.directory("/big"), (e) => {
    assert.ok(e instanceof XenstoreError);
    assert.equal(e.code, "E2BIG");
    assert.equal(e.op, "DIRECTORY");
    assert.equal(e.path, "/big");
    return true;
  });
});
