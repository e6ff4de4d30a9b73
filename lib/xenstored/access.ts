/**
 * Node access as C xenstored's core does it (`read_node`, `get_node`, `errno_from_parents`,
 * `create_node`, `rm_node`, `write_node`), on the live tree or inside a transaction. Checks
 * that can fail run before anything changes, so the live tree is never half-changed. A change
 * does not fire watches itself: it hands the {@linkcode WatchEvent}s it causes to
 * `record` (outside a transaction: kept here, or delivered at once by a request's context,
 * which overrides it) or marks the transaction's entry (inside one).
 *
 * @module
 */

import {
  chargeNode,
  checkCharge,
  kidBytes,
  kidNames,
  memoryTarget,
  ownerOf,
  recordBytes,
  releaseNode,
  txRecordBytes,
} from "./_memory.ts";
import type { Connection } from "./connection.ts";
import { Errno } from "./errno.ts";
import type { NodePerms, PermEntry } from "./node_perms.ts";
import { ALL_PERMS, permForConn } from "./permissions.ts";
import { baseName, childPath, isValidNodename, Node, parentOf, type Value } from "./store.ts";
import { type Accessed, NO_GENERATION, type Transaction, TxNode } from "./transaction.ts";
import type { Rec, StoreState, WatchEvent } from "./types.ts";

export { kidBytes, kidNames } from "./_memory.ts";
export { Errno } from "./errno.ts";
export { permForConn } from "./permissions.ts";
export type { Rec } from "./types.ts";

function hasKid(rec: Rec, name: string): boolean {
  if (rec instanceof TxNode) return rec.kids.includes(name);
  return rec.kids?.has(name) ?? false;
}

/** One request's view of the store: a connection (or the server itself) and its transaction. */
export class Access {
  /** The store and domain table. */
  readonly store: StoreState;
  /** The requesting connection; `undefined` for the server's own changes (domain removal). */
  readonly conn: Connection | undefined;
  /** The transaction the request runs in. */
  readonly tx: Transaction | undefined;
  #events: WatchEvent[] | undefined;

  /** A view for one request. */
  constructor(store: StoreState, conn: Connection | undefined, tx: Transaction | undefined) {
    this.store = store;
    this.conn = conn;
    this.tx = tx;
  }

  /** The watch events the changes caused so far, in order (outside a transaction). */
  get events(): WatchEvent[] {
    return this.#events ??= [];
  }

  /** Takes the events recorded so far (`undefined` when none). */
  takeEvents(): WatchEvent[] | undefined {
    const events = this.#events;
    this.#events = undefined;
    return events;
  }

  /**
   * `fire_watches` for a change: inside a transaction the event is queued on the node's entry
   * for the commit; otherwise it is recorded in {@linkcode Access.events} (when anyone
   * watches).
   */
  fire(
    name: string,
    node: Rec | undefined,
    parent: Rec | undefined,
    exact: boolean,
    oldPerms: NodePerms | undefined,
  ): void {
    const tx = this.tx;
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
    if (this.store.watchCount === 0) return;
    this.record({ name, node, parent, exact, oldPerms, lookup: undefined });
  }

  /**
   * Where an event outside a transaction goes: {@linkcode Access.events} here; a request's
   * context delivers it at once instead, as C's `fire_watches` sends it where it is called
   * (an RM checks each event against the watcher's memory quota as each node goes).
   */
  protected record(ev: WatchEvent): void {
    this.events.push(ev);
  }

  /** Records an event of a special `@` path (no node, exact watches only). */
  fireSpecial(name: string): void {
    if (this.store.watchCount === 0) return;
    this.record({
      name,
      node: undefined,
      parent: undefined,
      exact: true,
      oldPerms: undefined,
      lookup: undefined,
    });
  }

  get #unpriv(): boolean {
    return this.conn !== undefined && this.conn.unprivileged;
  }

  /** What the connection may do with a node. */
  permFor(rec: Rec): number {
    if (!this.#unpriv) return ALL_PERMS;
    return permForConn(this.conn, this.store.domains.adjust(rec.perms, rec.gen));
  }

  #introduce(path: string, entry: Accessed): void {
    const tx = this.tx as Transaction;
    if (
      tx.accessed.size >= this.store.quota(this.conn?.domain, "transaction-nodes") && this.#unpriv
    ) {
      tx.fail = true;
      throw new Errno("ENOSPC");
    }
    tx.accessed.set(path, entry);
  }

  /** `read_node`: the node or `undefined`; inside a transaction the first read copies it. */
  read(path: string): Rec | undefined {
    const tx = this.tx;
    if (tx === undefined) return this.store.tree.lookup(path);
    const seen = tx.accessed.get(path);
    if (seen !== undefined) return seen.node;
    const live = this.store.tree.lookup(path);
    const copy = live === undefined ? undefined : new TxNode(
      live.value,
      live.perms,
      live.gen,
      live.kids === undefined ? [] : [...live.kids.keys()],
    );
    const entry: Accessed = {
      gen: live === undefined ? NO_GENERATION : live.gen,
      checkGen: true,
      modified: false,
      node: copy,
      origPerms: live === undefined ? undefined : this.store.domains.adjust(live.perms, live.gen),
      fireWatch: false,
      watchExact: false,
    };
    this.#introduce(path, entry);
    // access_node stores the copy, charged to the connection without a quota check.
    if (copy !== undefined) tx.charge(entry, txRecordBytes(tx, path, copy));
    return copy;
  }

  /** `get_node`: a valid path, an existing node, and the permission; errno otherwise. */
  get(path: string, perm: number): Rec {
    if (!isValidNodename(path, this.store.quota(undefined, "path-max"))) throw new Errno("EINVAL");
    const node = this.read(path);
    let code = "ENOENT";
    if (node !== undefined) {
      if ((this.permFor(node) & perm) === perm) return node;
      code = "EACCES";
    }
    throw new Errno(this.#errnoFromParents(path, code, perm));
  }

  #errnoFromParents(path: string, code: string, perm: number): string {
    let name = path;
    let node: Rec | undefined;
    do {
      name = parentOf(name);
      node = this.read(name);
      if (node !== undefined) break;
    } while (name !== "/");
    const parentPerm = node === undefined ? 0 : this.permFor(node);
    return (parentPerm & perm) !== 0 ? code : "EACCES";
  }

  /**
   * `write_node` of an existing node: throws ENOSPC when an unprivileged writer's record
   * would reach `node-size`. C has already added the node to the transaction then and
   * cannot take that back, so it fails the transaction (its commit answers ENOMEM).
   */
  checkWrite(valueLength: number, permCount: number, childBytes: number | Rec): void {
    try {
      this.checkSize(valueLength, permCount, childBytes);
    } catch (e) {
      if (this.tx !== undefined) this.tx.fail = true;
      throw e;
    }
  }

  /** Throws ENOSPC when an unprivileged writer's node record would reach `node-size`. */
  checkSize(valueLength: number, permCount: number, childBytes: number | Rec): void {
    if (!this.#unpriv) return;
    const kids = typeof childBytes === "number" ? childBytes : kidBytes(childBytes);
    const size = recordBytes("", { valueLength, permCount, kidBytes: kids });
    if (size >= this.store.quota(this.conn?.domain, "node-size")) throw new Errno("ENOSPC");
  }

  /**
   * `do_tdb_write`'s memory charge for a write of an existing node, checked before it
   * happens: EIO when the domain charged would reach its `memory` quota (C's
   * `write_node_raw` turns `domain_memory_add`'s ENOMEM into EIO). Outside a transaction the
   * record's owner is charged, not the writer, so dom0 writing a guest's node is refused too;
   * inside one the transaction's copy is charged to the connection's domain, and a refusal
   * fails the transaction (its commit answers ENOMEM).
   */
  checkMemory(
    path: string,
    node: Rec,
    next: { valueLength: number; perms?: NodePerms },
  ): void {
    const perms = next.perms ?? this.store.domains.adjust(node.perms, node.gen);
    const { d, key, released } = memoryTarget(this, path, node, perms);
    const bytes = recordBytes(key, {
      valueLength: next.valueLength,
      permCount: perms.length,
      kidBytes: kidBytes(node),
    });
    checkCharge(this, d, { bytes, released });
  }

  /** `access_node` for a write: new generation, and the transaction's copy. */
  wrote(path: string, rec: Rec, created = false, newPerms = false): void {
    if (!created && !newPerms) {
      // C writes back the permissions as it read them: entries of domains younger than
      // the node stay ignored from now on.
      const adjusted = this.store.domains.adjust(rec.perms, rec.gen);
      if (adjusted !== rec.perms) rec.perms = this.store.tree.perms.intern(adjusted);
    }
    rec.gen = ++this.store.tree.generation;
    const tx = this.tx;
    if (tx === undefined) {
      chargeNode(rec as Node, path, ownerOf(this.store, rec.perms));
      const dirty = this.store.dirty;
      if (dirty !== undefined) dirty.set(path, created || (dirty.get(path) ?? false));
      return;
    }
    let entry = tx.accessed.get(path);
    if (entry === undefined) {
      entry = {
        gen: 0,
        checkGen: false,
        modified: false,
        node: undefined,
        origPerms: undefined,
        fireWatch: false,
        watchExact: false,
      };
      this.#introduce(path, entry);
    }
    entry.modified = true;
    entry.node = rec as TxNode;
    tx.charge(entry, txRecordBytes(tx, path, rec));
  }

  #deleted(path: string, node: Rec): void {
    ++this.store.tree.generation;
    if (this.tx === undefined) {
      this.store.dirty?.set(path, false);
      releaseNode(node as Node);
    }
    const entry = this.tx?.accessed.get(path);
    if (entry === undefined) return;
    entry.modified = true;
    entry.node = undefined;
    this.tx?.charge(entry, 0);
  }

  #entryDelta(owner: number, delta: number): void {
    if (this.tx !== undefined) {
      this.tx.entryDelta(owner, delta);
      return;
    }
    const d = this.store.domains.findOrAllocExisting(owner, this.store.tree.generation);
    if (d !== undefined) d.nbentry += delta;
  }

  /** Moves a node's ownership count from one owner to another (SET_PERMS). */
  changeOwner(from: number, to: number): void {
    this.#entryDelta(from, -1);
    this.#entryDelta(to, 1);
  }

  /**
   * `create_node`: creates `path` with `value` and every missing ancestor (empty, with the
   * parent's permissions, owned by an unprivileged writer). Returns the node and its parent.
   */
  create(path: string, value: Value): { node: Rec; parent: Rec } {
    const names: string[] = [];
    let name = path;
    let parent: Rec | undefined;
    while (parent === undefined) {
      names.push(name);
      name = parentOf(name);
      parent = this.read(name);
      if (parent === undefined && name === "/") throw new Errno("ENOENT");
    }
    const conn = this.conn;
    const base = this.store.domains.adjust(parent.perms, parent.gen);
    let perms: NodePerms = base === parent.perms
      ? parent.perms
      : this.store.tree.perms.intern(base);
    if (this.#unpriv && conn !== undefined) {
      perms = this.store.tree.perms.intern([
        { id: conn.id, bits: (perms[0] as PermEntry).bits },
        ...perms.slice(1),
      ]);
    }
    this.#checkCreate(names, value, perms, { path: name, node: parent });
    if (this.tx !== undefined) this.tx.nodeCreated = true;
    // Bottom-up, as C writes them: the new leaf, each new ancestor, then the old parent.
    const tx = this.tx !== undefined;
    let child: Rec | undefined;
    let leaf: Rec | undefined;
    let leafParent: Rec = parent;
    for (let i = 0; i < names.length; i++) {
      const p = names[i] as string;
      const v = i === 0 ? value : "";
      const rec: Rec = tx ? new TxNode(v, perms, 0, []) : new Node(v, perms, 0);
      if (child !== undefined) this.#link(rec, baseName(names[i - 1] as string), child);
      this.wrote(p, rec, true);
      this.#entryDelta((perms[0] as PermEntry).id, 1);
      if (i === 0) leaf = rec;
      if (i === 1) leafParent = rec;
      child = rec;
    }
    this.#link(parent, baseName(names[names.length - 1] as string), child as Rec);
    this.wrote(name, parent);
    return { node: leaf as Rec, parent: leafParent };
  }

  /**
   * The checks of `create_node`'s loop, node by node from the leaf up to the existing parent:
   * for a guest the node quota (ENOSPC) and `node-size` (ENOSPC), then for every writer the
   * memory charge of the record's owner (EIO, outside a transaction).
   */
  #checkCreate(
    names: string[],
    value: Value,
    perms: NodePerms,
    parent: { path: string; node: Rec },
  ): void {
    const unpriv = this.#unpriv;
    const d = this.conn?.domain;
    const entries = d?.nbentry ?? 0;
    const quota = this.store.quota(d, "nodes");
    let charged = 0;
    for (let i = 0; i < names.length; i++) {
      const counted = this.tx === undefined ? entries + i : entries;
      const kid = i === 0 ? 0 : baseName(names[i - 1] as string).length + 1;
      const valueLength = i === 0 ? value.length : 0;
      if (unpriv) {
        try {
          if (counted >= quota) throw new Errno("ENOSPC");
          this.checkSize(valueLength, perms.length, kid);
        } catch (e) {
          if (this.tx !== undefined && (i > 0 || counted < quota)) this.tx.fail = true;
          throw e;
        }
      }
      const { d: owner, key } = memoryTarget(this, names[i] as string, undefined, perms);
      const bytes = recordBytes(key, { valueLength, permCount: perms.length, kidBytes: kid });
      checkCharge(this, owner, { bytes: charged + bytes, released: 0 });
      charged += bytes;
    }
    const top = baseName(names[names.length - 1] as string).length + 1;
    const node = parent.node;
    try {
      if (unpriv) this.checkSize(node.value.length, node.perms.length, kidBytes(node) + top);
    } catch (e) {
      if (this.tx !== undefined) this.tx.fail = true;
      throw e;
    }
    const owner = memoryTarget(this, names[0] as string, undefined, perms).d;
    const { d: parentD, key, released } = memoryTarget(
      this,
      parent.path,
      node,
      this.store.domains.adjust(node.perms, node.gen),
    );
    const bytes = recordBytes(key, {
      valueLength: node.value.length,
      permCount: node.perms.length,
      kidBytes: kidBytes(node) + top,
    });
    checkCharge(this, parentD, {
      bytes: bytes + (parentD === owner ? charged : 0),
      released,
    });
  }

  #link(parent: Rec, name: string, child: Rec): void {
    if (parent instanceof TxNode) {
      parent.kids.push(name);
      return;
    }
    parent.kids ??= new Map();
    if (!parent.kids.has(name)) parent.kidBytes += name.length + 1;
    parent.kids.set(name, child as Node);
  }

  #unlink(parent: Rec, name: string): void {
    if (parent instanceof TxNode) {
      const i = parent.kids.indexOf(name);
      if (i >= 0) parent.kids.splice(i, 1);
      return;
    }
    if (parent.kids?.delete(name)) parent.kidBytes -= name.length + 1;
    if (parent.kids?.size === 0) parent.kids = undefined;
  }

  /** `rm_node`: removes `path` and its subtree, firing watches as each node goes. */
  remove(path: string): void {
    const parentName = parentOf(path);
    const parent = this.read(parentName);
    if (parent === undefined) throw new Errno("EINVAL");
    const node = this.read(path);
    if (node === undefined) throw new Errno("EIO");
    this.#removeTree(path, node, undefined, path);
    if (!hasKid(parent, baseName(path))) {
      // C xenstored 4.17 answers EIO here and leaves its store inconsistent (a transaction
      // that read the parent before the node was created); we fail the transaction instead.
      if (this.tx !== undefined) this.tx.fail = true;
      throw new Errno("EIO");
    }
    this.#unlink(parent, baseName(path));
    this.wrote(parentName, parent);
  }

  #removeTree(path: string, node: Rec, parent: Rec | undefined, root: string): void {
    for (const name of [...kidNames(node)]) {
      const p = childPath(path, name);
      const kid = this.read(p);
      if (kid === undefined) throw new Errno("EIO");
      this.#removeTree(p, kid, node, root);
      this.#unlink(node, name);
      this.wrote(path, node);
    }
    this.#deleted(path, node);
    this.fire(path, node, parent, path !== root, undefined);
    this.#entryDelta((node.perms[0] as PermEntry).id, -1);
  }
}
