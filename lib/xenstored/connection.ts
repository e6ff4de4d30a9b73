/**
 * One client connection of the protocol core: who it is (dom0 socket client or domain N),
 * its watches, its transactions and its pending output. No I/O here: the transport takes
 * the output with {@linkcode Connection.takeOutput}.
 *
 * @module
 */

import { Op } from "../protocol/op.ts";
import { HEADER_SIZE, PAYLOAD_MAX } from "../protocol/packet.ts";
import { OutBuffer, type OutSlab } from "./_bytes.ts";
import { overMemory } from "./_memory.ts";
import type { DomainInfo } from "./domains.ts";
import type { Transaction } from "./transaction.ts";

const AT = "@".charCodeAt(0);

/** A registered watch. */
export interface Watch {
  /** The absolute path (or `@` name) watched. */
  readonly node: string;
  /** The client's token. */
  readonly token: string;
  /** The connection's home when the watch was given relative; events are then relative. */
  readonly relative: string | undefined;
  /** Depth limit (0 = the node only), or -1 for no limit. */
  readonly depth: number;
}

/** Options of {@linkcode Connection}. */
export interface ConnectionOptions {
  /** Called once the connection is closed (the transport closes its socket). @default {nothing} */
  onClose?: (() => void) | undefined;
  /** Where small outputs are copied (one per server). @default {a slab of its own} */
  slab?: OutSlab | undefined;
  /**
   * The server's request counter (one per server, incremented as each request starts):
   * {@linkcode Connection.queuedBytes} counts the output queued since the current request
   * started. @default {a counter of its own, never incremented}
   */
  requests?: RequestCounter | undefined;
}

/** The number of requests a server has started processing (shared by its connections). */
export interface RequestCounter {
  /** Requests started so far. */
  n: number;
}

/** A connection to the core. */
export class Connection {
  /** The domain id the connection acts as (0 for socket clients). */
  readonly id: number;
  /** The domain of a per-domain connection; `undefined` for dom0 socket clients. */
  readonly domain: DomainInfo | undefined;
  /** Registered watches, in registration order. */
  readonly watches: Watch[] = [];
  /** Open transactions by id. */
  readonly transactions = new Map<number, Transaction>();
  /** The id the next TRANSACTION_START tries first. */
  nextTxId = 1;
  /** Set once the core dropped the connection (bad frame, release, close). */
  closed = false;
  readonly #out: OutBuffer;
  /** Watch events queued or being written, by `path\0token` (XSA-326: one of each). */
  #events: Set<string> | undefined;
  /** Keys of the events in the output not yet taken. */
  #chunk: string[] | undefined;
  /** Keys of the events of each taken output whose write has not finished, oldest first. */
  readonly #writing: (string[] | undefined)[] = [];
  readonly #onClose: (() => void) | undefined;
  readonly #requests: RequestCounter;
  /** The request during which output was last queued, and the output length before it. */
  #queuedIn = -1;
  #queuedFrom = 0;

  /** A connection acting as domain `id` (0 and no domain for a dom0 socket client). */
  constructor(id: number, domain: DomainInfo | undefined, options: ConnectionOptions = {}) {
    this.id = id;
    this.domain = domain;
    this.#onClose = options.onClose;
    this.#out = new OutBuffer(options.slab);
    this.#requests = options.requests ?? { n: 0 };
  }

  /** Unprivileged: a domain connection other than dom0 (`domain_is_unprivileged`). */
  get unprivileged(): boolean {
    return this.domain !== undefined && this.id !== 0;
  }

  /** Where relative paths resolve (`get_implicit_path`). */
  get home(): string {
    return `/local/domain/${this.domain === undefined ? 0 : this.id}`;
  }

  /** Queues a reply frame. */
  reply(type: number, reqId: number, txId: number, parts: readonly (string | Uint8Array)[]): void {
    this.#mark();
    this.#out.frame(type, reqId, txId, parts);
  }

  /** Notes where the current request's output starts, before the first frame it queues. */
  #mark(): void {
    const n = this.#requests.n;
    if (this.#queuedIn === n) return;
    this.#queuedIn = n;
    this.#queuedFrom = this.#out.length;
  }

  /**
   * Queues a watch event unless an identical one is still waiting to be written: as C
   * xenstored's `send_event` (XSA-326), which drops an event equal to one on the connection's
   * output list; special `@` events are always queued. An event that would take the
   * connection's domain to its `memory` quota (`memoryQuota`), counting the output still
   * queued and the frame's 16-byte header, is dropped, as `send_event` drops it when
   * `domain_memory_add_chk` fails.
   */
  event(path: string, token: string, memoryQuota = Infinity): void {
    const len = path.length + token.length + 2;
    if (len > PAYLOAD_MAX) return;
    if (overMemory(this.domain, memoryQuota, this.queuedBytes + len + HEADER_SIZE)) return;
    if (path.charCodeAt(0) !== AT) {
      const key = `${path}\0${token}`;
      this.#events ??= new Set();
      if (this.#events.has(key)) return;
      this.#events.add(key);
      (this.#chunk ??= []).push(key);
    }
    this.#mark();
    this.#out.frame(Op.WatchEvent, 0, 0, [path, "\0", token, "\0"]);
  }

  /**
   * Output bytes queued during the current request and not yet taken for writing, frame
   * headers included: what C still charges the domain for its output list when it checks a
   * reply or an event. C handles one request of a connection per poll round and writes the
   * connection's output to its ring in the same round, so what earlier requests queued has
   * normally left (a pipelined batch or held input, processed at once here, counts only its
   * current request's output, as C's rounds would).
   */
  get queuedBytes(): number {
    return this.#queuedIn === this.#requests.n ? this.#out.length - this.#queuedFrom : 0;
  }

  /** True when output is waiting. */
  get hasOutput(): boolean {
    return this.#out.length > 0;
  }

  /**
   * Takes the waiting output bytes (a view that may start inside a larger buffer) as
   * delivered: their events no longer hold back identical ones.
   */
  takeOutput(): Uint8Array {
    const bytes = this.beginWrite();
    this.endWrite();
    return bytes;
  }

  /**
   * Takes the waiting output for a write that may not finish at once: its watch events keep
   * holding back identical ones until {@linkcode Connection.endWrite} (writes end in order).
   */
  beginWrite(): Uint8Array {
    this.#writing.push(this.#chunk);
    this.#chunk = undefined;
    return this.#out.take();
  }

  /** The oldest output taken by {@linkcode Connection.beginWrite} has been written. */
  endWrite(): void {
    const keys = this.#writing.shift();
    if (keys === undefined || this.#events === undefined) return;
    for (const k of keys) this.#events.delete(k);
  }

  /** Marks the connection closed and tells the transport. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#onClose?.();
  }
}
