/**
 * Domain requests: INTRODUCE, RELEASE, RESUME, GET_DOMAIN_PATH, IS_DOMAIN_INTRODUCED,
 * SET_TARGET, GET/SET_FEATURE, GET/SET_QUOTA; and releasing a domain (its nodes removed,
 * `@releaseDomain` fired), shared with the hypervisor-side destroy.
 *
 * @module
 */

import { Access, Errno } from "./access.ts";
import { atou, getStrings, oneArg } from "./_bytes.ts";
import { DOMID_MASK, DOMID_SELF, isReservedDomid } from "../protocol/domid.ts";
import type { RequestContext, ServerState } from "./context.ts";
import { type DomainInfo, SERVER_FEATURES } from "./domains.ts";
import type { NodePerms, PermEntry, PermsTable } from "./node_perms.ts";
import { isQuotaName, QUOTA_DESCRIPTIONS } from "./quotas.ts";
import { childPath, type Node } from "./store.ts";
import type { WatchEvent } from "./types.ts";

const OK = ["OK\0"];

/** INTRODUCE `domid|gfn|evtchn|` → OK; fires `@introduceDomain` for a new domain. */
export function doIntroduce(ctx: RequestContext): void {
  const core = ctx.server;
  const vec = getStrings(ctx.req.payload);
  if (vec.length < 3) throw new Errno("EINVAL");
  const domid = atou(vec[0] as string);
  if ((atou(vec[2] as string) | 0) <= 0) throw new Errno("EINVAL");
  // C maps the domain's ring through the hypervisor, which knows no reserved domid (its
  // `domid_t` is the low 16 bits; "-1" is 65535). E7: any other domain is created here.
  if (isReservedDomid(domid)) throw new Errno("EINVAL");
  core.createDomain(domid & DOMID_MASK);
  const d = core.domains.find(domid) ?? core.domains.alloc(domid, core.tree.generation);
  if (!d.introduced) {
    core.domains.setIntroduced(d, true);
    d.shutdown = false;
    core.domainChanged(domid, true);
    if (domid !== 0) ctx.nodes.fireSpecial("@introduceDomain");
  }
  for (const conn of core.connections) {
    if (conn.domain === d) core.resetConnection(conn);
  }
  ctx.reply(OK);
}

function connectedDomain(core: ServerState, domid: number): DomainInfo {
  const d = core.domains.findIntroduced(domid);
  if (d === undefined) throw new Errno("ENOENT");
  if (d.heldBy !== undefined) throw new Errno("EINVAL");
  return d;
}

function oneDomain(ctx: RequestContext): DomainInfo {
  const arg = oneArg(ctx.req.payload);
  if (arg === undefined) throw new Errno("EINVAL");
  const domid = atou(arg);
  if (domid === 0) throw new Errno("EINVAL");
  return connectedDomain(ctx.server, domid);
}

/** RELEASE `domid|` → OK; removes the domain's nodes and fires `@releaseDomain`. */
export function doRelease(ctx: RequestContext): void {
  const d = oneDomain(ctx);
  // C frees the connection with talloc_free(), which only drops the newest SET_TARGET
  // reference when there is one.
  if (d.referrers.length > 0) d.referrers.shift();
  else releaseDomain(ctx.server, d, ctx.nodes.events);
  ctx.reply(OK);
}

/** RESUME `domid|` → OK; clears the shut-down flag. */
export function doResume(ctx: RequestContext): void {
  oneDomain(ctx).shutdown = false;
  ctx.reply(OK);
}

/** GET_DOMAIN_PATH `domid|` → `/local/domain/<domid>|`. */
export function doGetDomainPath(ctx: RequestContext): void {
  const arg = oneArg(ctx.req.payload);
  if (arg === undefined) throw new Errno("EINVAL");
  ctx.reply([`/local/domain/${atou(arg)}\0`]);
}

/** IS_DOMAIN_INTRODUCED `domid|` → `T|` or `F|`. */
export function doIsDomainIntroduced(ctx: RequestContext): void {
  const arg = oneArg(ctx.req.payload);
  if (arg === undefined) throw new Errno("EINVAL");
  const domid = atou(arg);
  const yes = domid === DOMID_SELF || ctx.server.domains.findIntroduced(domid) !== undefined;
  ctx.reply([yes ? "T\0" : "F\0"]);
}

/** SET_TARGET `domid|tdomid|` → OK; `domid` gets the rights of `tdomid`. */
export function doSetTarget(ctx: RequestContext): void {
  const vec = getStrings(ctx.req.payload);
  if (vec.length < 2) throw new Errno("EINVAL");
  const d = connectedDomain(ctx.server, atou(vec[0] as string));
  const t = connectedDomain(ctx.server, atou(vec[1] as string));
  d.target = t.domid;
  t.referrers.unshift(d.domid);
  ctx.reply(OK);
}

/** GET_FEATURE `[domid|]` → the feature bitmap. */
export function doGetFeature(ctx: RequestContext): void {
  const vec = getStrings(ctx.req.payload);
  if (vec.length > 1) throw new Errno("EINVAL");
  let value = ctx.domain?.features ?? SERVER_FEATURES;
  if (vec.length === 1) {
    if (ctx.conn.unprivileged) throw new Errno("EACCES");
    const d = ctx.server.domains.find(atou(vec[0] as string));
    if (d === undefined) throw new Errno("ENOENT");
    value = d.features;
  }
  ctx.reply([`${value}\0`]);
}

/** SET_FEATURE `domid|value|` → OK; refused (EBUSY) once the domain is introduced. */
export function doSetFeature(ctx: RequestContext): void {
  const vec = getStrings(ctx.req.payload);
  if (vec.length !== 2) throw new Errno("EINVAL");
  const core = ctx.server;
  const domid = atou(vec[0] as string);
  if (!core.domains.exists(domid)) throw new Errno("ENOENT");
  const d = core.domains.find(domid) ?? core.domains.alloc(domid, core.tree.generation);
  if (d.introduced) throw new Errno("EBUSY");
  const features = atou(vec[1] as string);
  if ((features & ~SERVER_FEATURES) !== 0) throw new Errno("EINVAL");
  d.features = features;
  ctx.reply(OK);
}

/** GET_QUOTA `[[domid|]name|]` → the value, or every quota name. */
export function doGetQuota(ctx: RequestContext): void {
  const vec = getStrings(ctx.req.payload);
  const core = ctx.server;
  if (vec.length === 0) {
    ctx.reply([QUOTA_DESCRIPTIONS.map(([n]) => n).join(" "), "\0"]);
    return;
  }
  if (vec.length > 2) throw new Errno("EINVAL");
  const name = vec[vec.length - 1] as string;
  if (!isQuotaName(name)) throw new Errno("EINVAL");
  let value: number = core.quotas[name];
  if (vec.length === 2) value = quotaDomain(core, vec[0] as string).quotas[name] ?? value;
  ctx.reply([`${value}\0`]);
}

/**
 * SET_QUOTA `[domid|]name|value|` → OK. As in Xen 4.22, 0 disables the check, the value
 * `UINT_MAX` (C's internal "disabled") is refused, and the global values are the defaults
 * for new domains only: a domain keeps the values it had when its record was allocated.
 */
export function doSetQuota(ctx: RequestContext): void {
  const vec = getStrings(ctx.req.payload);
  if (vec.length !== 2 && vec.length !== 3) throw new Errno("EINVAL");
  const core = ctx.server;
  const name = vec[vec.length - 2] as string;
  const text = vec[vec.length - 1] as string;
  const value = Number(text);
  if (!isQuotaName(name) || !/^[0-9]+$/.test(text) || !(value < UINT_MAX)) {
    throw new Errno("EINVAL");
  }
  if (vec.length === 3) {
    quotaDomain(core, vec[0] as string).quotas[name] = value;
  } else {
    for (const d of core.domains.records()) d.quotas[name] ??= core.quotas[name];
    core.quotas[name] = value;
  }
  ctx.reply(OK);
}

/** C's `Q_VAL_DISABLED`: not a valid SET_QUOTA value. */
const UINT_MAX = 2 ** 32 - 1;

/** `find_or_alloc_existing_domain` for GET/SET_QUOTA: ENOENT for an unknown domain. */
function quotaDomain(core: ServerState, domidText: string): DomainInfo {
  const d = core.domains.findOrAllocExisting(atou(domidText), core.tree.generation);
  if (d === undefined) throw new Errno("ENOENT");
  return d;
}

function dropDomid(table: PermsTable, perms: NodePerms, domid: number): NodePerms {
  const first = perms[0] as PermEntry;
  const rest = perms.slice(1).filter((e) => e.id !== domid);
  return table.intern([{ id: first.id === domid ? 0 : first.id, bits: first.bits }, ...rest]);
}

/**
 * Releases an introduced domain (`destroy_domain`): removes every node it owns, drops it from
 * the special paths' permissions, closes its connections and fires `@releaseDomain`. The
 * watch events go to `events`, in order.
 */
export function releaseDomain(core: ServerState, d: DomainInfo, events: WatchEvent[]): void {
  const access = new Access(core, undefined, undefined);
  const visit = (path: string, node: Node): boolean => {
    if (d.nbentry <= 0) return false;
    if ((node.perms[0] as PermEntry).id === d.domid) {
      if (path !== "/") {
        access.remove(path);
        return d.nbentry > 0;
      }
      // C xenstored 4.17 deletes the whole store, root included, here (E6); we keep the
      // root, give it to dom0 and go on with its children.
      node.perms = dropDomid(core.tree.perms, node.perms, d.domid);
      d.nbentry--;
    }
    if (node.kids !== undefined) {
      for (const [name, kid] of [...node.kids]) {
        if (!visit(childPath(path, name), kid)) return false;
      }
    }
    return true;
  };
  visit("/", core.tree.root);
  for (const [name, perms] of core.specialPerms) {
    core.specialPerms.set(name, dropDomid(core.tree.perms, perms, d.domid));
  }
  for (const conn of [...core.connections]) {
    if (conn.domain === d) core.disconnect(conn);
  }
  core.domains.setIntroduced(d, false);
  core.domains.free(d.domid);
  // Its SET_TARGET references go with it; domains it held alive go now.
  for (const other of core.domains.introduced()) {
    other.referrers = other.referrers.filter((r) => r !== d.domid);
    if (other.heldBy === d.domid) releaseDomain(core, other, access.events);
  }
  core.domainChanged(d.domid, false);
  access.fireSpecial("@releaseDomain");
  access.fireSpecial(`@releaseDomain/${d.domid}`);
  events.push(...access.events);
}
