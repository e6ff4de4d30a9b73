/**
 * The protocol core of the embedded xenstored: bytes in, replies and watch events out, with
 * no sockets, so it can be table-tested. Every whole frame of a chunk is processed at once
 * (the protocol's frame reader, in place); the transport then takes each connection's output
 * in one piece. The core owns the tree, the domain table, the connections and the quotas;
 * handlers see it only as a `ServerState`.
 *
 * A guest whose domain is charged its `memory` quota or more is not read, as C xenstored
 * 4.17's `domain_can_read` stops reading its ring: the rest of its bytes are held, and
 * processed once a request of another connection (or a release, a destruction, a closed
 * connection) has brought the charge below the quota.
 *
 * @module
 */

import { Op } from "../protocol/op.ts";
import { HEADER_SIZE, PAYLOAD_MAX } from "../protocol/packet.ts";
import { OutSlab } from "./_bytes.ts";
import { overMemory, watchBytes } from "./_memory.ts";
import { Access } from "./access.ts";
import { Connection, type RequestCounter, type Watch } from "./connection.ts";
import type { Request, RequestContext, ServerState } from "./context.ts";
import { type DomainInfo, Domains } from "./domains.ts";
import { Errno } from "./errno.ts";
import { DEFAULT_PERMS, type NodePerms } from "./node_perms.ts";
import { handlerFor } from "./ops.ts";
import { SOFT_MEMORY_DEFAULT } from "./ops_control.ts";
import { releaseDomain } from "./ops_domains.ts";
import { type QuotaName, type Quotas, resolveQuotas } from "./quotas.ts";
import { RequestReader } from "./request_reader.ts";
import { INITIAL_PATHS, Tree } from "./store.ts";
import type { Transaction } from "./transaction.ts";
import type { Rec, WatchEvent } from "./types.ts";
import { deliver } from "./watches.ts";

/** Options of {@linkcode XenstoredCore}. */
export interface XenstoredCoreOptions {
  /** Quota overrides. @default {DEFAULT_QUOTAS} */
  quotas?: Partial<Quotas>;
  /**
   * Where changed paths are recorded for persistence (`true`: the node was (re)created, so
   * it moved to the end of its parent's children). @default {undefined (not recorded)}
   */
  dirty?: Map<string, boolean> | undefined;
  /** Called after each batch of requests (persistence flushes here). @default {nothing} */
  onBatch?: (() => void) | undefined;
  /**
   * Called when a domain is introduced or released (the transport opens or closes its
   * socket). @default {nothing}
   */
  onDomainChange?: ((domid: number, introduced: boolean) => void) | undefined;
  /**
   * Called when a connection whose input was held (its domain at its memory quota) has had
   * all of it processed: the transport may read from it again. @default {nothing}
   */
  onResume?: ((conn: Connection) => void) | undefined;
}

const CHAR_SLASH = "/".charCodeAt(0);
const CHAR_AT = "@".charCodeAt(0);

/**
 * The server state and request processing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { XenstoredCore } from "./core.ts";
 * import { encodeArgs, encodePacket, Op } from "../protocol/mod.ts";
 * const core = new XenstoredCore();
 * const conn = core.connect();
 * core.receive(conn, encodePacket({ type: Op.Directory, reqId: 1, txId: 0, payload: encodeArgs(["/"]) }));
 * assert.equal(conn.takeOutput().length, 21); // "tool\0" after the 16-byte header
 * ```
 */
export class XenstoredCore implements ServerState {
  /** The node tree. */
  readonly tree: Tree = new Tree();
  /** The domain table. */
  readonly domains: Domains = new Domains();
  /** Current quotas (SET_QUOTA and CONTROL change them). */
  readonly quotas: Quotas;
  /** Live connections, oldest first. */
  readonly connections: Set<Connection> = new Set();
  /** Permissions of `@introduceDomain` and `@releaseDomain`. */
  readonly specialPerms: Map<string, NodePerms> = new Map([
    ["@introduceDomain", DEFAULT_PERMS],
    ["@releaseDomain", DEFAULT_PERMS],
  ]);
  /** Paths changed since the last flush (only while persistence is on). */
  readonly dirty: Map<string, boolean> | undefined;
  /** CONTROL `quota-soft`'s memory value. */
  softMemory: number = SOFT_MEMORY_DEFAULT;
  /** DIRECTORY_PART's cache of joined child lists. */
  readonly childLists: WeakMap<Rec, { gen: number; all: string }> = new WeakMap();
  #watchCount = 0;
  readonly #onBatch: (() => void) | undefined;
  readonly #onDomainChange: ((domid: number, introduced: boolean) => void) | undefined;
  /** Requests of each connection; the input of stalled ones held. */
  readonly #input: RequestReader = new RequestReader({
    process: (conn, req) => this.process(conn, req),
    // `domain_can_read`: an unprivileged domain charged its hard memory quota or more is not
    // read (dom0, socket clients and a disabled quota never stall). Asked after every request
    // of a guest, so this.quota(d, "memory") is spelled out.
    stalled: (conn) => {
      const d = conn.domain;
      if (d === undefined || d.domid === 0) return false;
      const quota = d.quotas.memory ?? this.quotas.memory;
      return quota !== 0 && d.memory >= quota;
    },
    disconnect: (conn) => this.disconnect(conn),
    resumed: (conn) => this.#onResume?.(conn),
  });
  readonly #onResume: ((conn: Connection) => void) | undefined;
  /** Nonzero while requests are being processed (no resumption from inside a request). */
  #depth = 0;
  readonly #slab = new OutSlab();
  readonly #requests: RequestCounter = { n: 0 };

  /** A fresh server: `/`, `/tool`, `/tool/xenstored`, dom0 introduced. */
  constructor(options: XenstoredCoreOptions = {}) {
    this.quotas = resolveQuotas(options.quotas);
    this.dirty = options.dirty;
    this.#onBatch = options.onBatch;
    this.#onDomainChange = options.onDomainChange;
    this.#onResume = options.onResume;
    const dom0 = this.domains.alloc(0, 0);
    this.domains.setIntroduced(dom0, true);
    dom0.nbentry = INITIAL_PATHS.length;
  }

  /** Watches held by all connections (0 skips event matching entirely). */
  get watchCount(): number {
    return this.#watchCount;
  }

  /**
   * Opens a connection: a privileged dom0 socket client, or (with `domid`) a connection that
   * is domain `domid`, which must be introduced.
   */
  connect(domid?: number, onClose?: () => void): Connection {
    let domain: DomainInfo | undefined;
    if (domid !== undefined) {
      domain = this.domains.findIntroduced(domid);
      if (domain === undefined) throw new RangeError(`Domain ${domid} is not introduced`);
    }
    const conn = new Connection(domid ?? 0, domain, {
      onClose,
      slab: this.#slab,
      requests: this.#requests,
    });
    this.connections.add(conn);
    return conn;
  }

  /**
   * Drops a connection with its watches, its transactions and its held input; a connection
   * held at its domain's memory quota may then be read again.
   */
  disconnect(conn: Connection): void {
    this.resetConnection(conn);
    this.connections.delete(conn);
    this.#input.drop(conn);
    conn.close();
    if (this.#depth === 0 && this.#input.holding && this.#resume()) this.#onBatch?.();
  }

  /** Deletes a connection's watches and transactions. */
  resetConnection(conn: Connection): void {
    this.#watchCount -= conn.watches.length;
    if (conn.domain !== undefined) {
      conn.domain.nbwatch = Math.max(0, conn.domain.nbwatch - conn.watches.length);
      for (const w of conn.watches) conn.domain.memory -= watchBytes(w);
    }
    conn.watches.length = 0;
    for (const tx of conn.transactions.values()) tx.release();
    conn.transactions.clear();
  }

  /** Registers a watch of a connection. */
  addWatch(conn: Connection, watch: Watch): void {
    conn.watches.push(watch);
    this.#watchCount++;
    if (conn.domain !== undefined) {
      conn.domain.nbwatch++;
      conn.domain.memory += watchBytes(watch);
    }
  }

  /** Removes a connection's watch by index. */
  removeWatch(conn: Connection, index: number): void {
    const [watch] = conn.watches.splice(index, 1);
    this.#watchCount--;
    if (conn.domain !== undefined && conn.domain.nbwatch > 0) conn.domain.nbwatch--;
    if (conn.domain !== undefined && watch !== undefined) conn.domain.memory -= watchBytes(watch);
  }

  /** Where a path from this connection points (`canonicalize`). */
  canonicalize(conn: Connection, path: string): string {
    const c = path.charCodeAt(0);
    if (c === CHAR_SLASH || c === CHAR_AT) return path;
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

  /** Tells the transport a domain was introduced or released. */
  domainChanged(domid: number, introduced: boolean): void {
    this.#onDomainChange?.(domid, introduced);
  }

  /** Delivers watch events, in order. */
  deliverAll(events: readonly WatchEvent[]): void {
    for (const ev of events) deliver(this, ev);
  }

  /**
   * Feeds bytes received on a connection. Whole frames are processed in order, in place (the
   * protocol's frame reader, zero-copy); a header announcing more than 4096 bytes closes the
   * connection, as C xenstored does. While the connection's domain is charged its memory
   * quota or more, the bytes are held instead (C does not read such a guest's ring), and
   * after every batch held connections back under their quota are processed.
   */
  receive(conn: Connection, chunk: Uint8Array): void {
    if (conn.closed) return;
    this.#depth++;
    try {
      this.#input.receive(conn, chunk);
      if (this.#input.holding) this.#input.resume();
    } finally {
      this.#depth--;
    }
    this.#onBatch?.();
  }

  /** Bytes received on `conn` and held unprocessed (its domain at its memory quota). */
  heldBytes(conn: Connection): number {
    return this.#input.heldBytes(conn);
  }

  /** Processes the held input of connections that may be read again (not inside a request). */
  #resume(): boolean {
    this.#depth++;
    try {
      return this.#input.resume();
    } finally {
      this.#depth--;
    }
  }

  /** Processes one request (`process_message`). */
  process(conn: Connection, req: Request): void {
    this.#requests.n++;
    const handler = handlerFor(req.type);
    if (handler === undefined) {
      this.#error(conn, req, "ENOSYS");
      return;
    }
    if (handler.priv && conn.unprivileged) {
      this.#error(conn, req, "EACCES");
      return;
    }
    let tx: Transaction | undefined;
    if (!handler.noTx && req.txId !== 0) {
      tx = conn.transactions.get(req.txId);
      if (tx === undefined) {
        this.#error(conn, req, "ENOENT");
        return;
      }
    }
    const ctx = new Context(this, conn, tx, req);
    try {
      handler.fn(ctx);
    } catch (e) {
      ctx.flushEvents();
      this.#error(conn, req, e instanceof Errno ? e.code : "EINVAL");
    }
  }

  #error(conn: Connection, req: Request, code: string): void {
    conn.reply(Op.Error, req.reqId, req.txId, [code, "\0"]);
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
    this.#requests.n++;
    this.domains.remove(domid);
    const d = this.domains.findIntroduced(domid);
    if (d !== undefined && d.heldBy === undefined) {
      // C unlinks the connection; while another domain references it (SET_TARGET), that
      // domain becomes its owner and it lives on until that one goes.
      const holder = d.referrers.shift();
      if (holder === undefined) {
        const events: WatchEvent[] = [];
        this.#depth++;
        try {
          releaseDomain(this, d, events);
          this.deliverAll(events);
        } finally {
          this.#depth--;
        }
      } else d.heldBy = holder;
    }
    for (const stale of this.domains.staleRecords()) this.domains.free(stale.domid);
    if (this.#input.holding) this.#resume();
    this.#onBatch?.();
  }
}

/**
 * One request's context: its node access (the context is the `Access` itself, one object per
 * request), and the reply after the events it caused.
 */
class Context extends Access implements RequestContext {
  readonly server: XenstoredCore;
  declare readonly conn: Connection;
  readonly req: Request;
  readonly nodes: Access;
  readonly domain: DomainInfo | undefined;

  constructor(server: XenstoredCore, conn: Connection, tx: Transaction | undefined, req: Request) {
    super(server, conn, tx);
    this.server = server;
    this.req = req;
    this.nodes = this;
    this.domain = conn.domain;
  }

  /** Delivers an event as it is fired (`fire_watches`). */
  protected override record(ev: WatchEvent): void {
    deliver(this.server, ev);
  }

  /** Delivers the events recorded so far. */
  flushEvents(): void {
    const events = this.takeEvents();
    if (events !== undefined) this.server.deliverAll(events);
  }

  reply(parts: readonly (string | Uint8Array)[]): void {
    this.flushEvents();
    const req = this.req;
    let len = 0;
    for (const p of parts) len += p.length;
    if (len > PAYLOAD_MAX) {
      this.conn.reply(Op.Error, req.reqId, req.txId, ["E2BIG", "\0"]);
      return;
    }
    // send_reply charges a reply longer than 16 bytes to the domain with a quota check, on
    // top of the output still queued.
    const d = this.domain;
    const charge = this.conn.queuedBytes + len + HEADER_SIZE;
    if (len > 16 && overMemory(d, this.server.quota(d, "memory"), charge)) {
      this.conn.reply(Op.Error, req.reqId, req.txId, ["ENOMEM", "\0"]);
      return;
    }
    this.conn.reply(req.type, req.reqId, req.txId, parts);
  }
}
