/**
 * Table-driven tests of the protocol core, in the style of ocaml-xenstore's `server_test`:
 * rows of (connection, transaction, request, expected reply, expected events), run without
 * sockets.
 *
 * @module
 */

import assert from "node:assert/strict";
import { encodePacket } from "../../lib/protocol/mod.ts";
import type { Connection } from "../../lib/xenstored/connection.ts";
import { XenstoredCore } from "../../lib/xenstored/core.ts";
import type { Quotas } from "../../lib/xenstored/mod.ts";
import { bin } from "./_raw.ts";

/** Request names used in rows, mapped to message types. */
export const OPS: Readonly<Record<string, number>> = {
  control: 0,
  directory: 1,
  read: 2,
  getperms: 3,
  watch: 4,
  unwatch: 5,
  start: 6,
  end: 7,
  introduce: 8,
  release: 9,
  getdomainpath: 10,
  write: 11,
  mkdir: 12,
  rm: 13,
  setperms: 14,
  isintroduced: 17,
  resume: 18,
  settarget: 19,
  resetwatches: 21,
  directorypart: 22,
  getfeature: 23,
  setfeature: 24,
  getquota: 25,
  setquota: 26,
};

/**
 * One row: who sends it, in which named transaction (`"-"` for none), the request and its
 * arguments (WRITE's last argument is the value, sent without a NUL; a string argument list
 * is sent as the raw payload), the expected reply (an errno name, or the payload with NULs
 * shown as `|`), and the events every connection must get (none when omitted).
 */
export type Row = [
  conn: string,
  tx: string,
  op: string,
  args: string[] | { raw: string },
  expect: string,
  events?: Record<string, string[]>,
];

/** A core with named connections and transactions. */
export class Harness {
  readonly core: XenstoredCore;
  readonly conns = new Map<string, Connection>();
  readonly txs = new Map<string, number>();
  #reqId = 0;

  constructor(quotas: Partial<Quotas> = {}) {
    this.core = new XenstoredCore({ quotas });
    this.conns.set("dom0", this.core.connect());
    this.conns.set("dom0b", this.core.connect());
  }

  /** Creates and introduces domain `domid` as a toolstack would; its connection is `g<domid>`. */
  guest(domid: number): Connection {
    this.core.createDomain(domid);
    this.run([
      ["dom0", "-", "mkdir", [`/local/domain/${domid}`], "OK|"],
      ["dom0", "-", "setperms", [`/local/domain/${domid}`, `n${domid}`, "r0"], "OK|"],
    ]);
    this.send("dom0", "-", "introduce", [String(domid), "0", "1"]);
    for (const c of this.conns.values()) c.takeOutput();
    const conn = this.core.connect(domid);
    this.conns.set(`g${domid}`, conn);
    return conn;
  }

  /** Sends one request; returns the frames each connection got, rendered. */
  send(
    conn: string,
    tx: string,
    op: string,
    args: string[] | { raw: string },
  ): Map<string, string[]> {
    const c = this.conns.get(conn);
    const type = OPS[op];
    assert.ok(c !== undefined, `no connection "${conn}"`);
    assert.ok(type !== undefined, `unknown op "${op}"`);
    let payload: string;
    if (!Array.isArray(args)) payload = args.raw;
    else if (op === "write") {
      payload = `${args.slice(0, -1).map((a) => `${a}\0`).join("")}${args.at(-1) ?? ""}`;
    } else payload = args.map((a) => `${a}\0`).join("");
    const txId = tx === "-" ? 0 : tx === "bogus" ? 4242 : this.txs.get(tx) ?? 0;
    this.core.receive(
      c,
      encodePacket({ type, reqId: ++this.#reqId, txId, payload: bin(payload) }),
    );
    const out = new Map<string, string[]>();
    for (const [name, k] of this.conns) out.set(name, frames(k.takeOutput()));
    return out;
  }

  /** Runs rows, asserting every reply and event. */
  run(rows: readonly Row[]): void {
    for (const [i, [conn, tx, op, args, expect, events]] of rows.entries()) {
      const what = `row ${i}: ${conn} ${tx} ${op} ${JSON.stringify(args)}`;
      const out = this.send(conn, tx, op, args);
      const mine = out.get(conn) ?? [];
      const replies = mine.filter((f) => !f.startsWith("EVENT "));
      assert.equal(replies.length, 1, `${what}: expected one reply, got ${JSON.stringify(mine)}`);
      assert.equal(replies[0], expect, `${what}: reply`);
      if (op === "start" && !/^E[A-Z0-9]+$/.test(expect)) {
        this.txs.set(tx === "-" ? `T${this.txs.size + 1}` : tx, Number(expect.slice(0, -1)));
      }
      for (const [name, got] of out) {
        const evs = got.filter((f) => f.startsWith("EVENT ")).map((f) => f.slice(6));
        assert.deepEqual(evs, events?.[name] ?? [], `${what}: events on ${name}`);
      }
    }
  }

  /** Starts a named transaction on a connection. */
  start(conn: string, name: string): number {
    const out = this.send(conn, "-", "start", { raw: "\0" }).get(conn) ?? [];
    const id = Number((out[0] ?? "").slice(0, -1));
    assert.ok(id > 0, `TRANSACTION_START failed: ${JSON.stringify(out)}`);
    this.txs.set(name, id);
    return id;
  }
}

function frames(bytes: Uint8Array): string[] {
  const out: string[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at + 16 <= bytes.length) {
    const type = view.getUint32(at, true);
    const len = view.getUint32(at + 12, true);
    const body = String.fromCharCode(...bytes.subarray(at + 16, at + 16 + len));
    at += 16 + len;
    if (type === 16) out.push(body.replace(/\0$/, ""));
    else if (type === 15) out.push(`EVENT ${body.replaceAll("\0", "|")}`);
    else out.push(body.replaceAll("\0", "|"));
  }
  return out;
}
