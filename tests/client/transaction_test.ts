/**
 * Transactions against every server: explicit start/commit/abort, conflicts between two
 * connections, and `transaction(fn)`'s retries, backoff, abort and errors.
 */

import assert from "node:assert/strict";
import { TransactionConflictError, XenstoreError } from "../../lib/protocol/mod.ts";
import { connect } from "../../lib/client/mod.ts";
import { forEachServer } from "../_helpers/servers.ts";

/** A `delay` that records what it was asked to wait and returns at once. */
function recordingDelay(): { waits: number[]; delay: (ms: number) => Promise<void> } {
  const waits: number[] = [];
  return { waits, delay: (ms) => (waits.push(ms), Promise.resolve()) };
}

forEachServer("explicit transactions", async (t, server) => {
  await using xs = await connect({ path: server.socket });
  await using other = await connect({ path: server.socket });
  await t.step("changes are invisible to others until commit()", async () => {
    const tx = await xs.startTransaction();
    assert.ok(tx.id > 0);
    await tx.write("/tx/a", "1");
    await tx.write("/tx/b", "2");
    assert.equal(await tx.read("/tx/a"), "1");
    assert.equal(await other.exists("/tx/a"), false);
    await tx.commit();
    assert.equal(await other.read("/tx/a"), "1");
    assert.deepEqual((await other.directory("/tx")).sort(), ["a", "b"]);
  });
  await t.step("abort() discards every change", async () => {
    const tx = await xs.startTransaction();
    await tx.write("/tx/gone", "1");
    await tx.rm("/tx/a");
    await tx.abort();
    assert.equal(await xs.exists("/tx/gone"), false);
    assert.equal(await xs.read("/tx/a"), "1");
  });
  await t.step("a transaction that ended rejects further use with TypeError", async () => {
    const tx = await xs.startTransaction();
    await tx.abort();
    await assert.rejects(tx.read("/tx/a"), /Transaction \d+ has already aborted/);
    await assert.rejects(tx.commit(), TypeError);
  });
  await t.step("every node operation works inside a transaction", async () => {
    const tx = await xs.startTransaction();
    await tx.mkdir("/tx/m");
    await tx.setPerms("/tx/m", "n0,r0");
    assert.deepEqual(await tx.getPerms("/tx/m"), [
      { domid: 0, access: "none" },
      { domid: 0, access: "read" },
    ]);
    assert.equal(await tx.exists("/tx/m"), true);
    assert.equal(await tx.tryRead("/tx/none"), undefined);
    assert.deepEqual(await tx.readBytes("/tx/b"), new TextEncoder().encode("2"));
    assert.ok((await tx.directory("/tx")).includes("m"));
    await tx.commit();
    assert.equal(await xs.read("/tx/m"), "");
  });
  await t.step("commit() rejects with EAGAIN when a read node changed meanwhile", async () => {
    const tx = await xs.startTransaction();
    await tx.read("/tx/a");
    await tx.write("/tx/a", "tx");
    await other.write("/tx/a", "other");
    await assert.rejects(tx.commit(), (e: unknown) => {
      assert.ok(e instanceof XenstoreError);
      assert.equal(e.code, "EAGAIN");
      assert.equal(e.op, "TRANSACTION_END");
      return true;
    });
    assert.equal(await xs.read("/tx/a"), "other");
  });
});

forEachServer("transaction(fn) retries conflicts", async (t, server) => {
  await using xs = await connect({ path: server.socket });
  await using other = await connect({ path: server.socket });
  await xs.write("/ctr", "0");
  await t.step("a conflicting body is rerun and commits on a later attempt", async () => {
    const { waits, delay } = recordingDelay();
    let runs = 0;
    const result = await xs.transaction(async (tx) => {
      runs++;
      const n = Number(await tx.read("/ctr"));
      if (runs <= 2) await other.write("/ctr", String(n + 100)); // a racing writer
      await tx.write("/ctr", String(n + 1));
      return n + 1;
    }, { delay, backoffMs: 10 });
    assert.equal(runs, 3);
    assert.equal(result, 201);
    assert.equal(await xs.read("/ctr"), "201");
    assert.equal(waits.length, 2);
    // Jittered exponential: attempt 1 waits 5..10 ms, attempt 2 waits 10..20 ms.
    assert.ok(waits[0]! >= 5 && waits[0]! <= 10, `first wait ${waits[0]}`);
    assert.ok(waits[1]! >= 10 && waits[1]! <= 20, `second wait ${waits[1]}`);
  });
  await t.step("after the last attempt it throws TransactionConflictError", async () => {
    const { waits, delay } = recordingDelay();
    let runs = 0;
    const error = await xs.transaction(async (tx) => {
      runs++;
      await tx.read("/ctr");
      await other.write("/ctr", `o${runs}`);
      await tx.write("/ctr", "never");
    }, { attempts: 3, delay }).catch((e) => e);
    assert.ok(error instanceof TransactionConflictError, String(error));
    assert.equal(error.attempts, 3);
    assert.match(error.message, /after 3 attempts/);
    assert.ok(error.cause instanceof XenstoreError && error.cause.code === "EAGAIN");
    assert.equal(runs, 3);
    assert.equal(waits.length, 2);
    assert.equal(await xs.read("/ctr"), "o3");
  });
  await t.step("a body that throws aborts the transaction and rethrows", async () => {
    const boom = new Error("boom");
    await assert.rejects(
      xs.transaction(async (tx) => {
        await tx.write("/ctr", "half-done");
        throw boom;
      }),
      (e) => e === boom,
    );
    assert.equal(await xs.read("/ctr"), "o3");
  });
  await t.step("a server error inside the body is rethrown, not retried", async () => {
    let runs = 0;
    await assert.rejects(
      xs.transaction(async (tx) => {
        runs++;
        await tx.read("/no/such/node");
      }),
      (e) => e instanceof XenstoreError && e.code === "ENOENT",
    );
    assert.equal(runs, 1);
  });
  await t.step("an abort signal aborts the open transaction and rejects", async () => {
    const controller = new AbortController();
    const reason = new Error("stop");
    await assert.rejects(
      xs.transaction(async (tx) => {
        await tx.write("/ctr", "aborted");
        controller.abort(reason);
        await tx.write("/ctr", "more");
      }, { signal: controller.signal }),
      (e) => e === reason,
    );
    assert.equal(await xs.read("/ctr"), "o3");
  });
  await t.step("an already-aborted signal starts nothing", async () => {
    let runs = 0;
    const signal = AbortSignal.abort(new Error("early"));
    await assert.rejects(xs.transaction(() => Promise.resolve(runs++), { signal }), /early/);
    assert.equal(runs, 0);
  });
  await t.step("attempts must be a positive integer", async () => {
    await assert.rejects(xs.transaction(() => Promise.resolve(), { attempts: 0 }), RangeError);
  });
});
