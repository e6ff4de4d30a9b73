/**
 * `transaction(fn)` against a scripted server, for what the real daemons will not do on
 * demand: EAGAIN from an operation inside the body (not from the commit).
 */

import assert from "node:assert/strict";
import { Op, ProtocolError } from "../../lib/protocol/mod.ts";
import { connect } from "../../lib/client/mod.ts";
import { fakeServer, z } from "./_fake_server.ts";

Deno.test("transaction() aborts and reruns the body when an operation in it gets EAGAIN", async () => {
  const log: string[] = [];
  await using server = await fakeServer(async (peer) => {
    let txId = 0;
    let reads = 0;
    for (;;) {
      const got = await peer.receive(1);
      if (got === null) return;
      const req = got[0]!;
      const arg = new TextDecoder().decode(req.payload).replace(/\0$/, "");
      log.push(`${req.type === Op.TransactionStart ? "START" : `${req.type}@${req.txId}:${arg}`}`);
      if (req.type === Op.TransactionStart) {
        await peer.reply({ ...req, payload: z(String(++txId)) });
      } else if (req.type === Op.Read && ++reads === 1) {
        await peer.reply({
          type: Op.Error,
          reqId: req.reqId,
          txId: req.txId,
          payload: z("EAGAIN"),
        });
      } else if (req.type === Op.Read) {
        await peer.reply({ ...req, payload: new TextEncoder().encode("41") });
      } else {
        await peer.reply({ ...req, payload: z("OK") });
      }
    }
  });
  await using xs = await connect({ path: server.path });
  const waits: number[] = [];
  const result = await xs.transaction(async (tx) => Number(await tx.read("/n")) + 1, {
    delay: (ms) => (waits.push(ms), Promise.resolve()),
  });
  assert.equal(result, 42);
  assert.equal(waits.length, 1);
  assert.deepEqual(log, [
    "START",
    `${Op.Read}@1:/n`,
    `${Op.TransactionEnd}@1:F`, // the failed attempt is aborted
    "START",
    `${Op.Read}@2:/n`,
    `${Op.TransactionEnd}@2:T`,
  ]);
});

Deno.test("startTransaction() rejects a reply that is not a transaction id with ProtocolError", async () => {
  const replies = ["abc", "0", "4294967296", "-1"];
  await using server = await fakeServer(async (peer) => {
    for (const text of replies) {
      const [req] = (await peer.receive(1))!;
      await peer.reply({ ...req!, payload: z(text) });
    }
    await peer.receive(1);
  });
  await using xs = await connect({ path: server.path });
  for (const text of replies) {
    await assert.rejects(xs.startTransaction(), (e) => {
      assert.ok(e instanceof ProtocolError, String(e));
      assert.match(e.message, /TRANSACTION_START reply/);
      return true;
    }, text);
  }
});
