/**
 * Leaving out the SET_PERMS requests that change nothing. libxl sets the permissions of
 * nearly every node it writes, right after writing it; xenstored already gives a node that a
 * privileged connection creates its parent's permissions, so where the parent has the same
 * permissions the SET_PERMS is a no-op. Dropping those gives the same tree with fewer
 * requests.
 *
 * @module
 */

import { formatPermissions, type Permission } from "../protocol/perms.ts";
import type { RequestSender } from "./store.ts";

/** What the sender knows of a node this batch created or set permissions on. */
interface Known {
  /** When it was learnt (the batch's step counter). */
  step: number;
  /** Its permissions (`formatPermissions`), or `undefined` when not known. */
  perms: string | undefined;
}

function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/**
 * A sender over `s` that passes every request on in order except a SET_PERMS giving a node
 * the permissions it has already, as far as the requests sent through it show: a node it
 * created (WRITE or MKDIR of a path known to be absent because this batch removed it or one
 * of its ancestors) inherited its parent's permissions when those are known (the parent was
 * created or given permissions by this batch). Everything else is sent. Only for a
 * privileged (dom0) connection, whose new nodes inherit their parent's permissions unchanged
 * on every xenstored (an unprivileged creator becomes the owner instead), and only when the
 * requests do not fail (a failed request ends the batch anyway).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { skippingInheritedPerms } from "./inherited_perms.ts";
 * const sent: string[] = [];
 * const s = skippingInheritedPerms({
 *   write: (p) => void sent.push(`WRITE ${p}`),
 *   mkdir: (p) => void sent.push(`MKDIR ${p}`),
 *   rmIfPresent: (p) => void sent.push(`RM ${p}`),
 *   setPerms: (p) => void sent.push(`SET_PERMS ${p}`),
 * });
 * const fe = [{ domid: 3, access: "none" }, { domid: 0, access: "read" }] as const;
 * s.rmIfPresent("/local/domain/3/device/vif/0");
 * s.mkdir("/local/domain/3/device/vif/0");
 * s.setPerms("/local/domain/3/device/vif/0", fe); // the parent's are unknown: sent
 * s.write("/local/domain/3/device/vif/0/mac", "00:16:3e:00:00:01");
 * s.setPerms("/local/domain/3/device/vif/0/mac", fe); // inherited already: left out
 * s.setPerms("/local/domain/3/device/vif/0/mac", [{ domid: 0, access: "none" }]); // sent
 * assert.deepEqual(sent, [
 *   "RM /local/domain/3/device/vif/0",
 *   "MKDIR /local/domain/3/device/vif/0",
 *   "SET_PERMS /local/domain/3/device/vif/0",
 *   "WRITE /local/domain/3/device/vif/0/mac",
 *   "SET_PERMS /local/domain/3/device/vif/0/mac",
 * ]);
 * ```
 */
export function skippingInheritedPerms(s: RequestSender): RequestSender {
  let step = 0;
  /** The step at which each path was last removed (with everything below it). */
  const removedAt = new Map<string, number>();
  const known = new Map<string, Known>();

  /** True when `path` or an ancestor was removed after step `since`. */
  const removedSince = (path: string, since: number): boolean => {
    for (let p = path;; p = parentOf(p)) {
      if ((removedAt.get(p) ?? -1) > since) return true;
      if (p === "/") return false;
    }
  };
  const knownOf = (path: string): Known | undefined => {
    const k = known.get(path);
    return k === undefined || removedSince(path, k.step) ? undefined : k;
  };
  /** True when `path` is known not to exist: removed, and not created since. */
  const absent = (path: string): boolean => {
    if (knownOf(path) !== undefined) return false;
    for (let p = path;; p = parentOf(p)) {
      if (removedAt.has(p)) return true;
      if (p === "/") return false;
    }
  };
  /** A WRITE or MKDIR of `path`: it and its missing ancestors take the nearest one's perms. */
  const create = (path: string): void => {
    if (!absent(path)) return;
    const made = [path];
    let above = parentOf(path);
    while (above !== "/" && absent(above)) {
      made.push(above);
      above = parentOf(above);
    }
    const perms = knownOf(above)?.perms;
    step++;
    for (const p of made) known.set(p, { step, perms });
  };

  return {
    write(path, value) {
      create(path);
      s.write(path, value);
    },
    mkdir(path) {
      create(path);
      s.mkdir(path);
    },
    rmIfPresent(path) {
      removedAt.set(path, ++step);
      s.rmIfPresent(path);
    },
    setPerms(path, perms: readonly Permission[]) {
      const wire = formatPermissions(perms);
      const k = knownOf(path);
      if (k !== undefined && k.perms === wire) return;
      if (k !== undefined) k.perms = wire;
      else known.set(path, { step: ++step, perms: wire });
      s.setPerms(path, perms);
    },
  };
}
