/**
 * `dxl doctor`: what interrupted runs left behind in xenstore, and what breaks XSA-175's
 * trust rules; each stale finding proved again inside one transaction, in which `fix` also
 * removes it.
 *
 * @module
 */

import type { Transaction, XenstoreOps } from "../client/types.ts";
import { pathCleanup } from "./device_remove.ts";
import type { LibxlStore, TransactionalOptions } from "./store.ts";
import { inTransaction } from "./store.ts";
import type { Snapshot } from "./_doctor_scan.ts";
import { scan } from "./_doctor_scan.ts";
import { verify } from "./_doctor_verify.ts";
import type {
  DoctorFinding,
  DoctorFindingKind,
  DoctorSeverity,
  Removal,
} from "./_doctor_findings.ts";
import { checkBackends, checkEmptyParents, checkTrust, uuidOf } from "./_doctor_findings.ts";

export type { DoctorFinding, DoctorFindingKind, DoctorSeverity, Removal };

/** A node `fix` removed. */
export interface DoctorChange {
  /** The removed node (with its subtree). */
  path: string;
  /** The finding it was removed for. */
  kind: DoctorFindingKind;
  /** That finding's path. */
  finding: string;
}

/** What {@linkcode doctor} found and did. */
export interface DoctorReport {
  /** Every finding, in a stable order (stale, then violations, then warnings; by path). */
  findings: DoctorFinding[];
  /** The nodes removed, in order (empty without `fix`). */
  changes: DoctorChange[];
  /** True when the hypervisor's domain list decided which domains are gone. */
  usedDomainList: boolean;
}

/** A xenstore connection that can also ask xenstored whether a domain is introduced. */
export interface DoctorStore extends LibxlStore {
  /** IS_DOMAIN_INTRODUCED. */
  isDomainIntroduced(domid: number): Promise<boolean>;
}

/** Options of {@linkcode doctor}. */
export interface DoctorOptions extends TransactionalOptions {
  /**
   * Remove what is provably stale, in the transaction that proves it.
   * @default {false}
   */
  fix?: boolean;
  /**
   * The ids of the domains the hypervisor has (from a `Hypervisor` that can list them).
   * Called after the first look's reads and again inside the transaction after its reads,
   * so a domain created meanwhile is in the answer the removals rest on.
   * Without it a domain counts as gone only when its `/libxl` record outlived its home (a
   * teardown that stopped halfway): xenstored cannot tell a dead domain from one not yet
   * introduced.
   * @default {none}
   */
  listDomains?: () => Promise<Iterable<number>>;
}

const SEVERITY_ORDER: Record<DoctorSeverity, number> = { stale: 0, violation: 1, warning: 2 };

/**
 * Checks the store: stale `/libxl` entries (domain gone), stale `/vm` entries, backend
 * directories no `/libxl` record names, emptied parents left behind, domains the hypervisor
 * has without records (a killed `dxl apply`; needs `listDomains`), and the trust rules —
 * `/libxl` dom0-only, every recorded frontend's `backend` equal to the record, nothing under
 * a backend owned or writable by a guest. The checks read outside a transaction (a store
 * without findings costs no transaction); then, in one transaction, each stale finding is
 * proved again from the nodes its proof rests on (dropped if it no longer holds); with
 * `fix`, only what is provably stale is removed, in that same transaction (rerun on
 * conflict), and each removed node is returned. Trust-rule violations are only reported.
 * On C xenstored and dxl's embedded one a change to anything a proof read makes the commit
 * fail and the proofs rerun; oxenstored merges transactions whose changes do not
 * overlap, so there the re-check covers only the nodes being removed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { doctor } from "./doctor.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * await xs.write("/libxl/7/type", "pv"); // a record whose domain's home is gone
 * const seen = await doctor(xs);
 * assert.deepEqual(seen.findings.map((f) => [f.kind, f.path]), [["stale-domain", "/libxl/7"]]);
 * const fixed = await doctor(xs, { fix: true });
 * assert.deepEqual(fixed.changes.map((c) => c.path), ["/libxl/7"]);
 * assert.equal(await xs.exists("/libxl/7"), false);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function doctor(
  store: DoctorStore,
  options: DoctorOptions = {},
): Promise<DoctorReport> {
  // A first look outside a transaction: on C xenstored a transaction that reads the whole
  // toolstack tree costs several times the reads themselves. A healthy store ends here.
  const snap = await scan(store);
  const table = options.listDomains === undefined
    ? undefined
    : new Set(await options.listDomains());
  const first = await analyse(store, snap, table);
  const usedDomainList = table !== undefined;
  if (first.length === 0) return { findings: [], changes: [], usedDomainList };
  // Each stale finding proved again in the transaction that removes it.
  return await inTransaction(store, async (tx) => {
    const findings = await verify(tx, first, options.listDomains);
    const changes = options.fix ? await repair(tx, findings) : [];
    return { findings, changes, usedDomainList };
  }, options);
}

async function analyse(
  store: DoctorStore,
  snap: Snapshot,
  table: Set<number> | undefined,
): Promise<DoctorFinding[]> {
  const out: DoctorFinding[] = [];
  const add = (
    kind: DoctorFindingKind,
    severity: DoctorSeverity,
    path: string,
    domid: number | undefined,
    message: string,
    removes: Removal[] = [],
  ) => out.push({ kind, severity, path, domid, message, removes });
  const homes = new Set(snap.homes);
  const recorded = new Set(snap.libxlIds);
  const candidates = [...new Set([...snap.libxlIds, ...snap.homes])].filter((d) => d !== 0);
  const introduced = new Map<number, boolean>();
  await Promise.all(candidates.map(async (domid) => {
    introduced.set(domid, await store.isDomainIntroduced(domid).catch(() => false));
  }));
  const plain = (path: string): Removal => ({ path, emptiedParents: false });
  const upward = (path: string): Removal => ({ path, emptiedParents: true });
  const vmOf = (domid: number): Removal[] => {
    const uuid = uuidOf(snap.vmPointers.get(domid));
    return uuid !== undefined && snap.vms.includes(uuid) ? [plain(`/vm/${uuid}`)] : [];
  };
  const backendsOf = (domid: number) =>
    snap.records.filter((r) => r.domid === domid && r.backendPath !== undefined)
      .map((r) => upward(r.backendPath!));
  const removedDomains = new Set<number>();

  for (const domid of candidates) {
    const home = `/local/domain/${domid}`;
    const libxl = `/libxl/${domid}`;
    const inTable = table?.has(domid);
    if (recorded.has(domid) && !homes.has(domid)) {
      removedDomains.add(domid);
      add(
        "stale-domain",
        "stale",
        libxl,
        domid,
        `${libxl} outlived ${home}: a teardown stopped halfway; fix removes the record and its backends`,
        [...backendsOf(domid), plain(libxl)],
      );
      if (inTable) {
        add(
          "orphaned-domain",
          "warning",
          home,
          domid,
          `domain ${domid} still exists in the hypervisor without a home: destroy it (dxl destroy ${domid})`,
        );
      }
      continue;
    }
    if (table !== undefined && !inTable) {
      removedDomains.add(domid);
      if (recorded.has(domid)) {
        add(
          "stale-domain",
          "stale",
          libxl,
          domid,
          `domain ${domid} is gone (not in the hypervisor's domain list); fix removes its records, home and backends`,
          [...backendsOf(domid), ...vmOf(domid), plain(home), plain(libxl)],
        );
      } else {
        add(
          "stale-home",
          "stale",
          home,
          domid,
          `domain ${domid} is gone (not in the hypervisor's domain list) and has no ${libxl}; fix removes its home`,
          [...vmOf(domid), plain(home)],
        );
      }
      continue;
    }
    if (introduced.get(domid)) {
      if (!recorded.has(domid) && inTable) {
        add(
          "orphaned-domain",
          "warning",
          home,
          domid,
          `domain ${domid} exists but has no ${libxl} record: it was not made by dxl or libxl, or its create was interrupted`,
        );
      }
      continue;
    }
    if (table !== undefined) {
      add(
        "orphaned-domain",
        "warning",
        home,
        domid,
        `domain ${domid} exists in the hypervisor but was never introduced to xenstored: a create was interrupted (or is running now); dxl destroy ${domid} removes it`,
      );
    } else {
      add(
        "unverified-domain",
        "warning",
        recorded.has(domid) ? libxl : home,
        domid,
        `domain ${domid} is not introduced to xenstored: it is gone or still being created; without the hypervisor's domain list fix leaves it`,
      );
    }
  }
  if (table !== undefined) {
    for (const domid of [...table].sort((a, b) => a - b)) {
      if (domid === 0 || homes.has(domid) || recorded.has(domid)) continue;
      add(
        "orphaned-domain",
        "warning",
        `/local/domain/${domid}`,
        domid,
        `domain ${domid} exists in the hypervisor but has no records at all: a dxl apply or xl create was killed before writing them; dxl destroy ${domid} removes it`,
      );
    }
  }

  // A domain that is gone, unverified or orphaned: its emptied frontend parents are part of it.
  const unsettled = new Set(out.map((f) => f.domid).filter((d) => d !== undefined));
  const referenced = new Set([...snap.vmPointers.values()]);
  for (const uuid of snap.vms) {
    if (uuidOf(`/vm/${uuid}`) === undefined || referenced.has(`/vm/${uuid}`)) continue;
    add(
      "stale-vm",
      "stale",
      `/vm/${uuid}`,
      undefined,
      `/vm/${uuid} belongs to no domain (no /local/domain/*/vm points at it); fix removes it`,
      [plain(`/vm/${uuid}`)],
    );
  }

  checkBackends(snap, removedDomains, add, upward);
  checkEmptyParents(snap, unsettled, add, upward);
  checkTrust(snap, add);

  return out.sort((a, b) =>
    SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
    (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) || (a.kind < b.kind ? -1 : 1)
  );
}

/** Applies every finding's removals in `tx`, returning each node that existed and went. */
async function repair(tx: Transaction, findings: DoctorFinding[]): Promise<DoctorChange[]> {
  const changes: DoctorChange[] = [];
  for (const finding of findings) {
    for (const removal of finding.removes) {
      const note = async (path: string) => {
        const existed = await tx.exists(path);
        await tx.rm(path);
        if (existed) changes.push({ path, kind: finding.kind, finding: finding.path });
      };
      if (removal.emptiedParents) await pathCleanup(withRm(tx, note), removal.path);
      else if (await tx.exists(removal.path)) await note(removal.path);
    }
  }
  return changes;
}

/** `tx`'s node operations with `rm` replaced (the transaction is a class: no spreading). */
function withRm(tx: Transaction, rm: (path: string) => Promise<void>): XenstoreOps {
  return {
    read: (path) => tx.read(path),
    readBytes: (path) => tx.readBytes(path),
    tryRead: (path) => tx.tryRead(path),
    write: (path, value) => tx.write(path, value),
    mkdir: (path) => tx.mkdir(path),
    rm,
    directory: (path) => tx.directory(path),
    exists: (path) => tx.exists(path),
    getPerms: (path) => tx.getPerms(path),
    setPerms: (path, perms) => tx.setPerms(path, perms),
  };
}
