/**
 * Malformed input: the C-compatible answers for broken requests, and a seeded fuzzer that
 * sends every class of bad frame (lengths, types, NULs, tx ids, domids, paths, random bytes,
 * several per connection, as dom0 and as a guest) while other connections hold watches.
 * After every batch a fresh connection must get correct answers and a canary tree must be
 * unchanged. `DXL_FUZZ_SEED` / `DXL_FUZZ_COUNT` (frames) choose the run.
 *
 * @module
 */

import assert from "node:assert/strict";
import { encodePacket } from "../../lib/protocol/mod.ts";
import { startXenstored } from "../../lib/xenstored/mod.ts";
import { coreOf } from "../../lib/xenstored/server.ts";
import { rng } from "./_diff_gen.ts";
import { bin, RawConn } from "./_raw.ts";
import { Harness } from "./_table.ts";

Deno.test("malformed requests get C xenstored's error replies", () => {
  const h = new Harness();
  h.run([
    ["dom0", "-", "read", { raw: "/tool" }, "EINVAL"],
    ["dom0", "-", "read", { raw: "/tool\0/x\0" }, "EINVAL"],
    ["dom0", "-", "read", { raw: "" }, "EINVAL"],
    ["dom0", "-", "mkdir", { raw: "/a\0\0" }, "EINVAL"],
    ["dom0", "-", "rm", { raw: "/tool" }, "EINVAL"],
    ["dom0", "-", "write", { raw: "/nonul" }, "EINVAL"],
    ["dom0", "-", "watch", { raw: "/w\0" }, "EINVAL"],
    ["dom0", "-", "start", { raw: "" }, "1|"],
    ["dom0", "-", "resetwatches", { raw: "" }, "OK|"],
    ["dom0", "-", "end", { raw: "" }, "EINVAL"],
    ["dom0", "-", "introduce", { raw: "" }, "EINVAL"],
    ["dom0", "-", "setperms", { raw: "/tool\0" }, "EINVAL"],
    ["dom0", "-", "directorypart", { raw: "/tool\0" }, "EINVAL"],
    ["dom0", "-", "control", { raw: "" }, "EINVAL"],
  ]);
  for (const type of [15, 16, 20, 27, 65535, 0xffffffff]) {
    const conn = h.conns.get("dom0")!;
    h.core.receive(
      conn,
      encodePacket({ type, reqId: 9, txId: 0, payload: bin("/tool\0") }),
    );
    const out = conn.takeOutput();
    assert.equal(new TextDecoder().decode(out.subarray(16)), "ENOSYS\0", `type ${type}`);
  }
});

Deno.test("a guest's D1 request is answered EINVAL while watches exist (C xenstored crashes)", () => {
  const h = new Harness();
  h.guest(5);
  h.run([
    ["dom0", "-", "watch", ["/", "all"], "OK|", { dom0: ["/|all|"] }],
    ["g5", "-", "read", { raw: "name" }, "EINVAL"],
    ["g5", "-", "getperms", { raw: "a\0b\0" }, "EINVAL"],
    ["dom0", "-", "read", ["/tool/xenstored"], ""],
  ]);
});

Deno.test("a frame announcing more than 4096 bytes closes only that connection", () => {
  const h = new Harness();
  const bad = h.conns.get("dom0b")!;
  const header = new Uint8Array(16);
  new DataView(header.buffer).setUint32(12, 4097, true);
  h.core.receive(bad, header);
  assert.equal(bad.closed, true);
  assert.equal(h.core.connections.has(bad), false);
  h.run([["dom0", "-", "read", ["/tool/xenstored"], ""]]);
});

Deno.test("frames split at every byte boundary are reassembled", () => {
  const h = new Harness();
  const conn = h.conns.get("dom0")!;
  const frame = encodePacket({ type: 11, reqId: 3, txId: 0, payload: bin("/split\0value") });
  for (let cut = 0; cut <= frame.length; cut++) {
    h.core.receive(conn, frame.subarray(0, cut));
    h.core.receive(conn, frame.subarray(cut));
    const out = conn.takeOutput();
    assert.equal(new TextDecoder().decode(out.subarray(16)), "OK\0", `cut at ${cut}`);
  }
});

const SEED = Number(Deno.env.get("DXL_FUZZ_SEED") ?? "7");
const FRAMES = Number(Deno.env.get("DXL_FUZZ_COUNT") ?? "3000");

/** A batch: its frames, and how it ends: normally, with junk bytes, or a bad length. */
interface Batch {
  frames: Uint8Array[];
  ending: "normal" | "junk" | "length";
}

function fuzzFrames(r: () => number, count: number): Batch {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const paths = ["/f", "/f/a", "f/b", "/f//x", "/f/", "", "@releaseDomain", "@x", "/f/\xff", "/"];
  const strs = () => {
    const n = Math.floor(r() * 4);
    let s = "";
    for (let i = 0; i < n; i++) {
      s += pick([pick(paths), "T", "F", "-1", "1x", "5", "n0", "r5", "b0x7ff5", "4294967296"]);
      if (r() < 0.85) s += "\0";
    }
    return s;
  };
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const cls = r();
    const type = cls < 0.1 ? Math.floor(r() * 0xffffffff) : Math.floor(r() * 28);
    const txId = pick([0, 0, 0, 1, 2, Math.floor(r() * 0xffffffff)]);
    if (cls > 0.985) {
      const junk = new Uint8Array(1 + Math.floor(r() * 64));
      for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(r() * 256);
      frames.push(junk);
      return { frames, ending: "junk" };
    }
    if (cls > 0.97) {
      const header = encodePacket({ type, reqId: i + 1, txId, payload: new Uint8Array(0) });
      new DataView(header.buffer).setUint32(12, 4097 + Math.floor(r() * 1e6), true);
      frames.push(header);
      return { frames, ending: "length" };
    }
    const payload = cls < 0.9 ? bin(strs()) : bin("x".repeat(Math.floor(r() * 4097)));
    frames.push(encodePacket({ type, reqId: i + 1, txId, payload }));
  }
  return { frames, ending: "normal" };
}

async function dump(socket: string): Promise<string[]> {
  const conn = await RawConn.open(socket);
  const out: string[] = [];
  const walk = async (path: string) => {
    const v = await conn.request(2, `${path}\0`);
    const p = await conn.request(3, `${path}\0`);
    out.push(`${path}=${JSON.stringify(v.body)} ${JSON.stringify(p.body)}`);
    const d = await conn.request(1, `${path}\0`);
    for (const name of d.body.split("\0").filter((n) => n !== "")) await walk(`${path}/${name}`);
  };
  await walk("/canary");
  await conn.close();
  return out;
}

Deno.test(`fuzz: ${FRAMES} malformed frames (seed ${SEED}) never kill the server or touch the canary`, async () => {
  const dir = await Deno.makeTempDir({ prefix: "dxl-fuzz-", dir: "/tmp" });
  const xs = await startXenstored({ dir });
  const guestSock = await xs.guest(5);
  const setup = await RawConn.open(xs.socket);
  for (const [p, v] of [["/canary/a", "1"], ["/canary/b/c", "2"], ["/canary/b/d", "\x00\xff"]]) {
    await setup.request(11, `${p}\0${v}`);
  }
  await setup.request(14, "/canary/b\0n0\0r5\0");
  const watcher = await RawConn.open(xs.socket);
  await watcher.request(4, "/\0all\0");
  await watcher.request(4, "/canary\0canary\0");
  const before = await dump(xs.socket);
  const r = rng(SEED);
  let sent = 0;
  let batches = 0;
  try {
    while (sent < FRAMES) {
      const asGuest = r() < 0.3;
      // A fuzzed RELEASE from dom0 may have released the guest: introduce it again.
      if (asGuest && coreOf(xs).domains.findIntroduced(5) === undefined) await xs.guest(5);
      const conn = await RawConn.open(asGuest ? guestSock : xs.socket);
      const { frames, ending } = fuzzFrames(r, 1 + Math.floor(r() * 20));
      const last = ending === "normal" ? undefined : frames.pop();
      for (const f of frames) await conn.sendBytes(f);
      const reply = await conn.request(10, "0\0", 0, 0x7ffffff0);
      assert.equal(reply.body, "/local/domain/0\0");
      if (last !== undefined) {
        await conn.sendBytes(last);
        if (ending === "length") {
          // C closes a connection that announces more than 4096 bytes; so must we.
          await conn.waitFor(() => false);
          assert.equal(conn.closed, true, "a bad length must close the connection");
        }
        frames.push(last);
      }
      sent += frames.length;
      await conn.close();
      batches++;
      watcher.take();
      if (batches % 25 === 0 || sent >= FRAMES) {
        assert.deepEqual(await dump(xs.socket), before, `canary changed after ${sent} frames`);
        const fresh = await RawConn.open(xs.socket);
        assert.equal((await fresh.request(2, "/canary/a\0")).body, "1");
        await fresh.close();
      }
    }
  } finally {
    await setup.close();
    await watcher.close();
    await xs.close();
    await Deno.remove(dir, { recursive: true });
  }
});
