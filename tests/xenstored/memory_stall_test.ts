/**
 * A guest at its `memory` quota, without sockets: the core holds its input as C xenstored 4.17
 * stops reading its ring (`domain_can_read`), and processes it once the charge has fallen. The
 * same behaviour against the real C daemon: `memory_stall_differential_test.ts`.
 *
 * Guest 5's charge in these tests: 55 for its home, 259 for `a` (a 200-byte value), 260 for a
 * transaction's read copy of `a`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { encodePacket } from "../../lib/protocol/mod.ts";
import type { Connection } from "../../lib/xenstored/connection.ts";
import { XenstoredCore } from "../../lib/xenstored/core.ts";
import { bin } from "./_raw.ts";
import { Harness, OPS } from "./_table.ts";
import { concatBytes } from "../_helpers/bytes.ts";

const x = (n: number) => "x".repeat(n);

/** Frames of requests `[op, payload]` (`|` for NUL), request ids from `first`. */
function frames(requests: [string, string, number?][], first = 100): Uint8Array {
  const parts = requests.map(([op, text, txId], i) =>
    encodePacket({
      type: OPS[op] as number,
      reqId: first + i,
      txId: txId ?? 0,
      payload: bin(text.replaceAll("|", "\0")),
    })
  );
  return concatBytes(parts);
}

/** Request ids and bodies of the frames in `bytes` (`|` for NUL). */
function replies(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  for (let at = 0; at + 16 <= bytes.length;) {
    const len = view.getUint32(at + 12, true);
    const body = String.fromCharCode(...bytes.subarray(at + 16, at + 16 + len));
    out.push(`${view.getUint32(at + 4, true)} ${body.replaceAll("\0", "|")}`);
    at += 16 + len;
  }
  return out;
}

/** Sends dom0 requests straight to the core (the harness would take every connection's output). */
function asDom0(h: Harness, requests: [string, string, number?][]): void {
  const dom0 = h.conns.get("dom0") as Connection;
  h.core.receive(dom0, frames(requests, 1));
  assert.ok(replies(dom0.takeOutput()).every((r) => !/ E[A-Z]+\|$/.test(r)));
}

/** A harness whose guest 5 is stalled: `a` written, transaction `T` holding a read copy. */
function stalledGuest(): { h: Harness; g: Connection } {
  const h = new Harness({ memory: 560 });
  const g = h.guest(5);
  h.run([["g5", "-", "write", ["a", x(200)], "OK|"]]);
  h.start("g5", "T");
  // The copy is charged without a check (574 >= 560); the 200-byte reply is refused.
  h.run([["g5", "T", "read", ["a"], "ENOMEM"]]);
  return { h, g };
}

Deno.test("memory stall: a guest at its quota is not read; dom0 freeing its charge resumes it, in order", () => {
  const { h, g } = stalledGuest();
  h.core.receive(g, frames([["getdomainpath", "5|"], ["read", "a|"], ["getdomainpath", "6|"]]));
  assert.deepEqual(replies(g.takeOutput()), []);
  assert.equal(h.core.heldBytes(g), 3 * 16 + 2 + 2 + 2);
  // Dom0 requests that leave the charge as it is change nothing.
  h.run([
    ["dom0", "-", "write", ["/w", "1"], "OK|"],
    ["dom0", "-", "read", ["/local/domain/5/a"], `${x(200)}`],
  ]);
  assert.deepEqual(replies(g.takeOutput()), []);
  // Removing the guest's node gives back 259: its held requests run in dom0's batch.
  asDom0(h, [["rm", "/local/domain/5/a|"]]);
  assert.deepEqual(replies(g.takeOutput()), [
    "100 /local/domain/5|",
    "101 ENOENT|",
    "102 /local/domain/6|",
  ]);
  assert.equal(h.core.heldBytes(g), 0);
  h.run([["g5", "-", "getdomainpath", ["7"], "/local/domain/7|"]]);
});

Deno.test("memory stall: watch events for a stalled guest are dropped, as C's send_event drops them", () => {
  const h = new Harness({ memory: 577 });
  const g = h.guest(5);
  h.run([
    ["dom0", "-", "write", ["/w", "0"], "OK|"],
    ["dom0", "-", "setperms", ["/w", "n0", "r5"], "OK|"],
    ["g5", "-", "watch", ["/w", "k"], "OK|", { g5: ["/w|k|"] }],
    ["g5", "-", "write", ["a", x(200)], "OK|"],
  ]);
  h.start("g5", "T");
  h.run([
    ["g5", "T", "read", ["a"], "ENOMEM"], // 55 + 3 + 259 + 260 = 577: stalled
    ["dom0", "-", "write", ["/w", "1"], "OK|"], // no event for g5
    ["dom0", "-", "control", ["quota", "set", "memory", "1000"], "OK|"],
    ["g5", "-", "getdomainpath", ["5"], "/local/domain/5|"],
    ["dom0", "-", "write", ["/w", "2"], "OK|", { g5: ["/w|k|"] }],
  ]);
  assert.equal(h.core.heldBytes(g), 0);
});

Deno.test("memory stall: held input split anywhere, even mid-frame, is processed whole", () => {
  const { h, g } = stalledGuest();
  const bytes = frames([["getdomainpath", "5|"], ["write", "b|v"], ["read", "b|"]]);
  // A partial frame is already in the reader when the guest stalls: send part of it first.
  const { h: h2, g: g2 } = stalledGuest();
  h2.run([["dom0", "-", "control", ["quota", "set", "memory", "2000"], "OK|"]]);
  h2.core.receive(g2, bytes.subarray(0, 7));
  h2.run([["dom0", "-", "control", ["quota", "set", "memory", "560"], "OK|"]]);
  for (let i = 7; i < bytes.length; i++) h2.core.receive(g2, bytes.subarray(i, i + 1));
  for (let i = 0; i < bytes.length; i++) h.core.receive(g, bytes.subarray(i, i + 1));
  for (const [core, conn, dom0] of [[h.core, g, h], [h2.core, g2, h2]] as const) {
    assert.deepEqual(replies(conn.takeOutput()), []);
    asDom0(dom0, [["control", "quota|set|memory|10000|"]]);
    assert.deepEqual(replies(conn.takeOutput()), ["100 /local/domain/5|", "101 OK|", "102 v"]);
    assert.equal(core.heldBytes(conn), 0);
  }
});

Deno.test("memory stall: a held request that stalls the guest again keeps the rest held", () => {
  const { h, g } = stalledGuest();
  h.core.receive(
    g,
    frames([
      ["end", "F|", h.txs.get("T") ?? 0],
      ["write", "b|v"],
      ["start", "|"],
      ["read", "a|", 2],
      ["getdomainpath", "7|"],
    ]),
  );
  assert.deepEqual(replies(g.takeOutput()), []);
  // Raised to 600, the guest goes on (314, then 366 with `b`) until its next read copy: 626.
  asDom0(h, [["control", "quota|set|memory|600|"]]);
  assert.deepEqual(replies(g.takeOutput()), ["100 OK|", "101 OK|", "102 2|", "103 ENOMEM|"]);
  assert.equal(h.core.heldBytes(g), 16 + 2);
  asDom0(h, [["control", "quota|set|memory|100000|"]]);
  assert.deepEqual(replies(g.takeOutput()), ["104 /local/domain/7|"]);
});

Deno.test("memory stall: dom0 and socket clients are never held", () => {
  const h = new Harness({ memory: 100 });
  h.guest(5);
  h.run([
    ["dom0", "-", "write", ["/local/domain/5/big", x(2000)], "EIO"], // the owner is charged
    ["dom0", "-", "write", ["/big", x(2000)], "OK|"], // dom0's: never refused
  ]);
  const dom0 = h.core.connect(0); // a connection that is domain 0 itself
  h.core.receive(dom0, frames([["read", "/big|"]]));
  assert.equal(replies(dom0.takeOutput()).length, 1);
  assert.equal(h.core.heldBytes(dom0), 0);
});

Deno.test("memory stall: the guest's other connection closing gives back its transaction's charge", () => {
  const resumed: Connection[] = [];
  const core = new XenstoredCore({ quotas: { memory: 560 }, onResume: (c) => resumed.push(c) });
  const dom0 = core.connect();
  core.createDomain(5);
  core.receive(
    dom0,
    frames([["mkdir", "/local/domain/5|"], ["setperms", "/local/domain/5|n5|r0|"], [
      "introduce",
      "5|0|1|",
    ]]),
  );
  const one = core.connect(5);
  const two = core.connect(5);
  core.receive(one, frames([["write", `a|${x(200)}`], ["start", "|"], ["read", "a|", 1]]));
  assert.deepEqual(replies(one.takeOutput()), ["100 OK|", "101 1|", "102 ENOMEM|"]);
  core.receive(two, frames([["getdomainpath", "5|"]]));
  core.receive(one, frames([["getdomainpath", "6|"]]));
  assert.deepEqual([replies(one.takeOutput()), replies(two.takeOutput())], [[], []]);
  // (E8: a guest has one ring in C; its socket connections share its domain's charge.)
  core.disconnect(one);
  assert.deepEqual(replies(two.takeOutput()), ["100 /local/domain/5|"]);
  assert.deepEqual(resumed, [two]);
});

Deno.test("memory stall: destroying a stalled guest drops its held input", () => {
  const { h, g } = stalledGuest();
  h.core.receive(g, frames([["getdomainpath", "5|"]]));
  assert.ok(h.core.heldBytes(g) > 0);
  h.core.destroyDomain(5);
  assert.equal(g.closed, true);
  assert.equal(h.core.heldBytes(g), 0);
  assert.deepEqual(replies(g.takeOutput()), []);
});

Deno.test("memory stall: an oversized header is not looked at while the guest is stalled", () => {
  const { h, g } = stalledGuest();
  const bad = new Uint8Array(16);
  new DataView(bad.buffer).setUint32(12, 5000, true); // announces 5000 bytes
  h.core.receive(g, bad);
  assert.equal(g.closed, false); // C reads no header of a stalled guest
  asDom0(h, [["control", "quota|set|memory|10000|"]]);
  assert.equal(g.closed, true); // now read: over 4096, the connection is dropped
});

Deno.test("memory quota: a pipelined batch counts only the current request's queued output", () => {
  // Two 200-byte READ replies in one batch: C answers them in two poll rounds, writing the
  // first to the ring before the second is charged; so does the core.
  const h = new Harness({ memory: 600 });
  const g = h.guest(5);
  h.run([["g5", "-", "write", ["a", x(200)], "OK|"]]); // 314; a reply costs 216 more
  h.core.receive(g, frames([["read", "a|"], ["read", "a|"], ["read", "a|"]]));
  assert.deepEqual(replies(g.takeOutput()), [`100 ${x(200)}`, `101 ${x(200)}`, `102 ${x(200)}`]);
});
