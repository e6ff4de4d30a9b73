/**
 * The server's own domain table (there is no hypervisor): which domains exist, which are
 * introduced, and C xenstored's per-domain bookkeeping (node and watch counts, the generation
 * at which the domain record was created, SET_TARGET, features).
 *
 * @module
 */

import { checkDomid } from "../protocol/domid.ts";
import { Feature } from "../protocol/op.ts";
import { type NodePerms, PermBits, type PermEntry } from "./node_perms.ts";
import type { QuotaName } from "./quotas.ts";

/** C xenstored's `struct domain`, reduced to what a socket-only server needs. */
export interface DomainInfo {
  /** The domain id. */
  readonly domid: number;
  /** Global generation when the record was created (for stale permission entries). */
  generation: number;
  /** INTRODUCEd and not yet released. */
  introduced: boolean;
  /** Flagged shut down (cleared by RESUME). */
  shutdown: boolean;
  /** Nodes owned. */
  nbentry: number;
  /** Watches held. */
  nbwatch: number;
  /** Bytes charged as C's `domain_memory_add` does: records, watches, copies (`_memory.ts`). */
  memory: number;
  /** SET_TARGET: the domain whose rights this one has. */
  target: number | undefined;
  /**
   * Domains that made this one their SET_TARGET, newest first. As in C (a talloc reference
   * on the connection), each keeps the domain alive: a RELEASE only drops the newest.
   */
  referrers: number[];
  /** Destroyed by the hypervisor while referenced: it lives on until this domain goes. */
  heldBy: number | undefined;
  /** Feature bits (GET_FEATURE/SET_FEATURE); all supported ones by default. */
  features: number;
  /**
   * This domain's own quota values (0 disables a check): set by SET_QUOTA with its domid, or
   * pinned when SET_QUOTA changes a global value after the record was allocated. A missing
   * name follows the global value (which CONTROL `quota set` changes for everyone, as in 4.17).
   */
  quotas: Partial<Record<QuotaName, number>>;
}

/** Feature bits this server supports: WATCHDEPTH. */
export const SERVER_FEATURES: number = Feature.WatchDepth;

/**
 * The domain table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Domains } from "./domains.ts";
 * const domains = new Domains();
 * domains.create(5);
 * assert.equal(domains.exists(5), true);
 * assert.equal(domains.find(5), undefined); // no record until INTRODUCE allocates one
 * assert.deepEqual(domains.existing(), [0, 5]);
 * assert.throws(() => domains.create(32752), RangeError); // DOMID_FIRST_RESERVED
 * ```
 */
export class Domains {
  readonly #existing = new Set<number>([0]);
  readonly #records = new Map<number, DomainInfo>();
  #version = 0;

  /** Bumped by every change of which domains exist, have a record or are introduced. */
  get version(): number {
    return this.#version;
  }

  /** The ids of the domains the hypervisor knows, lowest first. */
  existing(): number[] {
    return [...this.#existing].sort((a, b) => a - b);
  }

  /** Marks a record introduced (INTRODUCE) or not (release). */
  setIntroduced(d: DomainInfo, introduced: boolean): void {
    if (d.introduced === introduced) return;
    d.introduced = introduced;
    this.#version++;
  }

  /**
   * Makes a domain exist ("the hypervisor created it"). A hypervisor's domain ids are
   * 0 to `DOMID_FIRST_RESERVED - 1`; anything else throws a `RangeError`.
   */
  create(domid: number): void {
    checkDomid(domid);
    if (this.#existing.has(domid)) return;
    this.#existing.add(domid);
    this.#version++;
  }

  /** Makes a domain vanish from the hypervisor. */
  remove(domid: number): void {
    if (domid !== 0 && this.#existing.delete(domid)) this.#version++;
  }

  /** True when the hypervisor knows the domain. */
  exists(domid: number): boolean {
    return this.#existing.has(domid);
  }

  /** The record of a domain, if one was allocated. */
  find(domid: number): DomainInfo | undefined {
    return this.#records.get(domid);
  }

  /** The record of an introduced domain. */
  findIntroduced(domid: number): DomainInfo | undefined {
    const d = this.#records.get(domid);
    return d?.introduced ? d : undefined;
  }

  /** Allocates a record (`alloc_domain`). */
  alloc(domid: number, generation: number): DomainInfo {
    const d: DomainInfo = {
      domid,
      generation,
      introduced: false,
      shutdown: false,
      nbentry: 0,
      nbwatch: 0,
      memory: 0,
      target: undefined,
      referrers: [],
      heldBy: undefined,
      features: SERVER_FEATURES,
      quotas: {},
    };
    this.#records.set(domid, d);
    this.#version++;
    return d;
  }

  /** `find_or_alloc_existing_domain`: a record for a domain the hypervisor knows. */
  findOrAllocExisting(domid: number, generation: number): DomainInfo | undefined {
    return this.#records.get(domid) ??
      (this.#existing.has(domid) ? this.alloc(domid, generation) : undefined);
  }

  /** Frees a record. */
  free(domid: number): void {
    if (this.#records.delete(domid)) this.#version++;
  }

  /** Records of domains the hypervisor no longer knows and that are not introduced. */
  staleRecords(): DomainInfo[] {
    return [...this.#records.values()].filter((d) => !d.introduced && !this.#existing.has(d.domid));
  }

  /** Every allocated record. */
  records(): IterableIterator<DomainInfo> {
    return this.#records.values();
  }

  /** Every introduced domain. */
  introduced(): DomainInfo[] {
    return [...this.#records.values()].filter((d) => d.introduced);
  }

  /**
   * `domain_alloc_permrefs`: entries naming a domain with neither a record nor an existence
   * are flagged ignored; existing domains get a record.
   */
  allocPermRefs(entries: PermEntry[], generation: number): PermEntry[] {
    return entries.map((e) => {
      if (this.#records.has(e.id)) return e;
      if (!this.#existing.has(e.id)) return { id: e.id, bits: e.bits | PermBits.Ignore };
      this.alloc(e.id, generation);
      return e;
    });
  }

  /**
   * `domain_adjust_node_perms`: entries after the first that name a domain whose record is
   * missing or younger than the node are ignored. Returns `perms` itself when nothing changes.
   */
  adjust(perms: NodePerms, nodeGen: number): NodePerms | PermEntry[] {
    if (perms.length === 1) return perms;
    let out: PermEntry[] | undefined;
    for (let i = 1; i < perms.length; i++) {
      const e = perms[i] as PermEntry;
      if (e.bits & PermBits.Ignore) continue;
      const d = this.#records.get(e.id);
      if (d !== undefined && d.generation <= nodeGen) continue;
      out ??= [...perms];
      out[i] = { id: e.id, bits: e.bits | PermBits.Ignore };
    }
    return out ?? perms;
  }
}
