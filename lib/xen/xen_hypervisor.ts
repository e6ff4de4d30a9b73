/**
 * The real hypervisor: Xen through Debian's libxenctrl / libxenguest 4.17, called with
 * `Deno.dlopen` the way libxl calls them.
 *
 * @module
 */

import type {
  CreatedDomain,
  DomainBuildRequest,
  DomainIntroducer,
  Hypervisor,
  HypervisorDomainInfo,
} from "../libxl/hypervisor.ts";
import { checkDomid } from "../libxl/paths.ts";
import type { LibxlStore } from "../libxl/store.ts";
import { autoballoonEnabled, freeMemory } from "./autoballoon.ts";
import { pvNeedMemoryKb } from "./_numa.ts";
import type { BuildPlan } from "./_build.ts";
import { BuildSteps, checkBuildRequest, handleToUuid } from "./_build.ts";
import type { DomidHistoryOptions } from "./domid_history.ts";
import {
  DOMID_REUSE_TIMEOUT_S,
  isDomidRecent,
  markDomidRecent,
  XEN_RUN_DIR,
} from "./domid_history.ts";
import { DOMAININFO, XEN } from "./_layout.ts";
import type { LibraryNames, XenLibs } from "./_libs.ts";

export type { LibraryNames } from "./_libs.ts";
import { loadXenLibs } from "./_libs.ts";
import { errnoName, XenBuildRequestError, XenCallError, XenUnavailableError } from "./errors.ts";

/** Options of {@linkcode XenHypervisor}. */
export interface XenHypervisorOptions {
  /** Library file names (or paths). @default {{ xenctrl: "libxenctrl.so.4.17", xenguest: "libxenguest.so.4.17" }} */
  libraries?: LibraryNames;
  /**
   * Claim the domain's memory before populating it (`xl.conf`'s `claim_mode`, which `xl`
   * turns on by default).
   * @default {true}
   */
  claimMode?: boolean;
  /** libxl's run dir, where `domid-history` is kept. @default {"/var/run/xen"} */
  runDir?: string;
  /**
   * Balloon dom0 down when the host lacks free memory for a new domain, as `xl create` does
   * (needs `xs` to be a full xenstore connection, for dom0's memory target).
   * @default {as xl decides: xl.conf's `autoballoon`, and for `auto` Xen's command line}
   */
  autoballoon?: boolean;
  /** xl's config file, read for `autoballoon`. @default {"/etc/xen/xl.conf"} */
  xlConf?: string;
  /**
   * How long a destroyed domid may not be reused, in seconds.
   * @default {`LIBXL_DOMID_REUSE_TIMEOUT` from the environment, as libxl reads it, else 60}
   */
  domidReuseTimeoutS?: number;
}

/** libxl's reuse timeout: `LIBXL_DOMID_REUSE_TIMEOUT` (strtol base 0) or 60. */
function reuseTimeoutFromEnv(): number {
  let text: string | undefined;
  try {
    text = Deno.env.get("LIBXL_DOMID_REUSE_TIMEOUT");
  } catch {
    text = undefined; // no --allow-env: libxl's default
  }
  if (text === undefined) return DOMID_REUSE_TIMEOUT_S;
  const m = /^\s*([+-]?)(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)/i.exec(text);
  if (m === null) return 0; // strtol: no digits
  const digits = m[2] as string;
  const n = /^0x/i.test(digits)
    ? parseInt(digits, 16)
    : digits.startsWith("0")
    ? parseInt(digits, 8)
    : parseInt(digits, 10);
  return m[1] === "-" ? -n : n;
}

/** Whether the xenstore handle is a full connection (reads, writes, transactions). */
function isStore(xs: DomainIntroducer): xs is DomainIntroducer & LibxlStore {
  const ops = xs as Partial<LibxlStore>;
  return typeof ops.transaction === "function" && typeof ops.tryRead === "function" &&
    typeof ops.write === "function";
}

/** errno ESRCH. */
const ESRCH = 3;
/** `DOMID_FIRST_RESERVED`: how many domids there are to try. */
const DOMID_FIRST_RESERVED = 0x7ff0;

/** `xl list`'s letters for the shutdown reason (xl_list.c): poweroff, reboot, suspend, crash, watchdog, soft reset. */
const SHUTDOWN_LETTERS = "-rscwS";

/** A count the libraries take as uint64_t: a non-negative safe integer. */
function checkKb(field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${field} must be a non-negative integer, got ${value}`);
  }
}

/** Decodes one `xc_domaininfo_t`. */
function parseInfo(buf: Uint8Array, offset: number): HypervisorDomainInfo {
  const v = new DataView(buf.buffer, buf.byteOffset + offset, DOMAININFO.size);
  const flags = v.getUint32(DOMAININFO.flags, true);
  const has = (bit: number) => (flags & bit) !== 0;
  const shutdown = has(XEN.DOMINF_shutdown);
  const reason = shutdown ? (flags >>> XEN.DOMINF_shutdownshift) & 0xff : 0;
  const state = (has(XEN.DOMINF_running) ? "r" : "-") + (has(XEN.DOMINF_blocked) ? "b" : "-") +
    (has(XEN.DOMINF_paused) ? "p" : "-") + (shutdown ? "s" : "-") +
    (SHUTDOWN_LETTERS[reason] ?? "?") + (has(XEN.DOMINF_dying) ? "d" : "-");
  const at = buf.byteOffset + offset + DOMAININFO.handle;
  return {
    domid: v.getUint16(DOMAININFO.domain, true),
    uuid: handleToUuid(new Uint8Array(buf.buffer, at, 16)),
    state,
    memKb: Number(v.getBigUint64(DOMAININFO.totPages, true)) * 4,
    maxMemKb: Number(v.getBigUint64(DOMAININFO.maxPages, true)) * 4,
    vcpus: v.getUint32(DOMAININFO.nrOnlineVcpus, true),
    cpuTimeNs: Number(v.getBigUint64(DOMAININFO.cpuTime, true)),
  };
}

/**
 * A `Hypervisor` over libxenctrl and libxenguest. `createDomain` does what `xl create` has
 * the libraries do for a PV guest: `xc_domain_create` (handle = uuid, max vcpus, 1023 event
 * channels, the grant version the hypervisor offers), max vcpus, libxl's NUMA placement
 * (soft vcpu and node affinity), max memory, the store and console event channels, the
 * memory map limit, TSC mode and CPUID policy, then the image build (`xc_dom_allocate`,
 * kernel, ramdisk, cmdline, `xc_dom_boot_xen_init` … `xc_dom_gnttab_init`), the ring frames
 * it produced, and the scheduler parameters (`libxl__build_post`). A failing step destroys the domain
 * again and rejects with {@linkcode XenCallError} naming the step. The kernel and ramdisk are
 * checked (readable regular files) before any hypercall. New domains stay paused until
 * `unpauseDomain`. HVM and PVH are refused (see `checkBuildRequest`).
 *
 * The calls block the event loop while they run, as they block `xl`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { XenHypervisor } from "./xen_hypervisor.ts";
 * import { XenUnavailableError } from "./errors.ts";
 * // On a machine without Xen (and without the test shim) opening fails with a clear error.
 * const noXen = { introduce: async () => {}, release: async () => {}, exists: async () => false };
 * try {
 *   using hv = new XenHypervisor(noXen, { libraries: { xenctrl: "libxenctrl-missing.so" } });
 *   assert.fail(`opened ${hv}`);
 * } catch (e) {
 *   assert.ok(e instanceof XenUnavailableError);
 *   // "library" (cannot load it), or "privilege" when run without --allow-ffi
 *   assert.match(e.message, /libxenctrl-missing\.so/);
 * }
 * ```
 */
export class XenHypervisor implements Hypervisor, Disposable {
  #xs: DomainIntroducer;
  #libs: XenLibs;
  #xch: Deno.PointerValue;
  #steps: BuildSteps;
  #claim: boolean;
  #history: DomidHistoryOptions;
  #store: LibxlStore | undefined;
  #autoballoon: boolean | undefined;
  #xlConf: string | undefined;

  /** Loads the libraries and opens the hypervisor interface (`xc_interface_open`). */
  constructor(xs: DomainIntroducer, options: XenHypervisorOptions = {}) {
    this.#xs = xs;
    this.#claim = options.claimMode ?? true;
    this.#store = isStore(xs) ? xs : undefined;
    this.#autoballoon = options.autoballoon;
    this.#xlConf = options.xlConf;
    this.#history = {
      dir: options.runDir ?? XEN_RUN_DIR,
      timeoutS: options.domidReuseTimeoutS ?? reuseTimeoutFromEnv(),
    };
    this.#libs = loadXenLibs(options.libraries ?? {});
    // Probed with a logger that prints nothing, so that where Xen is missing the error below
    // is the only line (libxencall would print its own first); then opened with libxenctrl's
    // default logger, whose lines explain a failing build as they do for xl.
    const quiet = this.#libs.quietLogger();
    const probe = this.#libs.ctrl.xc_interface_open(quiet.logger, null, 0);
    const probeErrno = this.#libs.errno();
    if (probe !== null) this.#libs.ctrl.xc_interface_close(probe);
    quiet.destroy();
    const xch = probe === null ? null : this.#libs.ctrl.xc_interface_open(null, null, 0);
    if (xch === null) {
      const errno = probe === null ? probeErrno : this.#libs.errno();
      this.#libs.close();
      const privilege = errno === 13 || errno === 1; // EACCES, EPERM
      const why = errnoName(errno);
      throw new XenUnavailableError(
        privilege
          ? `cannot open /dev/xen/privcmd (${why}): run as root in dom0`
          : errno === 2 || errno === 19 // ENOENT, ENODEV
          ? `no /dev/xen/privcmd (${why}): this is not a Xen dom0, or xen-privcmd is not loaded`
          : `xc_interface_open failed (${why}) opening /dev/xen/privcmd`,
        { missing: privilege ? "privilege" : "device" },
      );
    }
    this.#xch = xch;
    this.#steps = new BuildSteps(this.#libs, xch);
  }

  /** Creates and builds a PV domain (see the class description). */
  async createDomain(request: DomainBuildRequest): Promise<CreatedDomain> {
    const plan = await checkBuildRequest(request);
    this.#open();
    await this.#freemem(plan);
    const domid = await this.#createFresh(plan);
    try {
      const ports = this.#steps.prepare(domid, plan);
      const built = this.#steps.buildPv(domid, plan, ports, this.#claim);
      this.#steps.post(domid);
      return built;
    } catch (error) {
      this.#libs.ctrl.xc_domain_destroy(this.#xch, domid);
      throw error;
    }
  }

  /** xl's `freemem` before the create (see `freeMemory`), when autoballooning is on. */
  async #freemem(plan: BuildPlan): Promise<void> {
    if (this.#store === undefined) return;
    this.#autoballoon ??= await autoballoonEnabled({
      ...(this.#xlConf === undefined ? {} : { xlConf: this.#xlConf }),
      commandline: () => this.#steps.commandline(),
    });
    if (!this.#autoballoon) return;
    await freeMemory(this.#store, pvNeedMemoryKb(plan), {
      freeKb: () => this.#steps.freeKb(),
      dom0: () => this.#steps.dom0Memory(),
    });
  }

  /**
   * `xc_domain_create` as `libxl__domain_make` loops on it: a domid destroyed within the
   * reuse timeout (`domid-history`) is destroyed again and another is taken, or, when the
   * request named it, the create fails.
   */
  async #createFresh(plan: BuildPlan): Promise<number> {
    for (let tries = 0;; tries++) {
      const domid = this.#steps.create(plan);
      let recent: boolean;
      try {
        recent = await isDomidRecent(domid, this.#libs.monotonicSeconds(), this.#history);
      } catch (error) {
        this.#libs.ctrl.xc_domain_destroy(this.#xch, domid);
        throw error;
      }
      if (!recent) return domid;
      if (plan.domid !== undefined) {
        await this.destroyDomain(domid).catch(() => {});
        throw new XenBuildRequestError(
          "domid",
          domid,
          `destroyed less than ${this.#history.timeoutS} s ago (${this.#history.dir}/domid-history): libxl does not reuse it yet`,
        );
      }
      this.#libs.ctrl.xc_domain_destroy(this.#xch, domid);
      if (tries >= DOMID_FIRST_RESERVED) {
        throw new XenCallError("xc_domain_create (every domid is recent)", 0);
      }
    }
  }

  /** INTRODUCEs the domain to xenstored with the store ring the build produced. */
  async introduceDomain(domain: CreatedDomain): Promise<void> {
    await this.#xs.introduce(domain.domid, domain.store.gfn, domain.store.port);
  }

  /**
   * `xc_domain_destroy`, after recording the domid in libxl's `domid-history` as libxl's
   * destroy does (a domid that cannot be recorded is not destroyed: `DomidHistoryError`;
   * a domain that does not exist is refused first with ESRCH). xenstored then sees the
   * domain die and fires `@releaseDomain`.
   */
  async destroyDomain(domid: number): Promise<void> {
    checkDomid(domid);
    if ((await this.getInfo(domid)) === undefined) {
      throw new XenCallError("xc_domain_destroy", ESRCH, { domid });
    }
    await markDomidRecent(domid, this.#libs.monotonicSeconds(), this.#history);
    await this.#call("xc_domain_destroy", domid, this.#libs.ctrl.xc_domain_destroy);
  }

  /** `xc_domain_pause`. */
  pauseDomain(domid: number): Promise<void> {
    return this.#call("xc_domain_pause", domid, this.#libs.ctrl.xc_domain_pause);
  }

  /** `xc_domain_unpause`. */
  unpauseDomain(domid: number): Promise<void> {
    return this.#call("xc_domain_unpause", domid, this.#libs.ctrl.xc_domain_unpause);
  }

  /**
   * `xc_domain_setmaxmem`: the domain's memory limit in KiB (`xl mem-set` sets it to the new
   * target plus `LIBXL_MAXMEM_CONSTANT`; see `setHostMemoryTarget`).
   */
  async setMaxMemory(domid: number, maxKb: number): Promise<void> {
    checkKb("maxKb", maxKb);
    await this.#call(
      "xc_domain_setmaxmem",
      domid,
      (x, d) => this.#libs.ctrl.xc_domain_setmaxmem(x, d, BigInt(maxKb)),
    );
  }

  /**
   * `xc_domain_set_pod_target`: the populate-on-demand target of an HVM or PVH domain, in
   * pages (`libxl_set_memory_target` does it for every non-PV domain).
   */
  async setPodTarget(domid: number, pages: number): Promise<void> {
    checkKb("pages", pages);
    await this.#call(
      "xc_domain_set_pod_target",
      domid,
      (x, d) => this.#libs.ctrl.xc_domain_set_pod_target(x, d, BigInt(pages), null, null, null),
    );
  }

  /** The hypervisor's view of `domid` (`xc_domain_getinfolist` from it, one entry). */
  async getInfo(domid: number): Promise<HypervisorDomainInfo | undefined> {
    checkDomid(domid);
    const found = this.#infos(domid, 1);
    return await Promise.resolve(found[0]?.domid === domid ? found[0] : undefined);
  }

  /** Every domain the hypervisor has, by domid (`xc_domain_getinfolist` in batches). */
  async listInfo(): Promise<HypervisorDomainInfo[]> {
    const out: HypervisorDomainInfo[] = [];
    for (let first = 0;;) {
      const batch = this.#infos(first, 256);
      out.push(...batch);
      if (batch.length < 256) break;
      first = (batch.at(-1) as HypervisorDomainInfo).domid + 1;
    }
    return await Promise.resolve(out);
  }

  #infos(first: number, max: number): HypervisorDomainInfo[] {
    const buf = new Uint8Array(DOMAININFO.size * max);
    const n = this.#libs.ctrl.xc_domain_getinfolist(this.#open(), first, max, buf);
    if (n < 0) throw new XenCallError("xc_domain_getinfolist", this.#libs.errno());
    return Array.from({ length: n }, (_, i) => parseInfo(buf, i * DOMAININFO.size));
  }

  async #call(
    step: string,
    domid: number,
    fn: (xch: Deno.PointerValue, domid: number) => number,
  ): Promise<void> {
    checkDomid(domid);
    if (fn(this.#open(), domid) !== 0) {
      throw new XenCallError(step, this.#libs.errno(), { domid });
    }
    await Promise.resolve();
  }

  /** The open interface; a closed hypervisor is refused (libxenctrl would crash on it). */
  #open(): Deno.PointerValue {
    if (this.#xch === null) throw new TypeError("XenHypervisor is closed");
    return this.#xch;
  }

  /** Closes the interface and the libraries. */
  close(): void {
    if (this.#xch === null) return;
    this.#libs.ctrl.xc_interface_close(this.#xch);
    this.#xch = null;
    this.#libs.close();
  }

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
