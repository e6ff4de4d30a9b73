/**
 * A guest at its `memory` quota on the embedded server's sockets: the server keeps reading its
 * socket until 1 MiB of its input is held, then stops (its writes block, as a stalled guest's
 * ring fills in C), and reads again once the guest is resumed; a guest that closes its socket
 * while held is dropped with its transactions, which gives their charge back.
 *
 * @module
 */

import assert from "node:assert/strict";
import { encodePacket, Op } from "../../lib/protocol/mod.ts";
import { coreOf, startXenstored } from "../../lib/xenstored/server.ts";
import { bin, RawConn } from "./_raw.ts";

const x = (n: number) => "x".repeat(n);

/** Starts a server whose guest 5 is stalled (a transaction's read copy): 574 >= 560. */
async function stalled(dir: string) {
  const xs = await startXenstored({ dir, quotas: { memory: 560 } });
  const guest = await RawConn.open(await xs.guest(5));
  assert.equal((await guest.request(Op.Write, `a\0${x(200)}`)).body, "OK\0");
  assert.equal((await guest.request(Op.TransactionStart, "\0")).body, "1\0");
  assert.equal((await guest.request(Op.Read, "a\0", 1)).body, "ENOMEM\0");
  guest.take();
  return { xs, guest, core: coreOf(xs) };
}

Deno.test("memory stall over sockets: reading pauses past 1 MiB held, and every request is answered after", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dxl-stall-", dir: "/tmp" });
  const { xs, guest, core } = await stalled(dir);
  const dom0 = await RawConn.open(xs.socket);
  try {
    const conn = [...core.connections].find((c) => c.id === 5);
    assert.ok(conn !== undefined);
    // 80,000 GET_DOMAIN_PATH requests (1.5 MiB) in 64 KiB writes; the socket buffers fill
    // once the server stops reading, so the writer is not awaited.
    const one = encodePacket({ type: Op.GetDomainPath, reqId: 0, txId: 0, payload: bin("5\0") });
    const count = 80_000;
    const all = new Uint8Array(one.length * count);
    for (let i = 0; i < count; i++) {
      all.set(one, i * one.length);
      new DataView(all.buffer).setUint32(i * one.length + 4, 1000 + i, true);
    }
    const writing = guest.sendBytes(all);
    const deadline = Date.now() + 10_000;
    while (core.heldBytes(conn) <= 1 << 20 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const held = core.heldBytes(conn);
    assert.ok(held > 1 << 20, `held ${held}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(core.heldBytes(conn), held, "the server stopped reading");
    assert.deepEqual(guest.take(), []);
    // Dom0 removing `a` brings the charge to 315: everything is answered, in order.
    assert.equal((await dom0.request(Op.Rm, "/local/domain/5/a\0")).body, "OK\0");
    await writing;
    assert.ok(await guest.waitFor((fs) => fs.length === count, 20_000));
    const got = guest.take();
    assert.deepEqual(got.map((f) => f.reqId), Array.from({ length: count }, (_, i) => 1000 + i));
    assert.ok(got.every((f) => f.body === "/local/domain/5\0"));
    assert.equal(core.heldBytes(conn), 0);
  } finally {
    await guest.close();
    await dom0.close();
    await xs.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("memory stall over sockets: a held guest that closes its socket is dropped, its charge given back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dxl-stall-", dir: "/tmp" });
  const { xs, guest, core } = await stalled(dir);
  const dom0 = await RawConn.open(xs.socket);
  try {
    await guest.send(Op.GetDomainPath, "5\0");
    const quota = async () => (await dom0.request(Op.Control, "quota\x005\0")).body;
    assert.match(await quota(), /memory +: +574\n/);
    await guest.close();
    const deadline = Date.now() + 5000;
    while ([...core.connections].some((c) => c.id === 5) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.match(await quota(), /transactions +: +0\nouts.*\nmemory +: +314\n/s);
    // A new connection of the guest is read at once.
    const again = await RawConn.open(xs.domainSocket(5));
    assert.equal((await again.request(Op.GetDomainPath, "5\0")).body, "/local/domain/5\0");
    await again.close();
  } finally {
    await dom0.close();
    await xs.close();
    await Deno.remove(dir, { recursive: true });
  }
});
