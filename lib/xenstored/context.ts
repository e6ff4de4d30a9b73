/**
 * What a request handler gets: the request, its connection and transaction, node access
 * for it, the reply, and the server as a small interface (never the server class itself).
 * Types only.
 *
 * @module
 */

import type { Access } from "./access.ts";
import type { Connection } from "./connection.ts";
import type { DomainInfo } from "./domains.ts";
import type { NodePerms } from "./node_perms.ts";
import type { Quotas } from "./quotas.ts";
import type { Transaction } from "./transaction.ts";
import type { Rec, StoreState, WatchEvent } from "./types.ts";
import type { WatchState } from "./watches.ts";

/** One decoded request (the payload is only valid during the call). */
export interface Request {
  /** Message type. */
  type: number;
  /** Request id, echoed. */
  reqId: number;
  /** Transaction id, echoed. */
  txId: number;
  /** Payload bytes. */
  payload: Uint8Array;
}

/** The server as handlers see it. */
export interface ServerState extends StoreState, WatchState {
  /** Current global quotas (SET_QUOTA and CONTROL change them). */
  readonly quotas: Quotas;
  /** Permissions of `@introduceDomain` and `@releaseDomain`. */
  readonly specialPerms: Map<string, NodePerms>;
  /** CONTROL `quota-soft`'s memory value (accepted and reported only). */
  softMemory: number;
  /** Child lists of nodes joined with NULs, by generation (DIRECTORY_PART paging). */
  readonly childLists: WeakMap<Rec, { gen: number; all: string }>;
  /** Registers a watch of a connection. */
  addWatch(conn: Connection, watch: Connection["watches"][number]): void;
  /** Removes a connection's watch by index. */
  removeWatch(conn: Connection, index: number): void;
  /** Deletes a connection's watches and transactions. */
  resetConnection(conn: Connection): void;
  /** Drops a connection with its watches and transactions. */
  disconnect(conn: Connection): void;
  /** Makes a domain exist, as the hypervisor creating it would. */
  createDomain(domid: number): void;
  /** Makes a domain vanish, as the hypervisor destroying it would. */
  destroyDomain(domid: number): void;
  /** Tells the transport a domain was introduced or released (it opens or closes a socket). */
  domainChanged(domid: number, introduced: boolean): void;
  /** Where a path from this connection points (`canonicalize`). */
  canonicalize(conn: Connection, path: string): string;
  /** Delivers watch events now (in order). */
  deliverAll(events: readonly WatchEvent[]): void;
}

/** One request as its handler sees it. */
export interface RequestContext {
  /** The server. */
  readonly server: ServerState;
  /** The requesting connection. */
  readonly conn: Connection;
  /** The connection's domain record (`undefined` for dom0 socket clients). */
  readonly domain: DomainInfo | undefined;
  /** The transaction the request runs in. */
  readonly tx: Transaction | undefined;
  /** Node access for this request; collects the watch events its changes cause. */
  readonly nodes: Access;
  /** The request. */
  readonly req: Request;
  /**
   * Sends the reply (`E2BIG` instead when it would exceed 4096 bytes), after delivering the
   * watch events the request caused, as C does.
   */
  reply(parts: readonly (string | Uint8Array)[]): void;
}
