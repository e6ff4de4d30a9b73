/**
 * Node requests: READ, WRITE, MKDIR, RM, DIRECTORY, DIRECTORY_PART, GET_PERMS, SET_PERMS,
 * with C xenstored's argument checks and error precedence.
 *
 * @module
 */

import { type Access, Errno, kidNames, type Rec } from "./access.ts";
import { atoi, countNuls, getStrings, oneArg } from "./_bytes.ts";
import {
  formatNodePerms,
  internPerms,
  parseNodePerms,
  PermBits,
  type PermEntry,
} from "./node_perms.ts";
import type { Request } from "./ops.ts";
import { parentOf, toValue } from "./store.ts";
import { fireWatches } from "./watches.ts";

const R = PermBits.Read;
const W = PermBits.Write;

function path1(access: Access, req: Request): string {
  const arg = oneArg(req.payload);
  if (arg === undefined || access.conn === undefined) throw new Errno("EINVAL");
  return access.core.canonicalize(access.conn, arg);
}

function ok(access: Access, req: Request): void {
  access.core.reply(access.conn!, req, ["OK\0"]);
}

/** READ `path|` → the raw value. */
export function doRead(access: Access, req: Request): void {
  const node = access.get(path1(access, req), R);
  const v = node.value;
  access.core.reply(access.conn!, req, [v]);
}

/** WRITE `path|value` → OK; creates missing ancestors. */
export function doWrite(access: Access, req: Request): void {
  const payload = req.payload;
  const nul = payload.indexOf(0);
  if (nul < 0) throw new Errno("EINVAL");
  const name = access.core.canonicalize(access.conn!, oneArg(payload.subarray(0, nul + 1))!);
  const bytes = payload.subarray(nul + 1);
  let node: Rec;
  let parent: Rec | undefined;
  try {
    node = access.get(name, W);
    access.checkWrite(bytes.length, node.perms.length, node);
    node.value = toValue(bytes);
    access.wrote(name, node);
  } catch (e) {
    if (!(e instanceof Errno) || e.code !== "ENOENT") throw e;
    ({ node, parent } = access.create(name, toValue(bytes)));
  }
  fireWatches(access.core, access, name, node, parent, false, undefined);
  ok(access, req);
}

/** MKDIR `path|` → OK, also when the node exists. */
export function doMkdir(access: Access, req: Request): void {
  const name = path1(access, req);
  try {
    access.get(name, W);
  } catch (e) {
    if (!(e instanceof Errno) || e.code !== "ENOENT") throw e;
    const { node, parent } = access.create(name, "");
    fireWatches(access.core, access, name, node, parent, false, undefined);
  }
  ok(access, req);
}

/** RM `path|` → OK; OK too when the node is missing but its parent exists. */
export function doRm(access: Access, req: Request): void {
  const name = path1(access, req);
  try {
    access.get(name, W);
  } catch (e) {
    if (!(e instanceof Errno) || e.code !== "ENOENT") throw e;
    if (access.read(parentOf(name)) === undefined) throw e;
    ok(access, req);
    return;
  }
  if (name === "/") throw new Errno("EINVAL");
  access.remove(name);
  ok(access, req);
}

/** DIRECTORY `path|` → `child|child|...|` in insertion order. */
export function doDirectory(access: Access, req: Request): void {
  const node = access.get(path1(access, req), R);
  const parts: string[] = [];
  let len = 0;
  for (const k of kidNames(node)) {
    len += k.length + 1;
    if (len > 4096) throw new Errno("E2BIG");
    parts.push(k, "\0");
  }
  access.core.reply(access.conn!, req, parts);
}

const childLists = new WeakMap<Rec, { gen: number; all: string }>();

/** The child names joined with NULs, cached per node and generation (for paging). */
function childList(node: Rec): string {
  const cached = childLists.get(node);
  if (cached !== undefined && cached.gen === node.gen) return cached.all;
  let all = "";
  for (const k of kidNames(node)) all += `${k}\0`;
  childLists.set(node, { gen: node.gen, all });
  return all;
}

/** DIRECTORY_PART `path|offset|` → `gen|children...` ending with an empty string. */
export function doDirectoryPart(access: Access, req: Request): void {
  if (countNuls(req.payload) !== 2) throw new Errno("EINVAL");
  const [rawPath, offText] = getStrings(req.payload) as [string, string];
  const node = access.get(access.core.canonicalize(access.conn!, rawPath), R);
  const off = atoi(offText) >>> 0;
  const gen = `${node.gen}\0`;
  const all = childList(node);
  if (off >= all.length) {
    access.core.reply(access.conn!, req, [gen, "\0"]);
    return;
  }
  const maxlen = 4096 - gen.length - 1;
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
  access.core.reply(access.conn!, req, parts);
}

/** GET_PERMS `path|` → `perm|perm|...|`. */
export function doGetPerms(access: Access, req: Request): void {
  const node = access.get(path1(access, req), R);
  const parts: string[] = [];
  for (const p of formatNodePerms(node.perms)) parts.push(p, "\0");
  access.core.reply(access.conn!, req, parts);
}

/** SET_PERMS `path|perm|perm|...|` → OK. */
export function doSetPerms(access: Access, req: Request): void {
  const core = access.core;
  const conn = access.conn!;
  const count = countNuls(req.payload);
  if (count < 2) throw new Errno("EINVAL");
  if (conn.unprivileged && count - 1 > core.quota(conn.domain, "permissions")) {
    throw new Errno("ENOSPC");
  }
  const strings = getStrings(req.payload);
  const parsed = parseNodePerms(strings.slice(1, count));
  if (parsed === undefined) throw new Errno("EINVAL");
  const entries = core.domains.allocPermRefs(parsed, core.tree.generation);
  if (((entries[0] as PermEntry).bits & PermBits.Ignore) !== 0) throw new Errno("ENOENT");
  const perms = internPerms(entries);
  const raw = strings[0] as string;
  if (raw.startsWith("@")) {
    const current = core.specialPerms.get(raw);
    if (current === undefined) throw new Errno("EINVAL");
    const mine = access.permFor({ perms: current, gen: Infinity } as Rec);
    if ((mine & (W | PermBits.Owner)) !== (W | PermBits.Owner)) throw new Errno("EACCES");
    core.specialPerms.set(raw, perms);
    ok(access, req);
    return;
  }
  const name = core.canonicalize(conn, raw);
  const node = access.get(name, W | PermBits.Owner);
  const oldPerms = node.perms;
  const oldVisible = core.domains.adjust(oldPerms, node.gen);
  const oldOwner = (oldPerms[0] as PermEntry).id;
  if (conn.unprivileged && (perms[0] as PermEntry).id !== oldOwner) throw new Errno("EPERM");
  access.checkWrite(node.value.length, perms.length, node);
  access.changeOwner(oldOwner, (perms[0] as PermEntry).id);
  node.perms = perms;
  access.wrote(name, node, false, true);
  fireWatches(core, access, name, node, undefined, false, oldVisible);
  ok(access, req);
}
