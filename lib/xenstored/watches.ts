/**
 * Watch matching and event delivery (`xenstored_watch.c`): prefix match with an optional
 * depth, exact match for nodes removed below the removed root, read-permission filtering for
 * unprivileged watchers, relative event paths, and the special `@` events.
 *
 * @module
 */

import type { DomainInfo } from "./domains.ts";
import type { QuotaName } from "./quotas.ts";
import type { Connection, Watch } from "./connection.ts";
import type { Domains } from "./domains.ts";
import { type NodePerms, PermBits } from "./node_perms.ts";
import { permForConn } from "./permissions.ts";
import { parentOf, type Tree } from "./store.ts";
import type { Rec, WatchEvent } from "./types.ts";

/** What delivering an event needs from the server. */
export interface WatchState {
  /** The node tree (the permission check looks nodes up). */
  readonly tree: Tree;
  /** The domain table (permission entries of younger domains are ignored). */
  readonly domains: Domains;
  /** Live connections, oldest first. */
  readonly connections: ReadonlySet<Connection>;
  /** Watches held by all connections. */
  readonly watchCount: number;
  /** Permissions of `@introduceDomain` and `@releaseDomain`. */
  readonly specialPerms: ReadonlyMap<string, NodePerms>;
  /** The quota that applies to a domain (`Infinity` when disabled). */
  quota(domain: DomainInfo | undefined, name: QuotaName): number;
}

const AT = "@".charCodeAt(0);
const SLASH = "/".charCodeAt(0);

/** True when `child` is `parent` or below it (`/` contains everything). */
export function isChild(child: string, parent: string): boolean {
  if (parent === "/") return true;
  if (!child.startsWith(parent)) return false;
  const c = child.charCodeAt(parent.length);
  return Number.isNaN(c) || c === SLASH;
}

function depthOk(name: string, watch: Watch): boolean {
  if (watch.depth < 0) return true;
  const rest = watch.node === "/" ? name.slice(1) : name.slice(watch.node.length + 1);
  if (rest.length === 0) return true;
  let levels = 1;
  for (let i = 0; i < rest.length; i++) if (rest.charCodeAt(i) === SLASH) levels++;
  return levels <= watch.depth;
}

/** The path an event reports for a watch: relative when the watch was given relative. */
export function watchPath(watch: Watch, name: string): string {
  if (watch.relative === undefined) return name;
  let path = name.slice(watch.relative.length);
  if (path.charCodeAt(0) === SLASH) path = path.slice(1);
  return path;
}

function readable(state: WatchState, conn: Connection, rec: Rec): boolean {
  return (permForConn(conn, state.domains.adjust(rec.perms, rec.gen)) & PermBits.Read) !== 0;
}

function find(state: WatchState, ev: WatchEvent, path: string): Rec | undefined {
  return ev.lookup === undefined ? state.tree.lookup(path) : ev.lookup(path);
}

function permitted(state: WatchState, conn: Connection, ev: WatchEvent): boolean {
  // As C's watch_permitted: even a privileged watcher gets no event for a node that is gone
  // and had no permissions before (created and removed inside one transaction).
  const oldPerms = ev.oldPerms;
  if (oldPerms !== undefined && (permForConn(conn, oldPerms) & PermBits.Read) !== 0) return true;
  const n = ev.node ?? find(state, ev, ev.name);
  if (n === undefined) return false;
  if (!conn.unprivileged || readable(state, conn, n)) return true;
  const p = ev.parent ?? find(state, ev, parentOf(ev.name));
  return p !== undefined && readable(state, conn, p);
}

/** Whether a connection may receive events of a special `@` path. */
export function specialReadable(state: WatchState, name: string, conn: Connection): boolean {
  const slash = name.indexOf("/");
  const perms = state.specialPerms.get(slash < 0 ? name : name.slice(0, slash));
  if (perms === undefined) return false;
  return (permForConn(conn, perms) & PermBits.Read) !== 0;
}

/**
 * Delivers one event (`fire_watches` outside a transaction): every matching watch of every
 * permitted connection gets it.
 */
export function deliver(state: WatchState, ev: WatchEvent): void {
  if (state.watchCount === 0) return;
  const name = ev.name;
  const special = name.charCodeAt(0) === AT;
  const exact = ev.exact;
  for (const conn of state.connections) {
    if (conn.watches.length === 0) continue;
    if (special) {
      if (!specialReadable(state, name, conn)) continue;
    } else if (!permitted(state, conn, ev)) {
      continue;
    }
    for (const watch of conn.watches) {
      const hit = exact ? watch.node === name : isChild(name, watch.node) && depthOk(name, watch);
      if (hit) {
        conn.event(watchPath(watch, name), watch.token, state.quota(conn.domain, "memory"));
      }
    }
  }
}
