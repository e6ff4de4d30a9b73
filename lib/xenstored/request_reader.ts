/**
 * The request side of the protocol core: each connection's bytes cut into requests (the
 * protocol's frame reader, in place), and the input of connections that may not be read held
 * back until they may: C xenstored 4.17's `domain_can_read` stops reading a guest's ring once
 * its domain is charged its hard memory quota or more, and reads it again once the charge has
 * fallen. No I/O, no server state: the sink decides.
 *
 * @module
 */

import { ProtocolError } from "../protocol/errors.ts";
import { FrameReader } from "../protocol/frame_reader.ts";
import { Op } from "../protocol/op.ts";
import type { Connection } from "./connection.ts";
import type { Request } from "./context.ts";

/** What a {@linkcode RequestReader} feeds. */
export interface RequestSink {
  /** Processes one request (its payload is valid only during the call). */
  process(conn: Connection, req: Request): void;
  /**
   * True while the connection may not be read (its domain at its memory quota); asked only
   * for unprivileged connections.
   */
  stalled(conn: Connection): boolean;
  /** Drops a connection that sent a frame over the size limit. */
  disconnect(conn: Connection): void;
  /** A connection whose input was held has had all of it processed. */
  resumed(conn: Connection): void;
}

/**
 * Cuts each connection's bytes into requests and hands them to the sink, holding a stalled
 * connection's input until the sink says it may be read again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestReader } from "./request_reader.ts";
 * import { Connection } from "./connection.ts";
 * import { Domains } from "./domains.ts";
 * import { encodePacket, Op } from "../protocol/mod.ts";
 * let stalled = true;
 * const seen: number[] = [];
 * const reader = new RequestReader({
 *   process: (_conn, req) => void seen.push(req.reqId),
 *   stalled: () => stalled,
 *   disconnect: () => {},
 *   resumed: () => {},
 * });
 * const conn = new Connection(5, new Domains().alloc(5, 0)); // guest 5: it may stall
 * const frame = (reqId: number) =>
 *   encodePacket({ type: Op.Read, reqId, txId: 0, payload: new Uint8Array([47, 0]) });
 * reader.receive(conn, frame(1));
 * assert.deepEqual(seen, []); // held
 * assert.equal(reader.heldBytes(conn), 18);
 * stalled = false;
 * assert.equal(reader.resume(), true);
 * reader.receive(conn, frame(2));
 * assert.deepEqual(seen, [1, 2]);
 * ```
 */
export class RequestReader {
  readonly #sink: RequestSink;
  readonly #readers = new WeakMap<Connection, FrameReader>();
  readonly #request: Request = { type: Op.Invalid, reqId: 0, txId: 0, payload: new Uint8Array(0) };
  /** Input of connections that are not read, oldest hold first. */
  readonly #held = new Map<Connection, Uint8Array>();

  /** A reader feeding `sink`. */
  constructor(sink: RequestSink) {
    this.#sink = sink;
  }

  /** True while some connection's input is held. */
  get holding(): boolean {
    return this.#held.size > 0;
  }

  /** Bytes received on `conn` and held unprocessed. */
  heldBytes(conn: Connection): number {
    return this.#held.get(conn)?.length ?? 0;
  }

  /**
   * Bytes received on `conn`: processed frame by frame while the connection may be read, the
   * rest held (a copy: `bytes` may be reused once this returns).
   */
  receive(conn: Connection, bytes: Uint8Array): void {
    // Only a guest's connection can stall (dom0's never asks).
    if (
      this.#held.size > 0 && this.#held.has(conn) || conn.unprivileged && this.#sink.stalled(conn)
    ) {
      this.#hold(conn, bytes);
    } else this.#feed(conn, bytes);
  }

  /** Forgets a connection's held input (it is gone). */
  drop(conn: Connection): void {
    this.#held.delete(conn);
  }

  /**
   * Processes the held input of every connection that may be read again, oldest hold first,
   * until none can go on (one's requests may lower another's charge). True when any did.
   */
  resume(): boolean {
    let any = false;
    for (let again = true; again;) {
      again = false;
      for (const [conn, bytes] of [...this.#held]) {
        if (this.#held.get(conn) !== bytes || this.#sink.stalled(conn)) continue;
        this.#held.delete(conn);
        this.#feed(conn, bytes);
        again = any = true;
        if (!conn.closed && !this.#held.has(conn)) this.#sink.resumed(conn);
      }
    }
    return any;
  }

  /** Processes the whole frames of `bytes`; holds the rest once the connection stalls. */
  #feed(conn: Connection, bytes: Uint8Array): void {
    let reader = this.#readers.get(conn);
    if (reader === undefined) {
      const req = this.#request;
      const sink = this.#sink;
      const guest = conn.unprivileged;
      reader = new FrameReader({
        onFrame: (type, reqId, txId, payload) => {
          req.type = type;
          req.reqId = reqId;
          req.txId = txId;
          req.payload = payload;
          sink.process(conn, req);
          return !conn.closed && !(guest && sink.stalled(conn));
        },
        allowsOversized: () => false,
      }, { copy: false });
      this.#readers.set(conn, reader);
    }
    let used: number;
    try {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      used = reader.push(bytes, view, bytes.length);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.#sink.disconnect(conn);
      return;
    }
    if (used < bytes.length && !conn.closed) this.#hold(conn, bytes.subarray(used));
  }

  /** Keeps a copy of `bytes` after the connection's held input. */
  #hold(conn: Connection, bytes: Uint8Array): void {
    const before = this.#held.get(conn);
    if (before === undefined) {
      this.#held.set(conn, bytes.slice());
      return;
    }
    const all = new Uint8Array(before.length + bytes.length);
    all.set(before);
    all.set(bytes, before.length);
    this.#held.set(conn, all);
  }
}
