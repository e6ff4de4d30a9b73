/**
 * Load generator for the server benchmark, run as its own process so it never shares the
 * server's event loop: raw pipelined xenstore frames over Unix sockets.
 *
 * Usage: `deno run -A scripts/bench/server_load.ts SOCKET MODE CONNS INFLIGHT SECONDS`
 * where MODE is `read`, `write`, `tx` or `fill:<dirs>x<nodes>` / `fill:1x<nodes>`.
 * Prints one JSON line: `{ "ops": N, "seconds": S }`.
 *
 * @module
 */

import { encodeArgs, encodePacket, encodeWrite, Op } from "../../lib/protocol/mod.ts";

const VALUE = "0123456789abcdefghij";

function frame(type: number, payload: Uint8Array, reqId = 1, txId = 0): Uint8Array {
  return encodePacket({ type, reqId, txId, payload });
}

/** Counts whole frames in a stream, keeping the partial tail. */
class FrameCounter {
  #tail = new Uint8Array(0);
  /** Returns the frames completed, with the type and first payload byte of each. */
  push(chunk: Uint8Array): { type: number; body: Uint8Array }[] {
    let buf = chunk;
    if (this.#tail.length > 0) {
      buf = new Uint8Array(this.#tail.length + chunk.length);
      buf.set(this.#tail);
      buf.set(chunk, this.#tail.length);
    }
    const out: { type: number; body: Uint8Array }[] = [];
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let at = 0;
    while (buf.length - at >= 16) {
      const len = view.getUint32(at + 12, true);
      if (buf.length - at < 16 + len) break;
      out.push({ type: view.getUint32(at, true), body: buf.subarray(at + 16, at + 16 + len) });
      at += 16 + len;
    }
    this.#tail = buf.slice(at);
    return out;
  }
}

/** Connects, retrying while the server's listen backlog is full (C xenstored's is small). */
async function connect(path: string): Promise<Deno.UnixConn> {
  for (let attempt = 0;; attempt++) {
    try {
      return await Deno.connect({ transport: "unix", path });
    } catch (e) {
      if (!(e instanceof Deno.errors.WouldBlock) || attempt > 200) throw e;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

async function writeAll(sock: Deno.UnixConn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await sock.write(bytes.subarray(off));
}

async function pipelined(
  socket: string,
  frames: (i: number) => Uint8Array,
  inflight: number,
  until: () => boolean,
  limit = Infinity,
): Promise<number> {
  const sock = await connect(socket);
  const counter = new FrameCounter();
  const buf = new Uint8Array(1 << 16);
  let sent = 0;
  let done = 0;
  const burst = (n: number) => {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < n && sent < limit; i++) parts.push(frames(sent++));
    let size = 0;
    for (const p of parts) size += p.length;
    const out = new Uint8Array(size);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  await writeAll(sock, burst(inflight));
  while (done < sent) {
    const n = await sock.read(buf);
    if (n === null) throw new Error("server closed the connection");
    const got = counter.push(buf.subarray(0, n));
    for (const f of got) {
      if (f.type === Op.Error) throw new Error(`server error ${new TextDecoder().decode(f.body)}`);
    }
    done += got.length;
    if (!until() && sent < limit) await writeAll(sock, burst(got.length));
  }
  sock.close();
  return done;
}

async function txLoop(socket: string, conn: number, until: () => boolean): Promise<number> {
  const sock = await connect(socket);
  const counter = new FrameCounter();
  const buf = new Uint8Array(4096);
  const next = async () => {
    for (;;) {
      const f = counter.push(new Uint8Array(0));
      if (f.length > 0) return f[0]!;
      const n = await sock.read(buf);
      if (n === null) throw new Error("closed");
      const got = counter.push(buf.subarray(0, n));
      if (got.length > 0) return got[0]!;
    }
  };
  let commits = 0;
  while (!until()) {
    await writeAll(sock, frame(Op.TransactionStart, encodeArgs([""])));
    const start = await next();
    const id = Number(new TextDecoder().decode(start.body.subarray(0, start.body.length - 1)));
    await writeAll(
      sock,
      frame(Op.Write, encodeWrite(`/bench/tx/c${conn}`, VALUE), 2, id),
    );
    await next();
    await writeAll(sock, frame(Op.TransactionEnd, encodeArgs(["T"]), 3, id));
    const end = await next();
    if (end.type === Op.TransactionEnd) commits++;
  }
  sock.close();
  return commits;
}

if (import.meta.main) {
  const [socket, mode, connsText, inflightText, secondsText] = Deno.args;
  if (socket === undefined || mode === undefined) {
    throw new TypeError("usage: server_load.ts SOCKET MODE CONNS INFLIGHT SECONDS");
  }
  const conns = Number(connsText ?? "1");
  const inflight = Number(inflightText ?? "1");
  const seconds = Number(secondsText ?? "2");
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const until = () => performance.now() >= deadline;
  let ops = 0;
  if (mode === "read" || mode === "write") {
    const keys = 64;
    if (mode === "read") {
      const setup = Array.from(
        { length: keys },
        (_, k) => frame(Op.Write, encodeWrite(`/bench/r/k${k}`, VALUE)),
      );
      await pipelined(socket, (i) => setup[i]!, keys, () => false, keys);
    }
    const pre: Uint8Array[][] = [];
    for (let c = 0; c < conns; c++) {
      pre.push(
        Array.from(
          { length: keys },
          (_, k) =>
            mode === "read"
              ? frame(Op.Read, encodeArgs([`/bench/r/k${k}`]))
              : frame(Op.Write, encodeWrite(`/bench/w/c${c}/k${k}`, VALUE)),
        ),
      );
    }
    const counts = await Promise.all(
      pre.map((frames) => pipelined(socket, (i) => frames[i % keys]!, inflight, until)),
    );
    ops = counts.reduce((a, b) => a + b, 0);
  } else if (mode === "tx") {
    const counts = await Promise.all(
      Array.from({ length: conns }, (_, c) => txLoop(socket, c, until)),
    );
    ops = counts.reduce((a, b) => a + b, 0);
  } else if (mode.startsWith("fill:")) {
    const [dirs, nodes] = mode.slice(5).split("x").map(Number) as [number, number];
    const total = dirs * nodes;
    ops = await pipelined(
      socket,
      (i) =>
        frame(
          Op.Write,
          encodeWrite(`/bench/m/d${Math.floor(i / nodes)}/n${i % nodes}`, VALUE),
        ),
      inflight,
      () => false,
      total,
    );
  } else {
    throw new TypeError(`Unknown mode "${mode}"`);
  }
  const elapsed = (performance.now() - t0) / 1000;
  // deno-lint-ignore no-console
  console.log(JSON.stringify({ ops, seconds: elapsed }));
}
