/**
 * Per-connection requests: WATCH, UNWATCH, TRANSACTION_START, TRANSACTION_END (with the
 * commit), RESET_WATCHES.
 *
 * @module
 */

import { Errno } from "./access.ts";
import { getStrings, oneArg } from "./_bytes.ts";
import { chargeNode, overMemory, releaseNode, watchBytes } from "./_memory.ts";
import type { RequestContext, ServerState } from "./context.ts";
import type { NodePerms, PermEntry } from "./node_perms.ts";
import { childPath, isValidNodename, Node } from "./store.ts";
import { type Accessed, NO_GENERATION, Transaction } from "./transaction.ts";
import type { Rec } from "./types.ts";
import { watchPath } from "./watches.ts";
import { Feature } from "../protocol/op.ts";
import { REL_PATH_MAX } from "../protocol/path.ts";

const OK = ["OK\0"];

/** WATCH `path|token|` (or `path|token|depth|`) → OK, then the initial event. */
export function doWatch(ctx: RequestContext): void {
  const core = ctx.server;
  const conn = ctx.conn;
  const vec = getStrings(ctx.req.payload);
  if (vec.length !== 2 && vec.length !== 3) throw new Errno("EINVAL");
  let [path, token, depthText] = vec as [string, string, string | undefined];
  let depth = -1;
  if (depthText !== undefined) {
    if (conn.domain !== undefined && (conn.domain.features & Feature.WatchDepth) === 0) {
      throw new Errno("EINVAL");
    }
    if (!/^[0-9]{1,9}$/.test(depthText)) throw new Errno("EINVAL");
    depth = Number(depthText);
  }
  let relative: string | undefined;
  if (path.startsWith("@")) {
    if (path.length > REL_PATH_MAX) throw new Errno("EINVAL");
  } else {
    if (!path.startsWith("/")) relative = conn.home;
    path = core.canonicalize(conn, path);
    if (!isValidNodename(path, core.quota(undefined, "path-max"))) throw new Errno("EINVAL");
  }
  for (const w of conn.watches) {
    if (w.node === path && w.token === token) throw new Errno("EEXIST");
  }
  const domain = ctx.domain;
  if (conn.unprivileged && domain !== undefined && domain.nbwatch > core.quota(domain, "watches")) {
    throw new Errno("E2BIG");
  }
  const watch = { node: path, token, relative, depth };
  // add_watch charges the domain the watch's path and token (ENOMEM at the memory quota).
  if (overMemory(domain, core.quota(domain, "memory"), watchBytes(watch))) {
    throw new Errno("ENOMEM");
  }
  core.addWatch(conn, watch);
  ctx.reply(OK);
  conn.event(watchPath(watch, path), token, core.quota(domain, "memory"));
}

/** UNWATCH `path|token|` → OK, or ENOENT when no such watch. */
export function doUnwatch(ctx: RequestContext): void {
  const conn = ctx.conn;
  const vec = getStrings(ctx.req.payload);
  if (vec.length !== 2) throw new Errno("EINVAL");
  const node = ctx.server.canonicalize(conn, vec[0] as string);
  const i = conn.watches.findIndex((w) => w.node === node && w.token === vec[1]);
  if (i < 0) throw new Errno("ENOENT");
  ctx.server.removeWatch(conn, i);
  ctx.reply(OK);
}

/** RESET_WATCHES → OK; drops the connection's watches and transactions. */
export function doResetWatches(ctx: RequestContext): void {
  ctx.server.resetConnection(ctx.conn);
  ctx.reply(OK);
}

/** TRANSACTION_START → `<id>|`; EBUSY when sent inside a transaction. */
export function doTransactionStart(ctx: RequestContext): void {
  const core = ctx.server;
  const conn = ctx.conn;
  if (ctx.tx !== undefined) throw new Errno("EBUSY");
  if (conn.unprivileged && conn.transactions.size > core.quota(conn.domain, "transactions")) {
    throw new Errno("ENOSPC");
  }
  let id = conn.nextTxId;
  while (id === 0 || conn.transactions.has(id)) id = (id + 1) >>> 0;
  conn.nextTxId = (id + 1) >>> 0;
  const generation = ++core.tree.generation;
  conn.transactions.set(id, new Transaction(id, { generation, acc: conn.domain }));
  ctx.reply([`${id}\0`]);
}

/** TRANSACTION_END `T|` or `F|` → OK; EAGAIN when a node the transaction read changed. */
export function doTransactionEnd(ctx: RequestContext): void {
  const arg = oneArg(ctx.req.payload);
  if (arg !== "T" && arg !== "F") throw new Errno("EINVAL");
  const tx = ctx.tx;
  if (tx === undefined) throw new Errno("ENOENT");
  ctx.conn.transactions.delete(tx.id);
  tx.release();
  if (arg === "T") commit(ctx, tx);
  ctx.reply(OK);
}

function commit(ctx: RequestContext, tx: Transaction): void {
  const core = ctx.server;
  const conn = ctx.conn;
  if (tx.fail) throw new Errno("ENOMEM");
  const checkQuota = tx.nodeCreated && conn.unprivileged;
  const changed = tx.changedDomains;
  if (changed !== undefined) {
    for (const [domid, delta] of changed) {
      const d = core.domains.findOrAllocExisting(domid, core.tree.generation);
      if (d === undefined) throw new Errno("ENOMEM");
      const count = Math.max(0, d.nbentry + delta);
      if (checkQuota && domid !== 0 && count >= core.quota(d, "nodes")) throw new Errno("ENOSPC");
    }
  }
  const tree = core.tree;
  // One lookup per node before anything changes: the generation check, and the nodes as they
  // were (C commits node by node and fires each node's watches right after writing it, so a
  // permission check then sees later nodes of the transaction as they were before it).
  const writes: Write[] = [];
  for (const [path, a] of tx.accessed) {
    if (!a.modified && !a.checkGen) continue;
    const live = tree.lookup(path);
    if (a.checkGen && (live === undefined ? NO_GENERATION : live.gen) !== a.gen) {
      throw new Errno("EAGAIN");
    }
    if (!a.modified) continue;
    writes.push({
      path,
      a,
      live,
      before: live === undefined ? undefined : { perms: live.perms, gen: live.gen },
    });
  }
  const nodes = new Map<string, Node>();
  for (const w of writes) {
    const txNode = w.a.node;
    if (txNode === undefined) continue;
    const live = w.live;
    const node = live ?? new Node("", txNode.perms, 0);
    core.dirty?.set(w.path, live === undefined || (core.dirty.get(w.path) ?? false));
    node.value = txNode.value;
    node.perms = txNode.perms;
    node.gen = ++tree.generation;
    nodes.set(w.path, node);
  }
  if (nodes.size > 0) link(core, writes, nodes);
  // The commit's writes are charged to the nodes' owners without a quota check, as C does.
  for (const [path, node] of nodes) {
    chargeNode(node, path, core.domains.find((node.perms[0] as PermEntry).id));
  }
  for (const w of writes) if (w.a.node === undefined && w.live !== undefined) releaseNode(w.live);
  if (core.dirty !== undefined) {
    for (const w of writes) if (w.a.node === undefined) core.dirty.set(w.path, false);
  }
  if (changed !== undefined) {
    for (const [domid, delta] of changed) {
      const d = core.domains.find(domid);
      if (d !== undefined) d.nbentry = Math.max(0, d.nbentry + delta);
    }
  }
  // Without watches no event can be due (fireWatches would return at once).
  if (core.watchCount === 0) return;
  const order = new Map<string, number>();
  for (let i = 0; i < writes.length; i++) order.set((writes[i] as Write).path, i);
  for (const [path, a] of tx.accessed) {
    if (!a.fireWatch) continue;
    const now = order.get(path) ?? -1;
    const lookup = (p: string): Rec | undefined => {
      const at = order.get(p);
      if (at === undefined || at <= now) return tree.lookup(p);
      return (writes[at] as Write).before as Rec | undefined;
    };
    ctx.nodes.events.push({
      name: path,
      node: undefined,
      parent: undefined,
      exact: a.watchExact,
      oldPerms: a.origPerms,
      lookup,
    });
  }
}

/** A node the transaction modified, with its live node and what it was before the commit. */
interface Write {
  path: string;
  a: Accessed;
  live: Node | undefined;
  before: { perms: NodePerms; gen: number } | undefined;
}

/** Links each written node's children: the fresh nodes, in the transaction's order. */
function link(core: ServerState, writes: readonly Write[], nodes: Map<string, Node>): void {
  for (const w of writes) {
    const names = w.a.node?.kids;
    if (names === undefined) continue;
    const path = w.path;
    const node = nodes.get(path) as Node;
    if (sameKids(node, names)) {
      const kids = node.kids;
      if (kids === undefined || nodes.size === 1) continue;
      for (const name of names) {
        const fresh = nodes.get(childPath(path, name));
        if (fresh !== undefined) kids.set(name, fresh);
      }
      continue;
    }
    const kids = new Map<string, Node>();
    for (const name of names) {
      const kid = nodes.get(childPath(path, name)) ?? node.kids?.get(name);
      if (kid !== undefined) kids.set(name, kid);
    }
    node.kids = kids.size === 0 ? undefined : kids;
    let bytes = 0;
    for (const name of kids.keys()) bytes += name.length + 1;
    node.kidBytes = bytes;
    // The children's order changed: persist them again, in their new order.
    if (core.dirty !== undefined) {
      for (const name of kids.keys()) {
        const p = childPath(path, name);
        core.dirty.delete(p);
        core.dirty.set(p, true);
      }
    }
  }
}

function sameKids(node: Node, names: readonly string[]): boolean {
  const kids = node.kids;
  if (kids === undefined) return names.length === 0;
  if (kids.size !== names.length) return false;
  let i = 0;
  for (const k of kids.keys()) if (k !== names[i++]) return false;
  return true;
}
