/**
 * The embedded xenstored on Unix sockets: `<dir>/socket` for privileged dom0 clients, and
 * `<dir>/domains/<N>.sock` for each introduced domain N, whose connections are that
 * unprivileged guest.
 *
 * @module
 */

import { Op } from "../protocol/op.ts";
import { Connection } from "./connection.ts";
import { XenstoredCore } from "./core.ts";
import type { Quotas } from "./quotas.ts";
import { openState, type StateStore } from "./state.ts";

/** Options of {@linkcode startXenstored}. */
export interface StartXenstoredOptions {
  /** Directory for the sockets (created if missing). */
  dir: string;
  /**
   * SQLite file that keeps the tree across restarts (WAL, one SQLite transaction per batch of
   * requests). @default {undefined (in memory, like `xenstored -I on`)}
   */
  state?: string | undefined;
  /** Quota overrides. @default {C xenstored's defaults} */
  quotas?: Partial<Quotas> | undefined;
  /**
   * Write `/local/domain/0/name = Domain-0` and `domid = 0` as `xen-init-dom0` does.
   * @default {false}
   */
  initDom0?: boolean;
}

/** A running embedded xenstored. */
export interface XenstoredHandle extends AsyncDisposable {
  /** The dom0 socket path. */
  readonly socket: string;
  /** The run directory. */
  readonly dir: string;
  /** Makes domain `domid` exist (the hypervisor side); INTRODUCE then opens its socket. */
  createDomain(domid: number): void;
  /**
   * Creates domain `domid`, gives it `/local/domain/<domid>` (owned by it, readable by dom0),
   * INTRODUCEs it and returns the socket whose connections are that guest.
   */
  guest(domid: number): Promise<string>;
  /** The socket path of domain `domid` (listening while it is introduced). */
  domainSocket(domid: number): string;
  /** Makes a domain vanish: releases it, fires `@releaseDomain`, closes its socket. */
  destroyDomain(domid: number): Promise<void>;
  /** Stops listening, closes every connection and removes the sockets. */
  close(): Promise<void>;
}

interface Peer {
  sock: Deno.UnixConn;
  queue: Promise<void>;
  /** Bytes handed to the socket writer and not yet written. */
  pending: number;
  /** Wakes the reader paused on held input (the core resumed or dropped the connection). */
  wake: (() => void) | undefined;
}

/**
 * Stop reading from a client while this much of its output waits to be written, or while
 * this much of its input is held by the core (a guest at its memory quota: the socket's
 * buffer then fills, as a stalled guest's ring does, and the guest's writes block).
 */
const READ_PAUSE_BYTES = 1 << 20;
/** Drop a client (e.g. a watcher that never reads) once this much output waits. */
const DROP_BYTES = 64 << 20;

/**
 * Starts the embedded xenstored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startXenstored } from "./server.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * {
 *   await using xs = await startXenstored({ dir });
 *   assert.equal(xs.socket, `${dir}/socket`);
 *   assert.ok((await Deno.stat(xs.socket)).isSocket);
 *   assert.equal(await xs.guest(5), `${dir}/domains/5.sock`);
 * }
 * await assert.rejects(Deno.stat(`${dir}/socket`), Deno.errors.NotFound); // removed on dispose
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function startXenstored(options: StartXenstoredOptions): Promise<XenstoredHandle> {
  const dir = options.dir;
  await Deno.mkdir(`${dir}/domains`, { recursive: true });
  const state: StateStore | undefined = options.state === undefined
    ? undefined
    : openState(options.state);
  const core: XenstoredCore = new XenstoredCore({
    quotas: options.quotas ?? {},
    dirty: state?.dirty,
    onBatch: state === undefined ? undefined : () => state.flush(core),
    onDomainChange: (domid, introduced) => domainChange(domid, introduced),
    onResume: (conn) => wake(conn),
  });
  state?.restore(core);
  const peers = new Map<Connection, Peer>();
  const listeners = new Map<number | "main", Deno.Listener<Deno.UnixConn, Deno.UnixAddr>>();
  const loops: Promise<void>[] = [];
  let closing = false;
  const wake = (conn: Connection) => {
    const peer = peers.get(conn);
    peer?.wake?.();
    if (peer !== undefined) peer.wake = undefined;
  };

  const flush = () => {
    for (const [conn, peer] of peers) {
      if (!conn.hasOutput) continue;
      const bytes = conn.beginWrite();
      // Idle socket: write at once (one promise per reply); else queue behind the writes.
      peer.queue = peer.pending === 0
        ? writeOut(peer, bytes, conn)
        : peer.queue.then(() => writeOut(peer, bytes, conn));
      peer.pending += bytes.length;
      if (peer.pending > DROP_BYTES) core.disconnect(conn);
    }
  };

  const serve = async (sock: Deno.UnixConn, domid: number | undefined) => {
    let conn: Connection;
    try {
      conn = core.connect(domid, () => {
        wake(conn);
        const peer = peers.get(conn);
        peers.delete(conn);
        peer?.queue.finally(() => closeQuietly(peer.sock));
      });
    } catch {
      closeQuietly(sock);
      return;
    }
    const peer: Peer = { sock, queue: Promise.resolve(), pending: 0, wake: undefined };
    peers.set(conn, peer);
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await sock.read(buf);
        if (n === null) break;
        core.receive(conn, buf.subarray(0, n));
        flush();
        if (conn.closed) break;
        if (peer.pending > READ_PAUSE_BYTES) await peer.queue;
        if (core.heldBytes(conn) > READ_PAUSE_BYTES) {
          await new Promise<void>((resolve) => peer.wake = resolve);
          if (conn.closed) break;
        }
      }
    } catch {
      // the peer went away; fall through to the cleanup
    }
    if (!conn.closed) core.disconnect(conn);
    flush();
    await peer.queue;
  };

  const listen = (key: number | "main", path: string) => {
    try {
      Deno.removeSync(path);
    } catch {
      // nothing to remove
    }
    const listener = Deno.listen({ transport: "unix", path });
    listeners.set(key, listener);
    loops.push((async () => {
      const conns: Promise<void>[] = [];
      try {
        for await (const sock of listener) {
          conns.push(serve(sock, key === "main" ? undefined : key));
        }
      } catch {
        // listener closed
      }
      await Promise.all(conns);
    })());
  };

  const domainSocket = (domid: number) => `${dir}/domains/${domid}.sock`;
  const domainChange = (domid: number, introduced: boolean) => {
    if (closing || domid === 0) return;
    if (introduced && !listeners.has(domid)) listen(domid, domainSocket(domid));
    if (!introduced) {
      const l = listeners.get(domid);
      listeners.delete(domid);
      if (l !== undefined) {
        l.close();
        try {
          Deno.removeSync(domainSocket(domid));
        } catch {
          // already gone
        }
      }
    }
  };
  // Domains a saved state file had introduced listen again.
  for (const d of core.domains.introduced()) domainChange(d.domid, true);
  if (options.initDom0 ?? false) initDom0(core);
  state?.flush(core);
  const socket = `${dir}/socket`;
  listen("main", socket);

  const close = async () => {
    if (closing) return;
    closing = true;
    for (const [key, l] of listeners) {
      l.close();
      try {
        Deno.removeSync(key === "main" ? socket : domainSocket(key));
      } catch {
        // already gone
      }
    }
    for (const conn of [...peers.keys()]) core.disconnect(conn);
    await Promise.all(loops);
    state?.close();
  };

  const handle: XenstoredHandle = {
    socket,
    dir,
    createDomain: (domid) => core.createDomain(domid),
    async guest(domid) {
      core.createDomain(domid);
      runAsDom0(core, [
        [Op.Mkdir, [`/local/domain/${domid}`]],
        [Op.SetPerms, [`/local/domain/${domid}`, `n${domid}`, "r0"]],
        [Op.Introduce, [String(domid), "0", "1"]],
      ]);
      state?.flush(core);
      flush();
      return await Promise.resolve(domainSocket(domid));
    },
    domainSocket,
    async destroyDomain(domid) {
      core.destroyDomain(domid);
      flush();
      await Promise.resolve();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
  Object.defineProperty(handle, CORE, { value: core });
  return handle;
}

/** The key under which a handle keeps its core (no registry shared between servers). */
const CORE = Symbol("xenstored core");

/** The protocol core behind a handle (for tests that inspect server state). */
export function coreOf(handle: XenstoredHandle): XenstoredCore {
  const core = (handle as { [CORE]?: XenstoredCore })[CORE];
  if (core === undefined) throw new TypeError("Not a handle returned by startXenstored()");
  return core;
}

/** Runs requests as an internal dom0 connection; throws when one fails. */
function runAsDom0(core: XenstoredCore, requests: [Op, string[]][]): void {
  const conn = new Connection(0, undefined);
  const enc = new TextEncoder();
  for (const [type, args] of requests) {
    const payload = enc.encode(args.map((a) => `${a}\0`).join(""));
    core.process(conn, { type, reqId: 0, txId: 0, payload });
    const out = conn.takeOutput();
    const replyType = new DataView(out.buffer, out.byteOffset, out.byteLength).getUint32(0, true);
    if (replyType === Op.Error) {
      const code = new TextDecoder().decode(out.subarray(16, out.length - 1));
      throw new Error(`Cannot set up ${args[0]}: ${code}`);
    }
  }
}

/** Writes `/local/domain/0/{name,domid}` as `xen-init-dom0` does. */
export function initDom0(core: XenstoredCore): void {
  const conn = new Connection(0, undefined);
  const enc = new TextEncoder();
  for (
    const [path, value] of [["/local/domain/0/name", "Domain-0"], ["/local/domain/0/domid", "0"]]
  ) {
    const payload = enc.encode(`${path}\0${value}`);
    core.process(conn, { type: Op.Write, reqId: 0, txId: 0, payload });
    conn.takeOutput();
  }
}

/** Writes all of `bytes` (a failed write drops the rest: the read side sees the close). */
async function writeOut(peer: Peer, bytes: Uint8Array, conn: Connection): Promise<void> {
  try {
    let off = 0;
    while (off < bytes.length) off += await peer.sock.write(bytes.subarray(off));
  } catch {
    // the peer went away
  }
  peer.pending -= bytes.length;
  conn.endWrite();
}

function closeQuietly(sock: Deno.UnixConn): void {
  try {
    sock.close();
  } catch {
    // already closed
  }
}
