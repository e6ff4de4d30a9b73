/**
 * Watches against every server: initial and child events, ancestor removal, special paths,
 * duplicate registration, and teardown that really UNWATCHes.
 */

import assert from "node:assert/strict";
import { XenstoreError } from "../../lib/protocol/mod.ts";
import { connect, type Watch, type WatchEvent } from "../../lib/client/mod.ts";
import { forEachServer } from "../_helpers/servers.ts";

/** The next `n` events' paths (and initial flags), in order. */
async function take(watch: Watch, n: number): Promise<string[]> {
  const out: string[] = [];
  const it = watch[Symbol.asyncIterator]();
  while (out.length < n) {
    const r = await it.next();
    if (r.done) throw new Error(`watch ended after ${out.length} of ${n} events`);
    out.push(describe(r.value));
  }
  return out;
}

function describe(ev: WatchEvent): string {
  return ev.kind === "change" ? (ev.initial ? `initial:${ev.path}` : ev.path) : ev.kind;
}

forEachServer("watch() yields initial, child and removal events", async (t, server) => {
  await using xs = await connect({ path: server.socket });
  await t.step("the initial event comes first and is marked", async () => {
    await xs.write("/w/x", "");
    await using watch = xs.watch("/w");
    await watch.ready;
    assert.deepEqual(await take(watch, 1), ["initial:/w"]);
    await xs.write("/w/x/y", "1");
    await xs.write("/w/x/y", "2");
    await xs.setPerms("/w/x", "n0,r0");
    assert.deepEqual(await take(watch, 3), ["/w/x/y", "/w/x/y", "/w/x"]);
  });
  await t.step("removing an ancestor fires the watch with the watched path", async () => {
    await xs.write("/anc/a/b", "");
    await using watch = xs.watch("/anc/a/b", { initial: false });
    await watch.ready;
    await xs.rm("/anc");
    assert.deepEqual(await take(watch, 1), ["/anc/a/b"]);
  });
  await t.step("a watch on a missing node fires when it is created", async () => {
    await using watch = xs.watch("/later/node", { initial: false });
    await watch.ready;
    await xs.write("/later/node", "now");
    assert.deepEqual(await take(watch, 1), ["/later/node"]);
  });
  await t.step("a transaction's changes fire only at commit", async () => {
    await xs.write("/txw/a", "0");
    await using watch = xs.watch("/txw", { initial: false });
    await watch.ready;
    const tx = await xs.startTransaction();
    await tx.write("/txw/a", "1");
    await xs.write("/txw/marker", "");
    await tx.commit();
    assert.deepEqual(await take(watch, 2), ["/txw/marker", "/txw/a"]);
  });
  await t.step("many events buffer while nobody iterates", async () => {
    await using watch = xs.watch("/buf", { initial: false });
    await watch.ready;
    await Promise.all(Array.from({ length: 200 }, (_, i) => xs.write(`/buf/n${i}`, "")));
    const got = await take(watch, 200);
    assert.equal(new Set(got).size, 200);
  });
});

forEachServer("watch() registration and teardown", async (t, server) => {
  await using xs = await connect({ path: server.socket });
  await t.step("a duplicate token and path rejects ready and next() with EEXIST", async () => {
    await using first = xs.watch("/dup", { token: "same" });
    await first.ready;
    const second = xs.watch("/dup", { token: "same" });
    await assert.rejects(second.ready, (e) => e instanceof XenstoreError && e.code === "EEXIST");
    await assert.rejects(second.next(), (e) => e instanceof XenstoreError && e.code === "EEXIST");
    // The first watch still works and is the only one to get the event.
    assert.deepEqual(await take(first, 1), ["initial:/dup"]);
    await xs.write("/dup/c", "");
    assert.deepEqual(await take(first, 1), ["/dup/c"]);
  });
  await t.step("leaving a for-await loop sends UNWATCH (re-registering works)", async () => {
    const watch = xs.watch("/tear", { token: "t1" });
    for await (const ev of watch) {
      assert.equal(ev.kind === "change" && ev.initial, true);
      break;
    }
    assert.deepEqual(await watch.next(), { value: undefined, done: true });
    // Had UNWATCH not been sent, the same token and path would be EEXIST.
    await using again = xs.watch("/tear", { token: "t1" });
    await again.ready;
  });
  await t.step("an abort signal ends the iteration and sends UNWATCH", async () => {
    const controller = new AbortController();
    const watch = xs.watch("/ab", { token: "t2", signal: controller.signal });
    assert.deepEqual(await take(watch, 1), ["initial:/ab"]);
    const pending = watch.next();
    controller.abort();
    assert.deepEqual(await pending, { value: undefined, done: true });
    await watch.close();
    await using again = xs.watch("/ab", { token: "t2" });
    await again.ready;
  });
  await t.step("two watches with one token get the events under their own path", async () => {
    await using a = xs.watch("/shared/a", { token: "tok", initial: false });
    await using b = xs.watch("/shared/b", { token: "tok", initial: false });
    await Promise.all([a.ready, b.ready]);
    await xs.write("/shared/b/x", "");
    await xs.write("/shared/a/y", "");
    assert.deepEqual(await take(a, 1), ["/shared/a/y"]);
    assert.deepEqual(await take(b, 1), ["/shared/b/x"]);
  });
  await t.step("a depth is sent as WATCH's third argument", async () => {
    const watch = xs.watch("/depth", { depth: 0, initial: false });
    if (server.kind !== "embedded") {
      // Xen 4.17 predates watch depth (GET_FEATURE is ENOSYS): both daemons refuse the extra
      // argument with EINVAL, which proves it was sent; without a depth the watch works.
      await assert.rejects(watch.ready, (e) => e instanceof XenstoreError && e.code === "EINVAL");
      await assert.rejects(watch.next(), XenstoreError);
      await using plain = xs.watch("/depth");
      await plain.ready;
      return;
    }
    // Depth 0 watches the node alone: the child's write must not show up before the node's.
    await watch.ready;
    await xs.write("/depth/child", "");
    await xs.write("/depth", "x");
    assert.deepEqual(await take(watch, 1), ["/depth"]);
    await watch.close();
  });
  await t.step("client.close() ends every watch iterator", async () => {
    const other = await connect({ path: server.socket });
    const watch = other.watch("/closing");
    assert.deepEqual(await take(watch, 1), ["initial:/closing"]);
    const pending = watch.next();
    await other.close();
    assert.deepEqual(await pending, { value: undefined, done: true });
    assert.equal(other.closed, true);
  });
});

forEachServer("watch() on @introduceDomain and @releaseDomain", async (t, server) => {
  await using xs = await connect({ path: server.socket });
  await using intro = xs.watch("@introduceDomain");
  await using rel = xs.watch("@releaseDomain");
  await Promise.all([intro.ready, rel.ready]);
  await t.step("each special watch gets its initial event", async () => {
    assert.deepEqual(await take(intro, 1), ["initial:@introduceDomain"]);
    assert.deepEqual(await take(rel, 1), ["initial:@releaseDomain"]);
  });
  await t.step("introducing a guest fires @introduceDomain", async () => {
    await server.guest(21);
    assert.deepEqual(await take(intro, 1), ["@introduceDomain"]);
  });
  await t.step("destroying the guest fires @releaseDomain", async () => {
    await server.destroyDomain(21);
    assert.deepEqual(await take(rel, 1), ["@releaseDomain"]);
    assert.equal(await xs.isDomainIntroduced(21), false);
  });
});
