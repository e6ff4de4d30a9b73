/**
 * The protocol core of the embedded xenstored: bytes in, replies and watch events out, with
 * no sockets, so it can be table-tested. Every whole frame of a chunk is processed at once;
 * the transport then takes each connection's output in one piece.
 *
 * @module
 */

import { ProtocolError } from "../protocol/errors.ts";
import { FrameReader } from "../protocol/frame_reader.ts";
import { Op } from "../protocol/op.ts";
import { PAYLOAD_MAX } from "../protocol/packet.ts";
import { Access, Errno, permForConn } from "./access.ts";
import { Connection } from "./connection.ts";
import { type DomainInfo, Domains } from "./domains.ts";
import { DEFAULT_PERMS, type NodePerms, PermBits } from "./node_perms.ts";
import { HANDLERS, type Request } from "./ops.ts";
import { type QuotaName, type Quotas, resolveQuotas } from "./quotas.ts";
import { Tree } from "./store.ts";
import { releaseDomain } from "./ops_domains.ts";

/** Options of {@linkcode XenstoredCore}. */
export interface XenstoredCoreOptions {
  /** Quota overrides. @default {DEFAULT_QUOTAS} */
  quotas?: Partial<Quotas>;
}

/**
 * The server state and request processing.
 *
 * @example
 * ```ts
 * import { XenstoredCore } from "./core.ts";
 * import { encodeArgs, encodePacket, Op } from "../protocol/mod.ts";
 * const core = new XenstoredCore();
 * const conn = core.connect();
 * core.receive(conn, encodePacket({ type: Op.Directory, reqId: 1, txId: 0, payload: encodeArgs(["/"]) }));
 * console.log(conn.takeOutput().length); // 21
 * ```
 */
export class XenstoredCore {
  /** The node tree. */
  readonly tree: Tree = new Tree();
  /** The domain table. */
  readonly domains: Domains = new Domains();
  /** Current quotas (SET_QUOTA and CONTROL change them). */
  readonly quotas: Quotas;
  /** Live connections, oldest first. */
  readonly connections: Set<Connection> = new Set();
  /** Watches held by all connections (0 skips event matching entirely). */
  watchCount = 0;
  /** Permissions of `@introduceDomain` and `@releaseDomain`. */
  readonly specialPerms: Map<string, NodePerms> = new Map([
    ["@introduceDomain", DEFAULT_PERMS],
    ["@releaseDomain", DEFAULT_PERMS],
  ]);
  /** Called when a domain is introduced or released (the server opens or closes its socket). */
  onDomainChange: ((domid: number, introduced: boolean) => void) | undefined;
  /**
   * Paths changed since the last flush (only while persistence is on): `true` when the node
   * was (re)created, so it moved to the end of its parent's children.
   */
  dirty: Map<string, boolean> | undefined;
  /** Called after each batch of requests (persistence flushes here). */
  onCommit: (() => void) | undefined;
  readonly #request: Request = { type: 0, reqId: 0, txId: 0, payload: new Uint8Array(0) };
  readonly #readers = new WeakMap<Connection, FrameReader>();

  /** A fresh server: `/`, `/tool`, `/tool/xenstored`, dom0 introduced. */
  constructor(options: XenstoredCoreOptions = {}) {
    this.quotas = resolveQuotas(options.quotas);
    const dom0 = this.domains.alloc(0, 0);
    this.domains.setIntroduced(dom0, true);
    dom0.nbentry = 3;
  }

  /**
   * Opens a connection: a privileged dom0 socket client, or (with `domid`) a connection that
   * is domain `domid`, which must be introduced.
   */
  connect(domid?: number, onClose?: () => void): Connection {
    let conn: Connection;
    if (domid === undefined) {
      conn = new Connection(0, undefined, onClose);
    } else {
      const d = this.domains.findIntroduced(domid);
      if (d === undefined) throw new RangeError(`Domain ${domid} is not introduced`);
      conn = new Connection(domid, d, onClose);
    }
    this.connections.add(conn);
    return conn;
  }

  /** Drops a connection with its watches and transactions. */
  disconnect(conn: Connection): void {
    this.resetConnection(conn);
    this.connections.delete(conn);
    conn.close();
  }

  /** Deletes a connection's watches and transactions. */
  resetConnection(conn: Connection): void {
    this.watchCount -= conn.watches.length;
    if (conn.domain !== undefined) {
      conn.domain.nbwatch = Math.max(0, conn.domain.nbwatch - conn.watches.length);
    }
    conn.watches.length = 0;
    conn.transactions.clear();
  }

  /** Where a path from this connection points (`canonicalize`). */
  canonicalize(conn: Connection, path: string): string {
    const c = path.charCodeAt(0);
    if (c === 47 || c === 64) return path;
    return `${conn.home}/${path}`;
  }

  /**
   * The quota that applies to a domain: its own value from SET_QUOTA, else the global one;
   * `Infinity` when the value is 0 (checks disabled).
   */
  quota(domain: DomainInfo | undefined, name: QuotaName): number {
    const v = domain?.quotas[name] ?? this.quotas[name];
    return v === 0 ? Infinity : v;
  }

  /** Whether a connection may receive events of a special `@` path. */
  specialReadable(name: string, conn: Connection): boolean {
    const slash = name.indexOf("/");
    const perms = this.specialPerms.get(slash < 0 ? name : name.slice(0, slash));
    if (perms === undefined) return false;
    return (permForConn(conn, perms) & PermBits.Read) !== 0;
  }

  /**
   * Feeds bytes received on a connection. Whole frames are processed in order, in place (the
   * protocol's frame reader, zero-copy); a header announcing more than 4096 bytes closes the
   * connection, as C xenstored does.
   */
  receive(conn: Connection, chunk: Uint8Array): void {
    if (conn.closed) return;
    let reader = this.#readers.get(conn);
    if (reader === undefined) {
      const req = this.#request;
      reader = new FrameReader({
        onFrame: (type, reqId, txId, payload) => {
          req.type = type;
          req.reqId = reqId;
          req.txId = txId;
          req.payload = payload;
          this.process(conn, req);
          return !conn.closed;
        },
        allowsOversized: () => false,
      }, { copy: false });
      this.#readers.set(conn, reader);
    }
    try {
      reader.push(
        chunk,
        new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength),
        chunk.length,
      );
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.disconnect(conn);
      return;
    }
    this.onCommit?.();
  }

  /** Processes one request (`process_message`). */
  process(conn: Connection, req: Request): void {
    const handler = HANDLERS[req.type];
    if (handler === undefined) {
      this.#error(conn, req, "ENOSYS");
      return;
    }
    if (handler.priv && conn.unprivileged) {
      this.#error(conn, req, "EACCES");
      return;
    }
    let tx = undefined;
    if (!handler.noTx && req.txId !== 0) {
      tx = conn.transactions.get(req.txId);
      if (tx === undefined) {
        this.#error(conn, req, "ENOENT");
        return;
      }
    }
    try {
      handler.fn(new Access(this, conn, tx), req);
    } catch (e) {
      this.#error(conn, req, e instanceof Errno ? e.code : "EINVAL");
    }
  }

  #error(conn: Connection, req: Request, code: string): void {
    conn.reply(Op.Error, req.reqId, req.txId, [code, "\0"]);
  }

  /** Sends a reply, or E2BIG when it would exceed 4096 bytes (`send_reply`). */
  reply(conn: Connection, req: Request, parts: readonly (string | Uint8Array)[]): void {
    let len = 0;
    for (const p of parts) len += p.length;
    if (len > PAYLOAD_MAX) {
      this.#error(conn, req, "E2BIG");
      return;
    }
    conn.reply(req.type, req.reqId, req.txId, parts);
  }

  /** Makes a domain exist, as the hypervisor creating it would. */
  createDomain(domid: number): void {
    this.domains.create(domid);
  }

  /**
   * Makes a domain vanish, as the hypervisor destroying it would: an introduced domain is
   * released (its nodes removed, `@releaseDomain` fired); stale records are dropped.
   */
  destroyDomain(domid: number): void {
    this.domains.remove(domid);
    const d = this.domains.findIntroduced(domid);
    if (d !== undefined && d.heldBy === undefined) {
      // C unlinks the connection; while another domain references it (SET_TARGET), that
      // domain becomes its owner and it lives on until that one goes.
      const holder = d.referrers.shift();
      if (holder === undefined) releaseDomain(this, d);
      else d.heldBy = holder;
    }
    for (const stale of this.domains.staleRecords()) this.domains.free(stale.domid);
    this.onCommit?.();
  }
}
