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

/** What the requests sent so far show of one node (a trie along the paths they named). */
class Seen {
  /** `true` exists, `false` known not to exist, `undefined` not known. */
  exists: boolean | undefined = undefined;
  /** Its permissions (`formatPermissions`) when known. */
  perms: string | undefined = undefined;
  /** Children without an entry here do not exist (it was created by this batch). */
  bare = false;
  kids: Map<string, Seen> | undefined = undefined;

  child(name: string): Seen {
    this.kids ??= new Map();
    let kid = this.kids.get(name);
    if (kid === undefined) {
      kid = new Seen();
      if (this.exists === false || this.bare) kid.exists = false;
      this.kids.set(name, kid);
    }
    return kid;
  }
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
  const root = new Seen();
  root.exists = true;
  /** The node at `path`, calling `step(parent, kid)` on each node on the way down. */
  const at = (path: string, step?: (parent: Seen, kid: Seen) => void): Seen => {
    let node = root;
    let i = 1;
    while (i < path.length) {
      let j = path.indexOf("/", i);
      if (j < 0) j = path.length;
      const kid = node.child(path.slice(i, j));
      step?.(node, kid);
      node = kid;
      i = j + 1;
    }
    return node;
  };
  /** A WRITE or MKDIR: every missing node on the path is made with its parent's perms. */
  const create = (path: string): void =>
    void at(path, (parent, kid) => {
      if (kid.exists === false) {
        kid.exists = true;
        kid.perms = parent.exists === true ? parent.perms : undefined;
        kid.bare = true;
        kid.kids = undefined;
      } else if (kid.exists === undefined) kid.exists = true;
    });

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
      const node = at(path);
      node.exists = false;
      node.perms = undefined;
      node.bare = false;
      node.kids = undefined;
      s.rmIfPresent(path);
    },
    setPerms(path, perms: readonly Permission[]) {
      const wire = formatPermissions(perms);
      const node = at(path);
      if (node.exists === true && node.perms === wire) return;
      node.exists = true;
      node.perms = wire;
      s.setPerms(path, perms);
    },
  };
}
