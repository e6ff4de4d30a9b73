/**
 * Watch matching and event delivery (`xenstored_watch.c`): prefix match with an optional
 * depth, exact match for nodes removed below the removed root, read-permission filtering for
 * unprivileged watchers, relative event paths, and the special `@` events.
 *
 * @module
 */

import { type Access, permForConn, type Rec } from "./access.ts";
import type { Connection, Watch } from "./connection.ts";
import type { XenstoredCore } from "./core.ts";
import { type NodePerms, PermBits } from "./node_perms.ts";
import { parentOf } from "./store.ts";

/** True when `child` is `parent` or below it (`/` contains everything). */
export function isChild(child: string, parent: string): boolean {
  if (parent === "/") return true;
  if (!child.startsWith(parent)) return false;
  const c = child.charCodeAt(parent.length);
  return Number.isNaN(c) || c === 47;
}

function depthOk(name: string, watch: Watch): boolean {
  if (watch.depth < 0) return true;
  const rest = watch.node === "/" ? name.slice(1) : name.slice(watch.node.length + 1);
  if (rest.length === 0) return true;
  let levels = 1;
  for (let i = 0; i < rest.length; i++) if (rest.charCodeAt(i) === 47) levels++;
  return levels <= watch.depth;
}

/** The path an event reports for a watch: relative when the watch was given relative. */
export function watchPath(watch: Watch, name: string): string {
  if (watch.relative === undefined) return name;
  let path = name.slice(watch.relative.length);
  if (path.charCodeAt(0) === 47) path = path.slice(1);
  return path;
}

function readable(core: XenstoredCore, conn: Connection, rec: Rec): boolean {
  return (permForConn(conn, core.domains.adjust(rec.perms, rec.gen)) & PermBits.Read) !== 0;
}

function permitted(
  core: XenstoredCore,
  conn: Connection,
  name: string,
  node: Rec | undefined,
  parent: Rec | undefined,
  oldPerms: NodePerms | undefined,
  lookup: (path: string) => Rec | undefined,
): boolean {
  // As C's watch_permitted: even a privileged watcher gets no event for a node that is gone
  // and had no permissions before (created and removed inside one transaction).
  if (oldPerms !== undefined && (permForConn(conn, oldPerms) & PermBits.Read) !== 0) return true;
  const n = node ?? lookup(name);
  if (n === undefined) return false;
  if (!conn.unprivileged || readable(core, conn, n)) return true;
  const p = parent ?? lookup(parentOf(name));
  return p !== undefined && readable(core, conn, p);
}

/**
 * `fire_watches`: inside a transaction the event is queued for commit; otherwise every
 * matching watch of every permitted connection gets it. `lookup` finds nodes for the
 * permission check (a commit passes one that shows the store as C has it at that moment).
 */
export function fireWatches(
  core: XenstoredCore,
  access: Access | undefined,
  name: string,
  node: Rec | undefined,
  parent: Rec | undefined,
  exact: boolean,
  oldPerms: NodePerms | undefined,
  lookup: (path: string) => Rec | undefined = (path) => core.tree.lookup(path),
): void {
  const tx = access?.tx;
  if (tx !== undefined) {
    const entry = tx.accessed.get(name);
    if (entry === undefined) {
      tx.fail = true;
    } else if (!entry.fireWatch) {
      entry.fireWatch = true;
      entry.watchExact = exact;
    } else if (!exact) {
      entry.watchExact = false;
    }
    return;
  }
  if (core.watchCount === 0) return;
  const special = name.charCodeAt(0) === 64;
  for (const conn of core.connections) {
    if (conn.watches.length === 0) continue;
    if (special) {
      if (!core.specialReadable(name, conn)) continue;
    } else if (!permitted(core, conn, name, node, parent, oldPerms, lookup)) {
      continue;
    }
    for (const watch of conn.watches) {
      const hit = exact ? watch.node === name : isChild(name, watch.node) && depthOk(name, watch);
      if (hit) conn.event(watchPath(watch, name), watch.token);
    }
  }
}
