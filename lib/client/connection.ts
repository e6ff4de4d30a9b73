/**
 * One Unix-socket connection to xenstored: request multiplexing by `req_id`, write
 * coalescing and frame decoding. The client builds its operations on top of this.
 *
 * @module
 */

import {
  ConnectionClosedError,
  decodeString,
  HEADER_SIZE,
  Op,
  opName,
  type Packet,
  PAYLOAD_MAX,
  PayloadTooLargeError,
  ProtocolError,
  XenstoreError,
} from "../protocol/mod.ts";
import { FrameReader } from "./_frame_reader.ts";
import { backoff, delay } from "./retry.ts";

/** A request payload: bytes, or a string sent as one NUL-terminated one-byte-per-char argument. */
export type Payload = Uint8Array | string;

/**
 * oxenstored answers DIRECTORY with however many bytes the children take (it has no
 * DIRECTORY_PART and never sends E2BIG), so a reply to a pending DIRECTORY may exceed
 * `PAYLOAD_MAX` up to this bound; every other frame over `PAYLOAD_MAX` is a `ProtocolError`.
 */
export const DIRECTORY_REPLY_MAX = 1 << 20;

/** Per-request options of {@linkcode Connection.request}. */
export interface RequestOptions {
  /** The path the request is about, named by its errors. */
  path?: string | undefined;
  /** Runs synchronously when the success reply is decoded, before any later frame. */
  onAck?: (() => void) | undefined;
  /**
   * An ENOENT reply is an answer, not an error: the request resolves with {@linkcode ABSENT}
   * (no `XenstoreError` is made). For reads and RMs of nodes that may be absent.
   */
  absentOk?: boolean | undefined;
  /**
   * Where the reply goes instead of a promise of its own (many requests sharing one sink,
   * as {@linkcode RequestBatch} does): the request then returns {@linkcode UNSETTLED} and
   * every outcome — the reply, an error reply, a refusal before sending — goes to the sink.
   * `signal` is not used with a sink.
   */
  sink?: ReplySink | undefined;
  /**
   * With a string payload and a `sink`: ASCII text sent after the payload's NUL, with no NUL
   * of its own (WRITE's value, encoded straight into the send buffer).
   */
  tail?: string | undefined;
  /**
   * Stops waiting: the request rejects with the signal's reason. A request already sent
   * cannot be taken back; its reply, should one come, is discarded.
   */
  signal?: AbortSignal | undefined;
}

const NO_OPTIONS: RequestOptions = {};

/** Receives the outcome of requests sent with a `sink` (one sink for many requests). */
export interface ReplySink {
  /** A success reply's payload (or {@linkcode ABSENT}). */
  resolve(payload: Uint8Array): void;
  /** An error reply, or the request was refused or lost with the connection. */
  reject(error: Error): void;
}

/** What a request sent with a `sink` returns: a promise that never settles. */
export const UNSETTLED: Promise<Uint8Array> = new Promise<Uint8Array>(() => {});

/** What the owner of a {@linkcode Connection} hears about besides replies. */
export interface ConnectionHandlers {
  /** A WATCH_EVENT arrived. Throwing a `ProtocolError` here closes the connection. */
  onEvent(packet: Packet): void;
  /** The connection ended: `ConnectionClosedError` on a drop or `close()`, else the failure. */
  onClose(reason: Error): void;
}

interface Pending {
  type: number;
  path: string | undefined;
  resolve: (payload: Uint8Array) => void;
  reject: (error: Error) => void;
  onAck: (() => void) | undefined;
  absentOk: boolean;
}

const ENOENT = "ENOENT";

/** What a request with `absentOk` resolves with for an ENOENT reply (compare by identity). */
export const ABSENT: Uint8Array = new Uint8Array(0);

function ignore(): void {}

/** Makes `pending` reject with the reason when `signal` aborts, and ignore its reply after. */
function abandonOnAbort(pending: Pending, signal: AbortSignal): void {
  const { resolve, reject } = pending;
  const onAbort = (): void => {
    pending.resolve = ignore;
    pending.reject = ignore;
    pending.onAck = undefined;
    reject(signal.reason);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  pending.resolve = (payload) => {
    signal.removeEventListener("abort", onAbort);
    resolve(payload);
  };
  pending.reject = (error) => {
    signal.removeEventListener("abort", onAbort);
    reject(error);
  };
}

const READ_BUFFER_SIZE = 64 * 1024;
const INITIAL_WRITE_BUFFER = 16 * 1024;
const MAX_REQ_ID = 0xffffffff;
/** Connect attempts while the listen backlog is full (about 2 s in all). */
const BACKLOG_ATTEMPTS = 12;

/**
 * A multiplexed connection: any number of requests in flight, replies matched by `req_id`
 * in whatever order they come. Frames queued in the same tick go out in one `write`.
 *
 * @example
 * ```ts ignore
 * import { Connection } from "./connection.ts";
 * import { encodeArgs, Op } from "../protocol/mod.ts";
 * const conn = await Connection.open("/run/xenstored/socket", {
 *   onEvent: () => {},
 *   onClose: () => {},
 * });
 * const value = await conn.request(Op.Read, 0, encodeArgs(["/local/domain/0/name"]), {
 *   signal: AbortSignal.timeout(1000),
 * });
 * await conn.close();
 * ```
 */
export class Connection {
  /** The socket path this connection was opened on. */
  readonly path: string;
  #conn: Deno.UnixConn;
  #handlers: ConnectionHandlers;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #frames: FrameReader;
  #closed: Error | undefined;
  #reading: Promise<void>;
  // Double buffering: requests fill #fill while #flight is being written.
  #fill = new Uint8Array(INITIAL_WRITE_BUFFER);
  #fillView = new DataView(this.#fill.buffer);
  #fillLen = 0;
  #flight = new Uint8Array(INITIAL_WRITE_BUFFER);
  #flightView = new DataView(this.#flight.buffer);
  #writing: Promise<void> | undefined;
  #flushQueued = false;

  private constructor(path: string, conn: Deno.UnixConn, handlers: ConnectionHandlers) {
    this.path = path;
    this.#conn = conn;
    this.#handlers = handlers;
    this.#frames = new FrameReader({
      onFrame: (packet) => this.#dispatch(packet),
      allowsOversized: (len, reqId) => this.#allowsOversized(len, reqId),
    });
    this.#reading = this.#readLoop();
  }

  /**
   * Connects to the Unix socket at `path`. A full listen backlog (the real daemons listen
   * with a tiny one, and a non-blocking connect then fails with EAGAIN until they accept) is
   * waited out with a short backoff rather than reported.
   */
  static async open(path: string, handlers: ConnectionHandlers): Promise<Connection> {
    for (let attempt = 1;; attempt++) {
      try {
        const conn = await Deno.connect({ transport: "unix", path });
        return new Connection(path, conn, handlers);
      } catch (error) {
        if (!(error instanceof Deno.errors.WouldBlock) || attempt >= BACKLOG_ATTEMPTS) throw error;
        await delay(backoff(attempt, 1));
      }
    }
  }

  /** True once the connection has ended, for whatever reason. */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** How many requests await a reply. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /**
   * Sends one request and resolves with the reply payload. Rejects with `XenstoreError` for
   * an ERROR reply, `PayloadTooLargeError` (nothing sent) for a payload over 4096 bytes, and
   * `ConnectionClosedError` or `ProtocolError` if the connection ends first, and with the
   * reason of an aborted `options.signal`. A string payload is one NUL-terminated argument of
   * one byte per char (a validated, ASCII path), written straight into the send buffer.
   *
   * An aborted request keeps its `req_id` reserved until its reply comes (or the connection
   * ends), so a late reply is recognised and dropped rather than taken for garbage.
   */
  request(
    type: number,
    txId: number,
    payload: Payload,
    options: RequestOptions = NO_OPTIONS,
  ): Promise<Uint8Array> {
    const { path, onAck, signal, absentOk, sink } = options;
    if (sink !== undefined) {
      // No promise, no closure: the reply goes to the shared sink.
      const tail = typeof payload === "string" ? options.tail : undefined;
      const refused = this.#refusal(type, payload, path, tail);
      if (refused !== undefined) {
        sink.reject(refused);
        return UNSETTLED;
      }
      const reqId = this.#allocId();
      this.#enqueue(type, reqId, txId, payload, tail);
      this.#pending.set(reqId, {
        type,
        path,
        resolve: sink.resolve,
        reject: sink.reject,
        onAck,
        absentOk: absentOk === true,
      });
      return UNSETTLED;
    }
    if (this.#closed !== undefined) return Promise.reject(this.#closedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    const size = typeof payload === "string" ? payload.length + 1 : payload.length;
    if (size > PAYLOAD_MAX) {
      return Promise.reject(new PayloadTooLargeError(opName(type), size, path));
    }
    const reqId = this.#allocId();
    this.#enqueue(type, reqId, txId, payload);
    return new Promise<Uint8Array>((resolve, reject) => {
      const pending: Pending = { type, path, resolve, reject, onAck, absentOk: absentOk === true };
      this.#pending.set(reqId, pending);
      if (signal !== undefined) abandonOnAbort(pending, signal);
    });
  }

  #refusal(
    type: number,
    payload: Payload,
    path: string | undefined,
    tail: string | undefined,
  ): Error | undefined {
    if (this.#closed !== undefined) return this.#closedError();
    const size = typeof payload === "string"
      ? payload.length + 1 + (tail === undefined ? 0 : tail.length)
      : payload.length;
    if (size > PAYLOAD_MAX) return new PayloadTooLargeError(opName(type), size, path);
    return undefined;
  }

  /** Closes the socket; every pending request rejects with `ConnectionClosedError`. */
  async close(): Promise<void> {
    this.#fail(new ConnectionClosedError("The xenstore connection was closed by the client"));
    await this.#reading;
    await this.#writing;
  }

  #closedError(): Error {
    const reason = this.#closed;
    if (reason instanceof ConnectionClosedError) return reason;
    return new ConnectionClosedError("The xenstore connection is closed", { cause: reason });
  }

  #allocId(): number {
    let id = this.#nextId;
    while (this.#pending.has(id)) id = id === MAX_REQ_ID ? 1 : id + 1;
    this.#nextId = id === MAX_REQ_ID ? 1 : id + 1;
    return id;
  }

  #enqueue(type: number, reqId: number, txId: number, payload: Payload, tail?: string): void {
    const len = typeof payload === "string"
      ? payload.length + 1 + (tail === undefined ? 0 : tail.length)
      : payload.length;
    const size = HEADER_SIZE + len;
    if (this.#fillLen + size > this.#fill.length) {
      const next = new Uint8Array(Math.max(this.#fill.length * 2, this.#fillLen + size));
      next.set(this.#fill.subarray(0, this.#fillLen));
      this.#fill = next;
      this.#fillView = new DataView(next.buffer);
    }
    const at = this.#fillLen;
    const view = this.#fillView;
    view.setUint32(at, type, true);
    view.setUint32(at + 4, reqId, true);
    view.setUint32(at + 8, txId, true);
    view.setUint32(at + 12, len, true);
    const body = at + HEADER_SIZE;
    if (typeof payload === "string") {
      const fill = this.#fill;
      const n = payload.length;
      for (let i = 0; i < n; i++) fill[body + i] = payload.charCodeAt(i);
      fill[body + n] = 0;
      if (tail !== undefined) {
        const at = body + n + 1;
        for (let i = 0; i < tail.length; i++) fill[at + i] = tail.charCodeAt(i);
      }
    } else {
      this.#fill.set(payload, body);
    }
    this.#fillLen = at + size;
    if (!this.#flushQueued && this.#writing === undefined) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushQueued = false;
    if (this.#fillLen === 0 || this.#closed !== undefined) return;
    const out = this.#fill;
    const outView = this.#fillView;
    const len = this.#fillLen;
    this.#fill = this.#flight;
    this.#fillView = this.#flightView;
    this.#fillLen = 0;
    this.#flight = out;
    this.#flightView = outView;
    this.#writing = this.#writeOut(out.subarray(0, len));
  }

  async #writeOut(bytes: Uint8Array): Promise<void> {
    try {
      await this.#writeAll(bytes);
    } catch (error) {
      this.#writing = undefined;
      this.#fail(new ConnectionClosedError("Writing to xenstored failed", { cause: error }));
      return;
    }
    this.#writing = undefined;
    if (this.#fillLen > 0) this.#flush();
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) at += await this.#conn.write(bytes.subarray(at));
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(READ_BUFFER_SIZE);
    const view = new DataView(buf.buffer);
    try {
      while (this.#closed === undefined) {
        const n = await this.#conn.read(buf);
        if (n === null) {
          const left = this.#frames.partial;
          this.#fail(
            left > 0
              ? new ProtocolError(`xenstored closed the connection inside a frame (${left} bytes)`)
              : new ConnectionClosedError("xenstored closed the connection"),
          );
          return;
        }
        this.#frames.push(buf, view, n);
      }
    } catch (error) {
      if (this.#closed !== undefined) return;
      this.#fail(
        error instanceof ProtocolError
          ? error
          : new ConnectionClosedError("Reading from xenstored failed", { cause: error }),
      );
    }
  }

  /** True if an oversized frame is oxenstored's long reply to a pending DIRECTORY. */
  #allowsOversized(len: number, reqId: number): boolean {
    return this.#pending.get(reqId)?.type === Op.Directory && len <= DIRECTORY_REPLY_MAX;
  }

  #dispatch(packet: Packet): void {
    if (this.#closed !== undefined) return;
    if (packet.type === Op.WatchEvent) {
      this.#handlers.onEvent(packet);
      return;
    }
    const pending = this.#pending.get(packet.reqId);
    if (pending === undefined) {
      throw new ProtocolError(
        `Reply ${opName(packet.type)} with req_id ${packet.reqId} matches no pending request`,
      );
    }
    if (packet.type !== Op.Error && packet.type !== pending.type) {
      throw new ProtocolError(
        `Reply to ${opName(pending.type)} (req_id ${packet.reqId}) has type ${opName(packet.type)}`,
      );
    }
    this.#pending.delete(packet.reqId);
    if (packet.type === Op.Error) {
      const code = decodeString(packet.payload);
      if (pending.absentOk && code === ENOENT) {
        pending.resolve(ABSENT);
        return;
      }
      pending.reject(new XenstoreError(code, opName(pending.type), { path: pending.path }));
      return;
    }
    pending.onAck?.();
    pending.resolve(packet.payload);
  }

  #fail(reason: Error): void {
    if (this.#closed !== undefined) return;
    this.#closed = reason;
    const pendingError = reason instanceof ProtocolError ? reason : this.#closedError();
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer: nothing left to release.
    }
    for (const p of pending) p.reject(pendingError);
    this.#handlers.onClose(reason);
  }
}
