/**
 * The connection's robustness against a scripted fake server: replies out of order,
 * malformed replies (ProtocolError, then a clean close) and drops (ConnectionClosedError).
 */

import assert from "node:assert/strict";
import {
  ConnectionClosedError,
  encodePacket,
  Op,
  ProtocolError,
  XenstoreError,
} from "../../lib/protocol/mod.ts";
import { connect, DIRECTORY_REPLY_MAX } from "../../lib/client/mod.ts";
import { fakeServer, z } from "./_fake_server.ts";

const decoder = new TextDecoder();

Deno.test("replies that arrive out of order reach the request with their req_id", async () => {
  await using server = await fakeServer(async (peer) => {
    const reqs = await peer.receive(3);
    assert.ok(reqs);
    for (const req of reqs.reverse()) {
      const path = decoder.decode(req.payload).replace(/\0$/, "");
      await peer.reply({ ...req, payload: new TextEncoder().encode(`value of ${path}`) });
    }
    await peer.receive(1); // until the client closes
  });
  await using xs = await connect({ path: server.path });
  const values = await Promise.all([xs.read("/a"), xs.read("/b"), xs.read("/c")]);
  assert.deepEqual(values, ["value of /a", "value of /b", "value of /c"]);
});

Deno.test("50 requests issued in one tick each get their own req_id and reply", async () => {
  await using server = await fakeServer(async (peer) => {
    const reqs = await peer.receive(50);
    assert.ok(reqs);
    assert.equal(new Set(reqs.map((r) => r.reqId)).size, 50);
    for (const req of reqs) await peer.reply({ ...req, payload: z("ok") });
    await peer.receive(1);
  });
  await using xs = await connect({ path: server.path });
  const writes = Array.from({ length: 50 }, (_, i) => xs.write(`/n${i}`, "v"));
  await Promise.all(writes);
});

Deno.test("an ERROR reply with a non-standard errno becomes XenstoreError with that code", async () => {
  await using server = await fakeServer(async (peer) => {
    const [req] = (await peer.receive(1))!;
    await peer.reply({ type: Op.Error, reqId: req!.reqId, txId: 0, payload: z("EQUOTA") });
    await peer.receive(1);
  });
  await using xs = await connect({ path: server.path });
  const error = await xs.write("/q", "x").catch((e) => e);
  assert.ok(error instanceof XenstoreError);
  assert.equal(error.code, "EQUOTA");
  assert.equal(error.op, "WRITE");
  assert.equal(error.path, "/q");
});

/** Runs one malformed-reply scenario: two requests pending, the server sends `bytes`. */
async function malformed(
  bytes: (reqIds: number[]) => Uint8Array,
  closeAfter: boolean,
): Promise<{ errors: unknown[]; closed: boolean; after: unknown }> {
  await using server = await fakeServer(async (peer) => {
    const reqs = await peer.receive(2);
    assert.ok(reqs);
    await peer.send(bytes(reqs.map((r) => r.reqId)));
    if (!closeAfter) await peer.receive(1); // the client must be the one to close
  });
  const xs = await connect({ path: server.path });
  const results = await Promise.allSettled([xs.read("/a"), xs.read("/b")]);
  const closed = xs.closed;
  const after = await xs.read("/c").catch((e) => e);
  await xs.close();
  return {
    errors: results.map((r) => r.status === "rejected" ? r.reason : "fulfilled"),
    closed,
    after,
  };
}

function header(type: number, reqId: number, len: number): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, reqId, true);
  view.setUint32(12, len, true);
  return out;
}

Deno.test("an oversized length rejects every pending request with ProtocolError and closes", async () => {
  const { errors, closed, after } = await malformed(() => header(Op.Read, 1, 100_000), false);
  for (const e of errors) {
    assert.ok(e instanceof ProtocolError, String(e));
    assert.match(e.message, /100000 bytes, over the 4096-byte limit/);
  }
  assert.equal(closed, true);
  assert.ok(after instanceof ConnectionClosedError);
});

Deno.test("random garbage is a ProtocolError, never a crash", async () => {
  const garbage = new Uint8Array(64).map((_, i) => (i * 97 + 13) & 0xff);
  const { errors, closed } = await malformed(() => garbage, false);
  assert.ok(errors.every((e) => e instanceof ProtocolError), errors.map(String).join("; "));
  assert.equal(closed, true);
});

Deno.test("a frame truncated by the server closing is a ProtocolError", async () => {
  const { errors, closed } = await malformed(
    (ids) =>
      encodePacket({ type: Op.Read, reqId: ids[0]!, txId: 0, payload: z("abc") }).slice(0, 18),
    true,
  );
  for (const e of errors) assert.match(String(e), /ProtocolError: .*inside a frame/);
  assert.equal(closed, true);
});

Deno.test("a reply whose req_id nobody waits for is a ProtocolError", async () => {
  const { errors, closed } = await malformed(
    () => encodePacket({ type: Op.Read, reqId: 999, txId: 0, payload: z("x") }),
    false,
  );
  for (const e of errors) assert.match(String(e), /req_id 999 matches no pending request/);
  assert.equal(closed, true);
});

Deno.test("a reply of the wrong type is a ProtocolError", async () => {
  const { errors } = await malformed(
    (ids) => encodePacket({ type: Op.Write, reqId: ids[0]!, txId: 0, payload: z("OK") }),
    false,
  );
  for (const e of errors) assert.match(String(e), /Reply to READ .* has type WRITE/);
});

Deno.test("a malformed watch event is a ProtocolError", async () => {
  const { errors } = await malformed(
    () => encodePacket({ type: Op.WatchEvent, reqId: 0, txId: 0, payload: z("only-a-path") }),
    false,
  );
  for (const e of errors) assert.match(String(e), /Malformed WATCH_EVENT/);
});

Deno.test("a dropped connection rejects pending requests and ends watches with ConnectionClosedError", async () => {
  await using server = await fakeServer(async (peer) => {
    const [watch] = (await peer.receive(1))!;
    await peer.reply({ ...watch!, payload: z("OK") });
    await peer.receive(2); // two reads, never answered
  });
  const xs = await connect({ path: server.path });
  const watch = xs.watch("/w", { token: "t" });
  await watch.ready;
  const reads = [xs.read("/a"), xs.read("/b")];
  for (const r of reads) await assert.rejects(r, ConnectionClosedError);
  await assert.rejects(watch.next(), ConnectionClosedError);
  assert.equal(xs.closed, true);
  await xs.close();
});

Deno.test("request() stops waiting when its signal aborts; the late reply is dropped", async () => {
  const sent = Promise.withResolvers<void>();
  const aborted = Promise.withResolvers<void>();
  await using server = await fakeServer(async (peer) => {
    const [slow] = (await peer.receive(1))!;
    sent.resolve();
    await aborted.promise;
    await peer.reply({ ...slow!, payload: z("late") });
    const [read] = (await peer.receive(1))!;
    await peer.reply({ ...read!, payload: new TextEncoder().encode("fresh") });
    await peer.receive(1);
  });
  await using xs = await connect({ path: server.path });
  const controller = new AbortController();
  const slow = xs.getFeature(undefined, { signal: controller.signal });
  await sent.promise;
  controller.abort(new Error("gave up waiting"));
  await assert.rejects(slow, /gave up waiting/);
  aborted.resolve();
  // The late GET_FEATURE reply must not be taken for garbage (or for the READ's reply).
  assert.equal(await xs.read("/after"), "fresh");
  assert.equal(xs.closed, false);
  await assert.rejects(
    xs.request(Op.Read, z("/x"), { signal: AbortSignal.abort(new Error("already")) }),
    /already/,
  );
});

Deno.test("close() rejects requests still pending with ConnectionClosedError", async () => {
  await using server = await fakeServer(async (peer) => {
    await peer.receive(2);
  });
  const xs = await connect({ path: server.path });
  const pending = assert.rejects(xs.read("/slow"), ConnectionClosedError);
  await xs.close();
  await pending;
  await assert.rejects(xs.read("/a"), /closed/);
});

/** Replies to `n` READs with their path as value, sending the reply bytes in given chunks. */
async function chunkedReplies(chunkSizes: (i: number) => number): Promise<void> {
  const n = 40;
  await using server = await fakeServer(async (peer) => {
    const reqs = await peer.receive(n);
    assert.ok(reqs);
    const frames = reqs.map((r) =>
      encodePacket({ ...r, payload: r.payload.subarray(0, r.payload.length - 1) })
    );
    const stream = new Uint8Array(frames.reduce((a, f) => a + f.length, 0));
    frames.reduce((at, f) => (stream.set(f, at), at + f.length), 0);
    for (let at = 0, i = 0; at < stream.length; i++) {
      const size = chunkSizes(i);
      await peer.send(stream.subarray(at, at + size));
      at += size;
    }
    await peer.receive(1);
  });
  await using xs = await connect({ path: server.path });
  const paths = Array.from({ length: n }, (_, i) => `/node/${"x".repeat(i * 70)}${i}`);
  assert.deepEqual(await Promise.all(paths.map((p) => xs.read(p))), paths);
}

Deno.test("replies split across reads at every byte are reassembled", async () => {
  await chunkedReplies(() => 1);
});

Deno.test("replies split across reads in random chunk sizes are reassembled", async () => {
  let seed = Date.now() % 100000;
  const first = seed;
  try {
    await chunkedReplies(() => {
      seed = (seed * 16807) % 2147483647;
      return 1 + (seed % 700);
    });
  } catch (error) {
    throw new Error(`failed with seed ${first}`, { cause: error });
  }
});

Deno.test("an oversized length split across reads is still a ProtocolError", async () => {
  await using server = await fakeServer(async (peer) => {
    await peer.receive(1);
    const bad = header(Op.Read, 1, 5000);
    await peer.send(bad.subarray(0, 7));
    await peer.send(bad.subarray(7));
    await peer.receive(1);
  });
  await using xs = await connect({ path: server.path });
  await assert.rejects(xs.read("/a"), /5000 bytes, over the 4096-byte limit/);
  assert.equal(xs.closed, true);
});

Deno.test("a DIRECTORY reply over 4096 bytes (as oxenstored sends) is accepted, even split", async () => {
  const children = Array.from({ length: 600 }, (_, i) => `child-${i}`);
  await using server = await fakeServer(async (peer) => {
    const [dir] = (await peer.receive(1))!;
    const payload = new TextEncoder().encode(children.map((c) => `${c}\0`).join(""));
    assert.ok(payload.length > 4096);
    const frame = encodePacket({ ...dir!, payload });
    for (let at = 0; at < frame.length; at += 1000) await peer.send(frame.subarray(at, at + 1000));
    const [read] = (await peer.receive(1))!;
    await peer.send(header(Op.Read, read!.reqId, 5000)); // other replies keep the limit
    await peer.receive(1);
  });
  await using xs = await connect({ path: server.path });
  assert.deepEqual(await xs.directory("/big"), children);
  await assert.rejects(xs.read("/a"), /5000 bytes, over the 4096-byte limit/);
});

Deno.test("a DIRECTORY reply over DIRECTORY_REPLY_MAX is a ProtocolError", async () => {
  await using server = await fakeServer(async (peer) => {
    const [dir] = (await peer.receive(1))!;
    await peer.send(header(Op.Directory, dir!.reqId, DIRECTORY_REPLY_MAX + 1));
    await peer.receive(1);
  });
  await using xs = await connect({ path: server.path });
  await assert.rejects(xs.directory("/big"), ProtocolError);
});

Deno.test("payloads handed out stay intact while later replies arrive", async () => {
  await using server = await fakeServer(async (peer) => {
    for (;;) {
      const got = await peer.receive(1);
      if (got === null) return;
      const req = got[0]!;
      await peer.reply({ ...req, payload: req.payload.subarray(0, req.payload.length - 1) });
    }
  });
  await using xs = await connect({ path: server.path });
  const kept = await Promise.all(Array.from({ length: 50 }, (_, i) => xs.readBytes(`/k${i}`)));
  await Promise.all(Array.from({ length: 3000 }, (_, i) => xs.readBytes(`/other/${i}`)));
  kept.forEach((bytes, i) => assert.equal(new TextDecoder().decode(bytes), `/k${i}`));
});

Deno.test("connect() waits out a full listen backlog instead of failing with EAGAIN", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dxl-backlog-", dir: "/tmp" });
  const path = `${dir}/socket`;
  const listener = Deno.listen({ transport: "unix", path });
  const queued: Deno.UnixConn[] = [];
  try {
    for (;;) queued.push(await Deno.connect({ transport: "unix", path }));
  } catch (error) {
    assert.ok(error instanceof Deno.errors.WouldBlock, `backlog full: ${error}`);
  }
  const connecting = connect({ path });
  const accepted: Deno.Conn[] = [];
  for (let i = 0; i <= queued.length; i++) accepted.push(await listener.accept());
  const xs = await connecting;
  await xs.close();
  for (const c of [...queued, ...accepted]) c.close();
  listener.close();
  await Deno.remove(dir, { recursive: true });
});
