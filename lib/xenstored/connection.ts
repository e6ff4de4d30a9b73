/**
 * One client connection of the protocol core: who it is (dom0 socket client or domain N),
 * its watches, its transactions and its pending output. No I/O here: the transport takes
 * the output with {@linkcode Connection.takeOutput}.
 *
 * @module
 */

import { OutBuffer } from "./_bytes.ts";
import type { DomainInfo } from "./domains.ts";
import type { Transaction } from "./transaction.ts";

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
  /** Bytes of a frame not yet complete. */
  pending: Uint8Array | undefined;
  readonly #out = new OutBuffer();
  #events: Set<string> | undefined;
  readonly #onClose: (() => void) | undefined;

  /** A connection acting as domain `id` (0 and no domain for a dom0 socket client). */
  constructor(id: number, domain: DomainInfo | undefined, onClose?: () => void) {
    this.id = id;
    this.domain = domain;
    this.#onClose = onClose;
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
    this.#out.frame(type, reqId, txId, parts);
  }

  /** Queues a watch event unless an identical one is already waiting (as C xenstored does). */
  event(path: string, token: string): void {
    if (path.length + token.length + 2 > 4096) return;
    if (path.charCodeAt(0) !== 64) {
      const key = `${path}\0${token}`;
      this.#events ??= new Set();
      if (this.#events.has(key)) return;
      this.#events.add(key);
    }
    this.#out.frame(15, 0, 0, [path, "\0", token, "\0"]);
  }

  /** True when output is waiting. */
  get hasOutput(): boolean {
    return this.#out.length > 0;
  }

  /** Takes the waiting output bytes (a view that may start inside a larger buffer). */
  takeOutput(): Uint8Array {
    this.#events = undefined;
    return this.#out.take();
  }

  /** Marks the connection closed and tells the transport. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#onClose?.();
  }
}
