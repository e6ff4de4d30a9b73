/**
 * Optional persistence of the node tree in SQLite (`node:sqlite`, WAL, synchronous=FULL):
 * the changes of each batch of requests (all the whole frames of one read) are written in one
 * SQLite transaction before any reply of the batch is sent, so a kill -9 loses nothing that
 * was acknowledged and never shows half a xenstore transaction. The simulated domain table is
 * kept too (which domains exist, which are introduced, and when their records were made, so
 * permission entries naming them keep their meaning): the embedded server is their
 * hypervisor, so after a restart they still exist and their sockets listen again. Per-domain
 * SET_TARGET, features and quotas are not kept.
 *
 * @module
 */

import { chargeNode } from "./_memory.ts";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { XenstoredCore } from "./core.ts";
import type { PermEntry } from "./node_perms.ts";
import { childPath, INITIAL_PATHS, Node, parentOf, toValue, valueBytes } from "./store.ts";

/** An open state file. */
export interface StateStore {
  /** Where the core records changed paths (give it to the core at construction). */
  readonly dirty: Map<string, boolean>;
  /** Loads the saved tree and domain table into the core (replacing its initial tree). */
  restore(core: XenstoredCore): void;
  /** Writes the paths marked dirty and a changed domain table, in one SQLite transaction. */
  flush(core: XenstoredCore): void;
  /** Closes the database. */
  close(): void;
}

/**
 * Opens (creating if needed) a state file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { XenstoredCore } from "./core.ts";
 * import { openState } from "./state.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * const state = openState(`${dir}/xs.sqlite`);
 * const core = new XenstoredCore({ dirty: state.dirty });
 * state.restore(core);
 * state.flush(core);
 * state.close();
 * assert.ok((await Deno.stat(`${dir}/xs.sqlite`)).isFile);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function openState(path: string): StateStore {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode=WAL");
  db.exec("PRAGMA synchronous=FULL");
  db.exec(
    `CREATE TABLE IF NOT EXISTS nodes (
       path TEXT PRIMARY KEY, ord INTEGER NOT NULL, value BLOB NOT NULL,
       perms TEXT NOT NULL, gen INTEGER NOT NULL)`,
  );
  const upsertNew: StatementSync = db.prepare(
    `INSERT INTO nodes (path, ord, value, perms, gen) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(path) DO UPDATE SET ord = excluded.ord, value = excluded.value,
       perms = excluded.perms, gen = excluded.gen`,
  );
  const upsertKeep: StatementSync = db.prepare(
    `INSERT INTO nodes (path, ord, value, perms, gen) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(path) DO UPDATE SET value = excluded.value, perms = excluded.perms,
       gen = excluded.gen`,
  );
  db.exec(
    `CREATE TABLE IF NOT EXISTS domains (
       domid INTEGER PRIMARY KEY, existing INTEGER NOT NULL, introduced INTEGER NOT NULL,
       generation INTEGER)`,
  );
  const remove: StatementSync = db.prepare("DELETE FROM nodes WHERE path = ?");
  const insertDomain: StatementSync = db.prepare(
    "INSERT INTO domains (domid, existing, introduced, generation) VALUES (?, ?, ?, ?)",
  );
  let domainsSaved = -1;
  const saveDomains = (core: XenstoredCore) => {
    const domains = core.domains;
    db.exec("DELETE FROM domains");
    const ids = new Set(domains.existing());
    for (const d of domains.records()) ids.add(d.domid);
    for (const domid of ids) {
      const d = domains.find(domid);
      insertDomain.run(
        domid,
        domains.exists(domid) ? 1 : 0,
        d?.introduced ? 1 : 0,
        d === undefined ? null : d.generation,
      );
    }
    domainsSaved = domains.version;
  };
  const maxOrd = db.prepare("SELECT COALESCE(MAX(ord), 0) AS m FROM nodes").get() as { m: number };
  let ord = Number(maxOrd.m);
  const dirty = new Map<string, boolean>();

  const save = (core: XenstoredCore, path: string, created: boolean) => {
    const node = core.tree.lookup(path);
    if (node === undefined) {
      remove.run(path);
      return;
    }
    const perms = JSON.stringify(node.perms.map((p) => [p.id, p.bits]));
    (created ? upsertNew : upsertKeep).run(path, ++ord, valueBytes(node.value), perms, node.gen);
  };

  return {
    dirty,
    restore(core) {
      const rows = db.prepare("SELECT path, value, perms, gen FROM nodes ORDER BY ord").all() as {
        path: string;
        value: Uint8Array;
        perms: string;
        gen: number;
      }[];
      // Parents before children (nodes are written bottom-up); siblings keep their order.
      const depth = (p: string) => p === "/" ? 0 : p.split("/").length - 1;
      rows.sort((a, b) => depth(a.path) - depth(b.path));
      if (rows.length === 0) {
        for (const p of INITIAL_PATHS) dirty.set(p, true);
        return;
      }
      const tree = core.tree;
      tree.root.kids = undefined;
      tree.root.kidBytes = 0;
      let maxGen = 0;
      for (const row of rows) {
        const perms = core.tree.perms.intern(
          (JSON.parse(row.perms) as [number, number][]).map(([id, bits]): PermEntry => ({
            id,
            bits,
          })),
        );
        const gen = Number(row.gen);
        maxGen = Math.max(maxGen, gen);
        if (row.path === "/") {
          tree.root.value = toValue(row.value);
          tree.root.perms = perms;
          tree.root.gen = gen;
          continue;
        }
        const parent = tree.lookup(parentOf(row.path));
        if (parent === undefined) {
          throw new Error(`State file is corrupt: "${row.path}" has no parent`);
        }
        parent.kids ??= new Map();
        const name = row.path.slice(row.path.lastIndexOf("/") + 1);
        if (!parent.kids.has(name)) parent.kidBytes += name.length + 1;
        parent.kids.set(name, new Node(toValue(row.value), perms, gen));
      }
      const domainRows = db.prepare(
        "SELECT domid, existing, introduced, generation FROM domains ORDER BY domid",
      ).all() as {
        domid: number;
        existing: number;
        introduced: number;
        generation: number | null;
      }[];
      for (const row of domainRows) {
        const domid = Number(row.domid);
        if (domid === 0) continue;
        if (Number(row.existing) === 1) core.domains.create(domid);
        if (row.generation === null) continue;
        const gen = Number(row.generation);
        maxGen = Math.max(maxGen, gen);
        const d = core.domains.find(domid) ?? core.domains.alloc(domid, gen);
        core.domains.setIntroduced(d, Number(row.introduced) === 1);
      }
      domainsSaved = core.domains.version;
      tree.generation = maxGen + 1;
      const counts = new Map<number, number>();
      const count = (node: Node, path: string) => {
        const owner = (node.perms[0] as PermEntry).id;
        counts.set(owner, (counts.get(owner) ?? 0) + 1);
        chargeNode(node, path, core.domains.find(owner));
        if (node.kids !== undefined) {
          for (const [name, kid] of node.kids) count(kid, childPath(path, name));
        }
      };
      count(tree.root, "/");
      for (const d of core.domains.records()) d.nbentry = counts.get(d.domid) ?? 0;
    },
    flush(core) {
      const domainsChanged = core.domains.version !== domainsSaved;
      if (dirty.size === 0 && !domainsChanged) return;
      db.exec("BEGIN");
      try {
        for (const [path, created] of dirty) save(core, path, created);
        if (domainsChanged) saveDomains(core);
        db.exec("COMMIT");
      } catch (e) {
        db.exec("ROLLBACK");
        throw e;
      }
      dirty.clear();
    },
    close() {
      db.close();
    },
  };
}
