/**
 * Opt-in reconnect: against a scripted server (what is and is not resent) and against the
 * real daemons restarted on the same socket.
 */

import assert from "node:assert/strict";
import { ConnectionClosedError, Op, type Packet } from "../../lib/protocol/mod.ts";
import { connect, type WatchEvent } from "../../lib/client/mod.ts";
import { forEachServer, REFXS_DIR } from "../_helpers/servers.ts";
import { fakeServer, z } from "./_fake_server.ts";

const text = (p: Packet) => new TextDecoder().decode(p.payload);

async function event(watch: AsyncIterator<WatchEvent>): Promise<string> {
  const r = await watch.next();
  if (r.done) return "done";
  const ev = r.value;
  return ev.kind === "change" ? `${ev.initial ? "initial:" : ""}${ev.path}` : ev.kind;
}

Deno.test("reconnect re-registers watches, yields a marker and never resends requests", async () => {
  const secondSession: string[] = [];
  await using server = await fakeServer(async (peer, index) => {
    const [watch] = (await peer.receive(1))!;
    assert.equal(watch!.type, Op.Watch);
    await peer.reply({ ...watch!, payload: z("OK") });
    await peer.reply({ type: Op.WatchEvent, reqId: 0, txId: 0, payload: z("/w\0tok") });
    if (index === 0) {
      await peer.receive(1); // a READ that will never be answered
      return; // drop the connection
    }
    secondSession.push(text(watch!));
    const [read] = (await peer.receive(1))!;
    secondSession.push(text(read!));
    await peer.reply({ ...read!, payload: new TextEncoder().encode("fresh") });
    await peer.receive(1);
  });
  const waits: number[] = [];
  await using xs = await connect({
    path: server.path,
    reconnect: { delay: (ms) => (waits.push(ms), Promise.resolve()), backoffMs: 8 },
  });
  const watch = xs.watch("/w", { token: "tok" });
  assert.equal(await event(watch), "initial:/w");
  await assert.rejects(xs.read("/lost"), ConnectionClosedError);
  assert.equal(await event(watch), "reconnected");
  assert.equal(await xs.read("/after"), "fresh");
  // The second session saw the WATCH again and the new READ, never the lost one.
  assert.deepEqual(secondSession, ["/w\0tok\0", "/after\0"]);
  assert.equal(waits.length, 1);
  assert.ok(waits[0]! >= 4 && waits[0]! <= 8);
  await watch.close();
});

Deno.test("reconnect gives up after its attempts and ends watches with ConnectionClosedError", async () => {
  await using server = await fakeServer(async (peer) => {
    const [watch] = (await peer.receive(1))!;
    await peer.reply({ ...watch!, payload: z("OK") });
  });
  const waits: number[] = [];
  const xs = await connect({
    path: server.path,
    reconnect: { attempts: 3, delay: (ms) => (waits.push(ms), Promise.resolve()) },
  });
  const watch = xs.watch("/w", { initial: false });
  await watch.ready;
  server.stopListening();
  await assert.rejects(watch.next(), (e) => {
    assert.ok(e instanceof ConnectionClosedError);
    assert.match(e.message, /gave up after 3 reconnect attempts/);
    return true;
  });
  assert.equal(waits.length, 3);
  assert.equal(xs.closed, true);
  await xs.close();
});

Deno.test("close() during a reconnect stops it", async () => {
  await using server = await fakeServer(async (peer) => {
    await peer.receive(0);
  });
  const xs = await connect({
    path: server.path,
    reconnect: {
      delay: (_ms, signal) =>
        new Promise((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason))),
    },
  });
  server.stopListening();
  await xs.close();
  assert.equal(xs.closed, true);
});

forEachServer("reconnect after the real daemon restarts", async (_t, server) => {
  const restarted = Promise.withResolvers<void>();
  await using xs = await connect({
    path: server.socket,
    reconnect: { attempts: 5, delay: () => restarted.promise },
  });
  const watch = xs.watch("/rc");
  assert.equal(await event(watch), "initial:/rc");
  const run = async (script: string) => {
    const cmd = new Deno.Command("bash", {
      args: [`${REFXS_DIR}/${script}`, ...(script === "start.sh" ? [server.kind] : []), server.dir],
      stdout: "null",
      stderr: "piped",
    });
    const out = await cmd.output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
  };
  await run("stop.sh");
  await run("start.sh");
  restarted.resolve();
  assert.equal(await event(watch), "reconnected");
  await xs.write("/rc/x", "1");
  assert.equal(await event(watch), "/rc/x");
  await watch.close();
}, { kinds: ["c", "ocaml"] });

Deno.test("a transaction open across a reconnect fails and is never sent on the new connection", async () => {
  const secondSession: string[] = [];
  await using server = await fakeServer(async (peer, index) => {
    const [watch] = (await peer.receive(1))!;
    await peer.reply({ ...watch!, payload: z("OK") });
    if (index === 0) {
      const [start] = (await peer.receive(1))!;
      assert.equal(start!.type, Op.TransactionStart);
      await peer.reply({ ...start!, payload: z("1") });
      return; // drop the connection with the transaction open
    }
    for (;;) {
      const got = await peer.receive(1);
      if (got === null) return;
      const req = got[0]!;
      secondSession.push(`${req.type}@${req.txId}`);
      // Transaction ids are per connection: this one would happily accept id 1 again.
      const payload = req.type === Op.TransactionStart ? z("1") : z("OK");
      await peer.reply({ ...req, payload });
    }
  });
  await using xs = await connect({
    path: server.path,
    reconnect: { delay: () => Promise.resolve() },
  });
  const watch = xs.watch("/w", { token: "tok", initial: false });
  await watch.ready;
  const tx = await xs.startTransaction();
  assert.equal(await event(watch), "reconnected");
  await assert.rejects(tx.write("/stale", "x"), ConnectionClosedError);
  await assert.rejects(tx.commit(), ConnectionClosedError);
  // A transaction started after the reconnect uses the new connection.
  await xs.transaction((t) => t.write("/fresh", "1"));
  assert.deepEqual(secondSession, [
    `${Op.TransactionStart}@0`,
    `${Op.Write}@1`,
    `${Op.TransactionEnd}@1`,
  ]);
  await watch.close();
});

Deno.test("closing a watch while its re-registration is in flight still sends UNWATCH", async () => {
  const rewatched = Promise.withResolvers<void>();
  const closing = Promise.withResolvers<void>();
  let unwatch: Packet | null | undefined;
  await using server = await fakeServer(async (peer, index) => {
    const [watch] = (await peer.receive(1))!;
    if (index === 0) {
      await peer.reply({ ...watch!, payload: z("OK") });
      return; // drop
    }
    rewatched.resolve();
    await closing.promise; // the client closes the watch before this WATCH is answered
    await peer.reply({ ...watch!, payload: z("OK") });
    await peer.reply({ type: Op.WatchEvent, reqId: 0, txId: 0, payload: z("/w\0tok") });
    const got = await peer.receive(1);
    unwatch = got?.[0] ?? null;
    if (unwatch) await peer.reply({ ...unwatch, payload: z("OK") });
    await peer.receive(1);
  });
  await using xs = await connect({
    path: server.path,
    reconnect: { delay: () => Promise.resolve() },
  });
  const watch = xs.watch("/w", { token: "tok", initial: false });
  await watch.ready;
  await rewatched.promise;
  const closed = watch.close();
  closing.resolve();
  await closed;
  assert.ok(unwatch, "the server got no UNWATCH");
  assert.equal(unwatch.type, Op.Unwatch);
  assert.equal(text(unwatch), "/w\0tok\0");
  // The closed watch yields nothing more: no marker, no event.
  assert.deepEqual(await watch.next(), { value: undefined, done: true });
});
