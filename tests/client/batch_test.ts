/**
 * RequestBatch against every server: requests go out in call order with one promise for
 * all, ENOENT of rmIfPresent is an answer, the first failure is reported, values and
 * permissions arrive byte for byte, and a request function without sinks still works.
 */

import assert from "node:assert/strict";
import { InvalidPathError, XenstoreError } from "../../lib/protocol/mod.ts";
import { connect, Connection, NodeOps, RequestBatch } from "../../lib/client/mod.ts";
import { forEachServer } from "../_helpers/servers.ts";

forEachServer("RequestBatch", async (t, server) => {
  await using xs = await connect({ path: server.socket });

  await t.step("one promise for many requests, ENOENT of rmIfPresent an answer", async () => {
    const tx = await xs.startTransaction();
    const batch = tx.batch();
    batch.rmIfPresent("/batch/none/x"); // parent missing: ENOENT, an answer
    batch.rmIfPresent("/batch/a");
    batch.write("/batch/a", "1");
    batch.mkdir("/batch/d");
    batch.rm("/batch/d");
    await batch.done();
    await tx.commit();
    assert.equal(await xs.read("/batch/a"), "1");
    assert.equal(await xs.exists("/batch/d"), false);
  });

  await t.step("an invalid path is not sent and is the failure", async () => {
    const batch = xs.batch();
    batch.write("/batch/ok", "1");
    batch.write("/batch//bad", "1");
    await assert.rejects(batch.done(), InvalidPathError);
    assert.equal(await xs.read("/batch/ok"), "1");
  });
});

forEachServer("RequestBatch values arrive byte for byte", async (_t, server) => {
  await using xs = await connect({ path: server.socket });
  const batch = xs.batch();
  batch.write("/bb/ascii", "00:16:3e:00:00:01");
  batch.write("/bb/text", "ü-value");
  batch.write("/bb/bytes", new Uint8Array([1, 255, 7]));
  batch.write("/bb/empty", "");
  batch.mkdir("/bb/dir");
  batch.setPerms("/bb/ascii", [{ domid: 0, access: "none" }, { domid: 3, access: "read" }]);
  batch.rmIfPresent("/bb/missing/x");
  batch.rmIfPresent("/bb/dir");
  await batch.done();
  assert.equal(await xs.read("/bb/ascii"), "00:16:3e:00:00:01");
  assert.equal(await xs.read("/bb/text"), "ü-value");
  assert.deepEqual(await xs.readBytes("/bb/bytes"), new Uint8Array([1, 255, 7]));
  assert.equal(await xs.read("/bb/empty"), "");
  assert.equal(await xs.exists("/bb/dir"), false);
  assert.deepEqual(await xs.getPerms("/bb/ascii"), [
    { domid: 0, access: "none" },
    { domid: 3, access: "read" },
  ]);
  // A server error is reported (plain RM under a missing parent: ENOENT) after every reply.
  const bad = xs.batch();
  bad.write("/bb/after", "1");
  bad.rm("/bb/missing/x");
  bad.write("/bb/later", "2");
  await assert.rejects(
    bad.done(),
    (e: unknown) => e instanceof XenstoreError && e.code === "ENOENT" && e.op === "RM",
  );
  assert.equal(await xs.read("/bb/later"), "2");
});

forEachServer("RequestBatch over a request function that ignores sinks", async (_t, server) => {
  let conn: Connection | undefined;
  conn = await Connection.open(server.socket, { onEvent: () => {}, onClose: () => {} });
  try {
    const c = conn;
    // Options dropped: no sink, no tail — every request still gets its reply and its bytes.
    const ops = new NodeOps((type, txId, payload) => c.request(type, txId, payload), 0);
    const batch = ops.batch();
    assert.ok(batch instanceof RequestBatch);
    batch.write("/plain/a", "value-1");
    batch.write("/plain/b", "value-2");
    batch.setPerms("/plain/b", [{ domid: 0, access: "both" }]);
    batch.rmIfPresent("/plain/none/x");
    await batch.done();
    assert.equal(await ops.read("/plain/a"), "value-1");
    assert.equal(await ops.read("/plain/b"), "value-2");
    assert.deepEqual(await ops.getPerms("/plain/b"), [{ domid: 0, access: "both" }]);
  } finally {
    await conn.close();
    conn = undefined;
  }
});
