/**
 * The few hypervisor operations the libxl layer needs, behind an interface: a simulated
 * implementation (the default, for the embedded xenstored and tests) and room for a real one.
 *
 * "Default" means: `SimulatedHypervisor` is the implementation dxl ships, and with the
 * embedded xenstored it is one line, `new SimulatedHypervisor(xs, { xenstored: xsd })`.
 * `makeDomain` still takes the hypervisor as a required option rather than inventing one:
 * xenstored (all three implementations) refuses permissions naming a domain its hypervisor
 * side does not know, so a simulated hypervisor works only when bound to the xenstored's own
 * domain table — which a socket connection cannot reach — and an implicit one on a real Xen
 * host would INTRODUCE domains that do not exist.
 *
 * A real implementation (Deno FFI to libxenctrl) would map `createDomain` to
 * `xc_domain_create` plus the domain build (which yields the store and console rings and
 * event channels), `introduceDomain` to xenstore INTRODUCE with those values, and
 * `destroyDomain` to `xc_domain_destroy` (xenstored then sees the domain die and fires
 * `@releaseDomain`; no RELEASE is needed).
 *
 * @module
 */

import { checkDomid, DOMID_FIRST_RESERVED } from "./paths.ts";

/** A shared page and event channel of a new domain (store ring or console ring). */
export interface RingInfo {
  /** The event channel port in the guest. */
  port: number;
  /** The guest frame number of the ring page. */
  gfn: number;
}

/** A domain the hypervisor created. */
export interface CreatedDomain {
  /** Its id. */
  domid: number;
  /** The xenstore ring (`store/port`, `store/ring-ref`, INTRODUCE). */
  store: RingInfo;
  /** The primary console ring (`console/port`, `console/ring-ref`). */
  console: RingInfo;
}

/** The domain types libxl records in `/libxl/<domid>/type`. */
export type DomainType = "pv" | "pvh" | "hvm";

/**
 * What a domain build needs: the fields of `libxl_domain_build_info` that `makeDomain`
 * knows. A simulated hypervisor uses only `uuid` and `domid`; a real one builds from all.
 */
export interface DomainBuildRequest {
  /** The domain handle. */
  uuid: string;
  /** Ask for this id. */
  domid?: number;
  /** The domain's name (for logs and the hypervisor's own records). */
  name?: string;
  /** pv, pvh or hvm. */
  type?: DomainType;
  /** Maximum memory in KiB. */
  maxMemKb?: number;
  /** Memory target in KiB. */
  targetMemKb?: number;
  /** Number of vCPUs. */
  vcpus?: number;
  /** Kernel image path (PV, PVH). */
  kernel?: string;
  /** Initial ramdisk path. */
  ramdisk?: string;
  /** Kernel command line. */
  cmdline?: string;
}

/** What the hypervisor itself reports about a domain (the columns of `xl list`). */
export interface HypervisorDomainInfo {
  /** Its id. */
  domid: number;
  /** Its handle, as a uuid. */
  uuid: string;
  /** `xl list`'s six state letters, e.g. `r-----`, `--p---`, `---sc-`. */
  state: string;
  /** Memory it has now, in KiB. */
  memKb: number;
  /** Its memory limit, in KiB. */
  maxMemKb: number;
  /** vCPUs online. */
  vcpus: number;
  /** CPU time used, in nanoseconds. */
  cpuTimeNs: number;
}

/** The hypervisor operations used by `makeDomain` and `destroyDomain`. */
export interface Hypervisor {
  /** Creates (and builds) a domain; `domid` asks for a particular id. */
  createDomain(request: DomainBuildRequest): Promise<CreatedDomain>;
  /** Tells xenstored about the domain (INTRODUCE) once its store ring exists. */
  introduceDomain(domain: CreatedDomain): Promise<void>;
  /** Destroys the domain (and makes xenstored forget it). */
  destroyDomain(domid: number): Promise<void>;
  /** Pauses the domain (a real hypervisor; new domains start paused). */
  pauseDomain?(domid: number): Promise<void>;
  /** Unpauses it (`xl create` does this once the devices are attached). */
  unpauseDomain?(domid: number): Promise<void>;
  /** The hypervisor's view of one domain, or undefined when it does not exist. */
  getInfo?(domid: number): Promise<HypervisorDomainInfo | undefined>;
  /** The hypervisor's view of every domain, by domid. */
  listInfo?(): Promise<HypervisorDomainInfo[]>;
}

/** What the simulated hypervisor needs from a xenstore connection. */
export interface DomainIntroducer {
  /** INTRODUCE. */
  introduce(domid: number, gfn: number | bigint, port: number): Promise<void>;
  /** RELEASE. */
  release(domid: number): Promise<void>;
  /** Whether a node exists (to skip ids that xenstore already uses). */
  exists(path: string): Promise<boolean>;
}

/** The hypervisor side of an embedded xenstored (its `startXenstored` handle is one). */
export interface SimulatedDomainTable {
  /** Makes domain `domid` exist. */
  createDomain(domid: number): void;
  /** Makes domain `domid` vanish (releasing it if it is still introduced). */
  destroyDomain(domid: number): Promise<void>;
}

/** Options of {@linkcode SimulatedHypervisor}. */
export interface SimulatedHypervisorOptions {
  /**
   * The embedded xenstored whose domain table this hypervisor drives: domains are created
   * in it before anything is written and destroyed in it after RELEASE. Runs before
   * `onCreate` and after `onDestroy`.
   * @default {none}
   */
  xenstored?: SimulatedDomainTable;
  /** The lowest id handed out. @default {1} */
  firstDomid?: number;
  /** Ids already taken (by domains created elsewhere). @default {[]} */
  taken?: Iterable<number>;
  /**
   * Called when a domain is created, before anything is written (for a stand-in hypervisor
   * that xenstored consults, such as the embedded xenstored's domain table).
   * @default {nothing}
   */
  onCreate?: (domid: number) => void | Promise<void>;
  /** Called after a domain is released. @default {nothing} */
  onDestroy?: (domid: number) => void | Promise<void>;
}

/**
 * A hypervisor that exists only in this process: it hands out the lowest domid that is
 * neither live here nor in use in xenstore (`/local/domain/<id>` or `/libxl/<id>` exists),
 * invents ring frames (`0x101000 + 2*domid` for the store, one less for the console; store
 * port 1, console port 2), and INTRODUCEs and RELEASEs domains on the given connection.
 *
 * xenstored (C, OCaml and the embedded one alike) refuses permissions whose owner is a
 * domain its hypervisor side does not know, and `makeDomain` sets such permissions before
 * INTRODUCE: give `xenstored` (the embedded server's handle) or `onCreate` (for example
 * `create N` on the control socket of `../shared/refxs`) to make the domain known there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hv = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const dom = await hv.createDomain({ uuid: crypto.randomUUID() });
 * await hv.introduceDomain(dom);
 * assert.equal(await xs.isDomainIntroduced(dom.domid), true);
 * await hv.destroyDomain(dom.domid);
 * assert.deepEqual(hv.domains, []);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class SimulatedHypervisor implements Hypervisor {
  #xs: DomainIntroducer;
  #first: number;
  #live = new Set<number>();
  #introduced = new Set<number>();
  #table: SimulatedDomainTable | undefined;
  #onCreate: SimulatedHypervisorOptions["onCreate"];
  #onDestroy: SimulatedHypervisorOptions["onDestroy"];

  /** Simulates domains on top of the xenstore connection `xs`. */
  constructor(xs: DomainIntroducer, options: SimulatedHypervisorOptions = {}) {
    this.#xs = xs;
    this.#first = checkDomid(options.firstDomid ?? 1, { what: "firstDomid" });
    for (const domid of options.taken ?? []) this.#live.add(checkDomid(domid));
    this.#table = options.xenstored;
    this.#onCreate = options.onCreate;
    this.#onDestroy = options.onDestroy;
  }

  /** The ids of the domains that exist. */
  get domains(): number[] {
    return [...this.#live].sort((a, b) => a - b);
  }

  /** Allocates an id (the requested one, or the lowest free) and invents the rings. */
  async createDomain(request: DomainBuildRequest): Promise<CreatedDomain> {
    let domid = request.domid;
    if (domid !== undefined) {
      checkDomid(domid);
      if (this.#live.has(domid) || (await this.#inUse(domid))) {
        throw new RangeError(`domain ${domid} already exists`);
      }
    } else {
      domid = this.#first;
      while (this.#live.has(domid) || (await this.#inUse(domid))) domid++;
      if (domid >= DOMID_FIRST_RESERVED) throw new RangeError("no free domain id");
    }
    this.#live.add(domid);
    try {
      this.#table?.createDomain(domid);
      await this.#onCreate?.(domid);
    } catch (error) {
      this.#live.delete(domid);
      await this.#table?.destroyDomain(domid);
      throw error;
    }
    return {
      domid,
      store: { port: 1, gfn: 0x101000 + 2 * domid },
      console: { port: 2, gfn: 0x101000 + 2 * domid - 1 },
    };
  }

  /** A domain made elsewhere (another toolstack run) still has its records. */
  async #inUse(domid: number): Promise<boolean> {
    return (await this.#xs.exists(`/local/domain/${domid}`)) ||
      (await this.#xs.exists(`/libxl/${domid}`));
  }

  /** INTRODUCEs the domain with its store ring. */
  async introduceDomain(domain: CreatedDomain): Promise<void> {
    if (!this.#live.has(domain.domid)) throw new RangeError(`no domain ${domain.domid}`);
    await this.#xs.introduce(domain.domid, domain.store.gfn, domain.store.port);
    this.#introduced.add(domain.domid);
  }

  /** RELEASEs the domain (if introduced) and frees its id. */
  async destroyDomain(domid: number): Promise<void> {
    if (!this.#live.has(domid)) throw new RangeError(`no domain ${domid}`);
    if (this.#introduced.has(domid)) {
      await this.#xs.release(domid);
      this.#introduced.delete(domid);
    }
    this.#live.delete(domid);
    await this.#onDestroy?.(domid);
    await this.#table?.destroyDomain(domid);
  }
}
