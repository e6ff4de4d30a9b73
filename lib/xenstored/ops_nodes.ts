/**
 * Node requests: READ, WRITE, MKDIR, RM, DIRECTORY, DIRECTORY_PART, GET_PERMS, SET_PERMS,
 * with C xenstored's argument checks and error precedence.
 *
 * @module
 */

import { Errno, kidNames } from "./access.ts";
import type { RequestContext } from "./context.ts";
import type { Rec } from "./types.ts";
import { atoi, binString, countNuls, getStrings, oneArg } from "./_bytes.ts";
import { PAYLOAD_MAX } from "../protocol/packet.ts";
import { formatNodePerms, parseNodePerms, PermBits, type PermEntry } from "./node_perms.ts";
import { parentOf, toValue } from "./store.ts";

const R = PermBits.Read;
const W = PermBits.Write;

function path1(ctx: RequestContext): string {
  const arg = oneArg(ctx.req.payload);
  if (arg === undefined) throw new Errno("EINVAL");
  return ctx.server.canonicalize(ctx.conn, arg);
}

const OK = ["OK\0"];

/** READ `path|` → the raw value. */
export function doRead(ctx: RequestContext): void {
  const node = ctx.nodes.get(path1(ctx), R);
  const v = node.value;
  ctx.reply([v]);
}

/** WRITE `path|value` → OK; creates missing ancestors. */
export function doWrite(ctx: RequestContext): void {
  const payload = ctx.req.payload;
  const nul = payload.indexOf(0);
  if (nul < 0) throw new Errno("EINVAL");
  const name = ctx.server.canonicalize(ctx.conn, binString(payload, 0, nul));
  const bytes = payload.subarray(nul + 1);
  let node: Rec;
  let parent: Rec | undefined;
  try {
    node = ctx.nodes.get(name, W);
    ctx.nodes.checkWrite(bytes.length, node.perms.length, node);
    ctx.nodes.checkMemory(name, node, { valueLength: bytes.length });
    node.value = toValue(bytes);
    ctx.nodes.wrote(name, node);
  } catch (e) {
    if (!(e instanceof Errno) || e.code !== "ENOENT") throw e;
    ({ node, parent } = ctx.nodes.create(name, toValue(bytes)));
  }
  ctx.nodes.fire(name, node, parent, false, undefined);
  ctx.reply(OK);
}

/** MKDIR `path|` → OK, also when the node exists. */
export function doMkdir(ctx: RequestContext): void {
  const name = path1(ctx);
  try {
    ctx.nodes.get(name, W);
  } catch (e) {
    if (!(e instanceof Errno) || e.code !== "ENOENT") throw e;
    const { node, parent } = ctx.nodes.create(name, "");
    ctx.nodes.fire(name, node, parent, false, undefined);
  }
  ctx.reply(OK);
}

/** RM `path|` → OK; OK too when the node is missing but its parent exists. */
export function doRm(ctx: RequestContext): void {
  const name = path1(ctx);
  try {
    ctx.nodes.get(name, W);
  } catch (e) {
    if (!(e instanceof Errno) || e.code !== "ENOENT") throw e;
    if (ctx.nodes.read(parentOf(name)) === undefined) throw e;
    ctx.reply(OK);
    return;
  }
  if (name === "/") throw new Errno("EINVAL");
  ctx.nodes.remove(name);
  ctx.reply(OK);
}

/** DIRECTORY `path|` → `child|child|...|` in insertion order. */
export function doDirectory(ctx: RequestContext): void {
  const node = ctx.nodes.get(path1(ctx), R);
  const parts: string[] = [];
  let len = 0;
  for (const k of kidNames(node)) {
    len += k.length + 1;
    if (len > PAYLOAD_MAX) throw new Errno("E2BIG");
    parts.push(k, "\0");
  }
  ctx.reply(parts);
}

/** The child names joined with NULs, cached per node and generation (for paging). */
function childList(ctx: RequestContext, node: Rec): string {
  const childLists = ctx.server.childLists;
  const cached = childLists.get(node);
  if (cached !== undefined && cached.gen === node.gen) return cached.all;
  let all = "";
  for (const k of kidNames(node)) all += `${k}\0`;
  childLists.set(node, { gen: node.gen, all });
  return all;
}

/** DIRECTORY_PART `path|offset|` → `gen|children...` ending with an empty string. */
export function doDirectoryPart(ctx: RequestContext): void {
  if (countNuls(ctx.req.payload) !== 2) throw new Errno("EINVAL");
  const [rawPath, offText] = getStrings(ctx.req.payload) as [string, string];
  const node = ctx.nodes.get(ctx.server.canonicalize(ctx.conn, rawPath), R);
  const off = atoi(offText) >>> 0;
  const gen = `${node.gen}\0`;
  const all = childList(ctx, node);
  if (off >= all.length) {
    ctx.reply([gen, "\0"]);
    return;
  }
  const maxlen = PAYLOAD_MAX - gen.length - 1;
  let len = 0;
  for (;;) {
    const end = all.indexOf("\0", off + len);
    const slen = end - (off + len);
    if (len + slen >= maxlen) break;
    len += slen + 1;
    if (off + len === all.length) break;
  }
  const parts = [gen, all.slice(off, off + len)];
  if (off + len === all.length) parts.push("\0");
  ctx.reply(parts);
}

/** GET_PERMS `path|` → `perm|perm|...|`. */
export function doGetPerms(ctx: RequestContext): void {
  const node = ctx.nodes.get(path1(ctx), R);
  const parts: string[] = [];
  for (const p of formatNodePerms(node.perms)) parts.push(p, "\0");
  ctx.reply(parts);
}

/** SET_PERMS `path|perm|perm|...|` → OK. */
export function doSetPerms(ctx: RequestContext): void {
  const core = ctx.server;
  const conn = ctx.conn;
  const count = countNuls(ctx.req.payload);
  if (count < 2) throw new Errno("EINVAL");
  if (conn.unprivileged && count - 1 > core.quota(conn.domain, "permissions")) {
    throw new Errno("ENOSPC");
  }
  const strings = getStrings(ctx.req.payload);
  const parsed = parseNodePerms(strings.slice(1, count));
  if (parsed === undefined) throw new Errno("EINVAL");
  const entries = core.domains.allocPermRefs(parsed, core.tree.generation);
  if (((entries[0] as PermEntry).bits & PermBits.Ignore) !== 0) throw new Errno("ENOENT");
  const perms = core.tree.perms.intern(entries);
  const raw = strings[0] as string;
  if (raw.startsWith("@")) {
    const current = core.specialPerms.get(raw);
    if (current === undefined) throw new Errno("EINVAL");
    const mine = ctx.nodes.permFor({ perms: current, gen: Infinity } as Rec);
    if ((mine & (W | PermBits.Owner)) !== (W | PermBits.Owner)) throw new Errno("EACCES");
    core.specialPerms.set(raw, perms);
    ctx.reply(OK);
    return;
  }
  const name = core.canonicalize(conn, raw);
  const node = ctx.nodes.get(name, W | PermBits.Owner);
  const oldPerms = node.perms;
  const oldVisible = core.domains.adjust(oldPerms, node.gen);
  const oldOwner = (oldPerms[0] as PermEntry).id;
  if (conn.unprivileged && (perms[0] as PermEntry).id !== oldOwner) throw new Errno("EPERM");
  ctx.nodes.checkWrite(node.value.length, perms.length, node);
  ctx.nodes.checkMemory(name, node, { valueLength: node.value.length, perms });
  ctx.nodes.changeOwner(oldOwner, (perms[0] as PermEntry).id);
  node.perms = perms;
  ctx.nodes.wrote(name, node, false, true);
  ctx.nodes.fire(name, node, undefined, false, oldVisible);
  ctx.reply(OK);
}
