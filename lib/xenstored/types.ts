/**
 * Types shared by the server's layers: a node as a request sees it, a watch event a change
 * causes, and what node access needs from the server. Types only.
 *
 * @module
 */

import type { DomainInfo, Domains } from "./domains.ts";
import type { NodePerms } from "./node_perms.ts";
import type { QuotaName } from "./quotas.ts";
import type { Node, Tree } from "./store.ts";
import type { TxNode } from "./transaction.ts";

/** A node as an operation sees it: live, or a transaction's copy. */
export type Rec = Node | TxNode;

/**
 * A watch event a change caused (`fire_watches`' arguments): delivered by the dispatcher
 * before the request's reply, to every matching watch of every permitted connection.
 */
export interface WatchEvent {
  /** The path changed, or a special `@` name. */
  readonly name: string;
  /** The node after the change (`undefined` once removed, or unknown). */
  readonly node: Rec | undefined;
  /** Its parent, when the change knows it. */
  readonly parent: Rec | undefined;
  /** Only watches on exactly this path (nodes removed below the removed root). */
  readonly exact: boolean;
  /** The node's permissions before the change (SET_PERMS, removals at commit). */
  readonly oldPerms: NodePerms | undefined;
  /** How the permission check finds nodes (a commit shows the store as C has it then). */
  readonly lookup: ((path: string) => Rec | undefined) | undefined;
}

/** What node access needs from the server. */
export interface StoreState {
  /** The node tree. */
  readonly tree: Tree;
  /** The domain table. */
  readonly domains: Domains;
  /** Paths changed since the last flush, while persistence is on (`true`: (re)created). */
  readonly dirty: Map<string, boolean> | undefined;
  /** Watches held by all connections (0: no event can be due). */
  readonly watchCount: number;
  /** The quota that applies to a domain (`Infinity` when disabled). */
  quota(domain: DomainInfo | undefined, name: QuotaName): number;
}
