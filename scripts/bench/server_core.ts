// deno-lint-ignore-file no-console
/**
 * The embedded xenstored's protocol core without sockets: CPU time per request (user +
 * system, the best of 31 alternating trials) for READ, WRITE and WRITE with 4 watchers (32
 * requests per batch, as a pipelining client sends them) from dom0, READ and WRITE from a
 * guest (whose requests get the quota checks), and the client's frame decoding (64 replies
 * per read). Robust to a busy machine, so it can compare two versions in one run:
 * give each version's checkout (e.g. a `git archive` of the old commit) as an argument; the
 * trials alternate between them.
 *
 * Run: `deno run -A scripts/bench/server_core.ts [TREE ...]` (default: this checkout).
 *
 * @module
 */

import { cpuUsage } from "node:process";
import { resolve } from "node:path";
import { concatBytes } from "../../tests/_helpers/bytes.ts";

interface Version {
  name: string;
  // deno-lint-ignore no-explicit-any
  core: any;
  // deno-lint-ignore no-explicit-any
  proto: any;
  // deno-lint-ignore no-explicit-any
  client: any;
}

const roots = Deno.args.length > 0
  ? Deno.args.map((a) => resolve(a))
  : [new URL("../..", import.meta.url).pathname];
const versions: Version[] = [];
for (const root of roots) {
  versions.push({
    name: root,
    core: await import(`file://${root}/lib/xenstored/core.ts`),
    proto: await import(`file://${root}/lib/protocol/mod.ts`),
    client: await import(`file://${root}/lib/client/_frame_reader.ts`),
  });
}

const enc = new TextEncoder();
function batch(v: Version, type: number, make: (i: number) => string, n: number): Uint8Array {
  const frames: Uint8Array[] = Array.from(
    { length: n },
    (_, i) => v.proto.encodePacket({ type, reqId: i + 1, txId: 0, payload: enc.encode(make(i)) }),
  );
  return concatBytes(frames);
}

type Run = (rounds: number) => number;

function server(v: Version, type: number, make: (i: number) => string, watchers: number): Run {
  const Op = v.proto.Op;
  const core = new v.core.XenstoredCore();
  const conn = core.connect();
  core.receive(conn, batch(v, Op.Write, (j) => `/b/n${j}\0v`, 32));
  conn.takeOutput();
  const watching: { takeOutput(): Uint8Array }[] = [];
  for (let i = 0; i < watchers; i++) {
    const w = core.connect();
    core.receive(w, batch(v, Op.Watch, () => `/b\0t\0`, 1));
    w.takeOutput();
    watching.push(w);
  }
  const bytes = batch(v, type, make, 32);
  return (rounds) => {
    for (let r = 0; r < rounds; r++) {
      core.receive(conn, bytes);
      conn.takeOutput();
      for (const w of watching) w.takeOutput();
    }
    return rounds * 32;
  };
}

/** The same on a guest's connection (domain 5): the quota checks a guest's requests get. */
function guest(v: Version, type: number, make: (i: number) => string): Run {
  const Op = v.proto.Op;
  const core = new v.core.XenstoredCore();
  const dom0 = core.connect();
  core.createDomain(5);
  core.receive(dom0, batch(v, Op.Mkdir, () => "/local/domain/5\0", 1));
  core.receive(dom0, batch(v, Op.SetPerms, () => "/local/domain/5\0n5\0r0\0", 1));
  core.receive(dom0, batch(v, Op.Introduce, () => "5\u00000\u00001\u0000", 1));
  dom0.takeOutput();
  const conn = core.connect(5);
  core.receive(conn, batch(v, Op.Write, (j) => `n${j}\0v`, 32));
  conn.takeOutput();
  const bytes = batch(v, type, make, 32);
  return (rounds) => {
    for (let r = 0; r < rounds; r++) {
      core.receive(conn, bytes);
      conn.takeOutput();
    }
    return rounds * 32;
  };
}

function client(v: Version): Run {
  const bytes = batch(v, v.proto.Op.Read, (i) => `value-${i}`, 64);
  const view = new DataView(bytes.buffer);
  const reader = new v.client.FrameReader({ onFrame: () => {}, allowsOversized: () => false });
  return (rounds) => {
    for (let r = 0; r < rounds; r++) reader.push(bytes, view, bytes.length);
    return rounds * 64;
  };
}

const BENCHES: [string, (v: Version) => Run, number][] = [
  ["server READ, 32 per batch", (v) => server(v, v.proto.Op.Read, (i) => `/b/n${i}\0`, 0), 400],
  ["server WRITE, 32 per batch", (v) => server(v, v.proto.Op.Write, (i) => `/b/n${i}\0x`, 0), 400],
  ["server WRITE, 4 watchers", (v) => server(v, v.proto.Op.Write, (i) => `/b/n${i}\0x`, 4), 400],
  ["guest READ, 32 per batch", (v) => guest(v, v.proto.Op.Read, (i) => `n${i}\0`), 400],
  ["guest WRITE, 32 per batch", (v) => guest(v, v.proto.Op.Write, (i) => `n${i}\0x`), 400],
  ["client decode, 64 replies per read", client, 3000],
];

console.log(`| CPU ns/op (best of 31) | ${versions.map((v) => v.name).join(" | ")} |`);
console.log(`|---|${versions.map(() => "---").join("|")}|`);
for (const [name, make, rounds] of BENCHES) {
  const runs = versions.map(make);
  for (const run of runs) run(rounds);
  const best = versions.map(() => Infinity);
  for (let t = 0; t < 31; t++) {
    const order = t % 2 === 0 ? runs.keys() : [...runs.keys()].reverse();
    for (const i of order) {
      const start = cpuUsage();
      const ops = (runs[i] as Run)(rounds);
      const used = cpuUsage(start);
      best[i] = Math.min(best[i] as number, (used.user + used.system) * 1000 / ops);
    }
  }
  const base = best[0] as number;
  const cells = best.map((b, i) =>
    `${b.toFixed(0)}${i === 0 ? "" : ` (×${(b / base).toFixed(2)})`}`
  );
  console.log(`| ${name} | ${cells.join(" | ")} |`);
}
