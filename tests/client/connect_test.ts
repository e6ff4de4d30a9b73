/**
 * `connect()`'s socket search and its error, and the backoff helper.
 */

import assert from "node:assert/strict";
import { ConnectionClosedError } from "../../lib/protocol/mod.ts";
import {
  backoff,
  connect,
  delay,
  RUN_SOCKET,
  socketPaths,
  VAR_RUN_SOCKET,
} from "../../lib/client/mod.ts";
import { fakeServer } from "./_fake_server.ts";

Deno.test("socketPaths() orders XENSTORED_PATH, XENSTORED_RUNDIR, /run, /var/run", () => {
  assert.deepEqual(socketPaths({ XENSTORED_PATH: "/x/s", XENSTORED_RUNDIR: "/r/" }), [
    "/x/s",
    "/r/socket",
    RUN_SOCKET,
    VAR_RUN_SOCKET,
  ]);
  assert.deepEqual(socketPaths({}), [RUN_SOCKET, VAR_RUN_SOCKET]);
  assert.deepEqual(socketPaths({ XENSTORED_PATH: RUN_SOCKET }), [RUN_SOCKET, VAR_RUN_SOCKET]);
});

Deno.test("connect() rejects naming the path it tried and why", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dxl-none-", dir: "/tmp" });
  try {
    const error = await connect({ path: `${dir}/socket` }).catch((e) => e);
    assert.ok(error instanceof ConnectionClosedError);
    assert.match(error.message, new RegExp(`tried ${dir}/socket \\(.*No such file`));
    assert.ok(error.cause instanceof AggregateError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("connect() without a path searches $XENSTORED_PATH then $XENSTORED_RUNDIR", async () => {
  await using server = await fakeServer(async (peer) => {
    await peer.receive(1);
  });
  const saved = ["XENSTORED_PATH", "XENSTORED_RUNDIR"].map((k) => [k, Deno.env.get(k)] as const);
  try {
    Deno.env.set("XENSTORED_PATH", `${server.dir}/missing`);
    Deno.env.set("XENSTORED_RUNDIR", server.dir);
    await using xs = await connect();
    assert.equal(xs.path, `${server.dir}/socket`);
    Deno.env.set("XENSTORED_RUNDIR", `${server.dir}/nowhere`);
    const error = await connect().catch((e) => e);
    if (error instanceof ConnectionClosedError) {
      // Only on a machine without a running xenstored: every candidate is named.
      for (const p of [`${server.dir}/missing`, `${server.dir}/nowhere/socket`, RUN_SOCKET]) {
        assert.ok(error.message.includes(p), `${p} missing from: ${error.message}`);
      }
    } else {
      await error.close();
    }
  } finally {
    for (const [k, v] of saved) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
  }
});

Deno.test("backoff() doubles per attempt with equal jitter and caps the exponent", () => {
  assert.equal(backoff(1, 10, () => 0), 5);
  assert.equal(backoff(1, 10, () => 1), 10);
  assert.equal(backoff(4, 10, () => 1), 80);
  assert.equal(backoff(50, 1, () => 1), 1024);
  assert.throws(() => backoff(1, -1), /non-negative/);
});

Deno.test("connect() with an aborted signal rejects with its reason", async () => {
  await using server = await fakeServer(async (peer) => {
    await peer.receive(1);
  });
  const reason = new Error("give up");
  await assert.rejects(
    connect({ path: server.path, signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
});

Deno.test("delay() rejects with the abort reason and leaves no timer behind", async () => {
  await assert.rejects(delay(60_000, AbortSignal.abort(new Error("early"))), /early/);
  const controller = new AbortController();
  const waiting = delay(60_000, controller.signal);
  controller.abort(new Error("late"));
  await assert.rejects(waiting, /late/);
  await delay(0);
});
