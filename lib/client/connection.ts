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
import { backoff, delay } from "./retry.ts";

/** A request payload: bytes, or a string sent as one NUL-terminated one-byte-per-char argument. */
export type Payload = Uint8Array | string;

/**
 * oxenstored answers DIRECTORY with however many bytes the children take (it has no
 * DIRECTORY_PART and never sends E2BIG), so a reply to a pending DIRECTORY may exceed
 * `PAYLOAD_MAX` up to this bound; every other frame over `PAYLOAD_MAX` is a `ProtocolError`.
 */
export const DIRECTORY_REPLY_MAX = 1 << 20;

function oversized(len: number): ProtocolError {
  return new ProtocolError(
    `Frame announces a payload of ${len} bytes, over the ${PAYLOAD_MAX}-byte limit`,
  );
}

/** Per-request options of {@linkcode Connection.request}. */
export interface RequestOptions {
  /** The path the request is about, named by its errors. */
  path?: string | undefined;
  /** Runs synchronously when the success reply is decoded, before any later frame. */
  onAck?: (() => void) | undefined;
  /**
   * Stops waiting: the request rejects with the signal's reason. A request already sent
   * cannot be taken back; its reply, should one come, is discarded.
   */
  signal?: AbortSignal | undefined;
}

const NO_OPTIONS: RequestOptions = {};

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
}

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
const SLAB_SIZE = 8 * 1024;
const SLAB_ITEM_MAX = 1024;
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
  // Bytes of a frame split across reads (the in-place decoder's carry-over).
  #carry = new Uint8Array(HEADER_SIZE + PAYLOAD_MAX);
  #carryView = new DataView(this.#carry.buffer);
  #carryLen = 0;
  #slab = new Uint8Array(SLAB_SIZE);
  #slabUsed = 0;
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
    const { path, onAck, signal } = options;
    if (this.#closed !== undefined) return Promise.reject(this.#closedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    const size = typeof payload === "string" ? payload.length + 1 : payload.length;
    if (size > PAYLOAD_MAX) {
      return Promise.reject(new PayloadTooLargeError(opName(type), size, path));
    }
    const reqId = this.#allocId();
    this.#enqueue(type, reqId, txId, payload);
    return new Promise<Uint8Array>((resolve, reject) => {
      const pending: Pending = { type, path, resolve, reject, onAck };
      this.#pending.set(reqId, pending);
      if (signal !== undefined) abandonOnAbort(pending, signal);
    });
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

  #enqueue(type: number, reqId: number, txId: number, payload: Payload): void {
    const len = typeof payload === "string" ? payload.length + 1 : payload.length;
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
      for (let i = 0; i < payload.length; i++) fill[body + i] = payload.charCodeAt(i);
      fill[body + payload.length] = 0;
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
          const left = this.#carryLen;
          this.#fail(
            left > 0
              ? new ProtocolError(`xenstored closed the connection inside a frame (${left} bytes)`)
              : new ConnectionClosedError("xenstored closed the connection"),
          );
          return;
        }
        this.#decode(buf, view, n);
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

  /**
   * Dispatches every whole frame in `buf[0, n)`: first completing a frame carried over from
   * the last read, then straight from `buf`; a trailing partial frame is carried over.
   */
  #decode(buf: Uint8Array, view: DataView, n: number): void {
    let at = this.#carryLen > 0 ? this.#completeCarry(buf, n) : 0;
    while (n - at >= HEADER_SIZE) {
      const len = view.getUint32(at + 12, true);
      if (len > PAYLOAD_MAX) this.#checkLength(len, view.getUint32(at + 4, true));
      if (n - at < HEADER_SIZE + len) break;
      const start = at + HEADER_SIZE;
      at = start + len;
      this.#dispatch({
        type: view.getUint32(start - 16, true),
        reqId: view.getUint32(start - 12, true),
        txId: view.getUint32(start - 8, true),
        payload: this.#copyOut(buf, start, at),
      });
    }
    if (at < n) {
      // The loop above already vetted the length of a frame whose header is here.
      if (n - at >= HEADER_SIZE) this.#reserveCarry(HEADER_SIZE + view.getUint32(at + 12, true));
      this.#carry.set(buf.subarray(at, n), this.#carryLen);
      this.#carryLen += n - at;
    }
  }

  /** Adds bytes from `buf` to the carried frame; dispatches it once whole. Returns bytes used. */
  #completeCarry(buf: Uint8Array, n: number): number {
    let at = 0;
    if (this.#carryLen < HEADER_SIZE) {
      at = Math.min(HEADER_SIZE - this.#carryLen, n);
      this.#carry.set(buf.subarray(0, at), this.#carryLen);
      this.#carryLen += at;
      if (this.#carryLen < HEADER_SIZE) return at;
      const len = this.#carryView.getUint32(12, true);
      if (len > PAYLOAD_MAX) this.#checkLength(len, this.#carryView.getUint32(4, true));
      this.#reserveCarry(HEADER_SIZE + len);
    }
    const view = this.#carryView;
    const total = HEADER_SIZE + view.getUint32(12, true);
    const take = Math.min(total - this.#carryLen, n - at);
    this.#carry.set(buf.subarray(at, at + take), this.#carryLen);
    this.#carryLen += take;
    at += take;
    if (this.#carryLen === total) {
      this.#carryLen = 0;
      this.#dispatch({
        type: view.getUint32(0, true),
        reqId: view.getUint32(4, true),
        txId: view.getUint32(8, true),
        payload: this.#carry.slice(HEADER_SIZE, total),
      });
    }
    return at;
  }

  /**
   * Copies `buf[start, end)` out of the reused read buffer. Small payloads are carved from a
   * shared 8 KiB slab (as Node's Buffer pool does): one backing store per slab instead of one
   * per reply, which is most of the garbage under load. A held payload keeps at most its slab.
   */
  #copyOut(buf: Uint8Array, start: number, end: number): Uint8Array {
    const len = end - start;
    if (len > SLAB_ITEM_MAX) return buf.slice(start, end);
    if (this.#slabUsed + len > SLAB_SIZE) {
      this.#slab = new Uint8Array(SLAB_SIZE);
      this.#slabUsed = 0;
    }
    const at = this.#slabUsed;
    this.#slab.set(buf.subarray(start, end), at);
    this.#slabUsed = at + len;
    return this.#slab.subarray(at, at + len);
  }

  #reserveCarry(size: number): void {
    if (size <= this.#carry.length) return;
    const next = new Uint8Array(size);
    next.set(this.#carry.subarray(0, this.#carryLen));
    this.#carry = next;
    this.#carryView = new DataView(next.buffer);
  }

  /** Throws unless an oversized frame is oxenstored's long reply to a pending DIRECTORY. */
  #checkLength(len: number, reqId: number): void {
    const pending = this.#pending.get(reqId);
    if (pending?.type === Op.Directory && len <= DIRECTORY_REPLY_MAX) return;
    throw oversized(len);
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
