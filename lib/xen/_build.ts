/**
 * The steps of a PV domain build, in the order libxl takes them (`libxl__domain_make`,
 * `libxl__build_pre`, `libxl__arch_domain_create`, `libxl__build_pv`, `libxl__build_dom`),
 * as calls into libxenctrl / libxenguest.
 *
 * @module
 */

import type { CreatedDomain, DomainBuildRequest, DomainType } from "../libxl/hypervisor.ts";
import { CREATEDOMAIN, DOM_IMAGE, DOMAININFO, PHYSINFO, XEN } from "./_layout.ts";
import type { XenLibs } from "./_libs.ts";
import { placeDomain } from "./_numa.ts";
import { setDefaultSchedParams } from "./_sched.ts";
import { XenBuildRequestError, XenCallError } from "./errors.ts";

/** libxl's `LIBXL_MAXMEM_CONSTANT` (libxl_internal.h): KiB added to the max memory. */
export const LIBXL_MAXMEM_CONSTANT = 1024;
/** libxl's default `event_channels` (libxl__domain_build_info_setdefault). */
export const DEFAULT_EVENT_CHANNELS = 1023;
/** libxl's `INVALID_DOMID` (~0): the hypervisor picks the id. */
const INVALID_DOMID = 0xffff_ffff;

/** Formats a domain handle as a uuid. */
export function handleToUuid(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

/** A checked build request with libxl's defaults filled in. */
export interface BuildPlan {
  uuid: string;
  domid: number | undefined;
  type: "pv" | "pvh";
  maxMemKb: number;
  targetMemKb: number;
  vcpus: number;
  kernel: string;
  ramdisk: string | undefined;
  cmdline: string | undefined;
}

function positive(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new XenBuildRequestError(field, value, "expected a positive integer");
  }
  return value;
}

async function readableFile(field: string, path: string | undefined): Promise<void> {
  if (path === undefined) return;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (cause) {
    throw new XenBuildRequestError(field, path, (cause as Error).message, { cause });
  }
  if (!info.isFile) throw new XenBuildRequestError(field, path, "not a regular file");
  try {
    (await Deno.open(path, { read: true })).close();
  } catch (cause) {
    throw new XenBuildRequestError(field, path, (cause as Error).message, { cause });
  }
}

/**
 * Checks a build request before any hypercall: a PV kernel (and ramdisk) that can be read,
 * memory and vcpus. HVM needs a device model and PVH libxl's ACPI tables and HVM parameters,
 * which this build does not make: both are refused here.
 */
export async function checkBuildRequest(request: DomainBuildRequest): Promise<BuildPlan> {
  const type: DomainType = request.type ?? "pv";
  if (type !== "pv") {
    throw new XenBuildRequestError(
      "type",
      type,
      type === "hvm"
        ? "HVM guests need a device model (qemu), which dxl does not start; use pv"
        : "the PVH build (libxl's ACPI tables and HVM parameters) is not implemented; use pv",
    );
  }
  if (request.kernel === undefined) {
    throw new XenBuildRequestError("kernel", undefined, "a PV domain needs a kernel image");
  }
  await readableFile("kernel", request.kernel);
  await readableFile("ramdisk", request.ramdisk);
  const maxMemKb = positive("maxMemKb", request.maxMemKb);
  const targetMemKb = positive("targetMemKb", request.targetMemKb ?? maxMemKb);
  if (targetMemKb > maxMemKb) {
    throw new XenBuildRequestError("targetMemKb", targetMemKb, `more than maxMemKb ${maxMemKb}`);
  }
  uuidBytes(request.uuid);
  return {
    uuid: request.uuid,
    domid: request.domid,
    type,
    maxMemKb,
    targetMemKb,
    vcpus: positive("vcpus", request.vcpus ?? 1),
    kernel: request.kernel,
    ramdisk: request.ramdisk,
    cmdline: request.cmdline,
  };
}

/** The 16 bytes of a uuid (the domain handle). */
export function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replaceAll("-", "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex) || uuid.length !== 36) {
    throw new XenBuildRequestError("uuid", uuid, "expected 8-4-4-4-12 hex digits");
  }
  return Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));
}

/** The options of `xen_domctl_createdomain` libxl sets for a new domain. */
export interface CreateConfigInput {
  type: "pv" | "pvh" | "hvm";
  uuid: string;
  vcpus: number;
  grantVersion: number;
  eventChannels?: number;
}

/**
 * `struct xen_domctl_createdomain` as `libxl__domain_make` and
 * `libxl__arch_domain_prepare_config` fill it: handle = uuid, max vcpus, 1023 event channels,
 * the hypervisor's default grant and maptrack frames (-1), the grant version, for non-PV
 * `CDF_hvm | CDF_hap` and the emulation flags (PVH: LAPIC only).
 */
export function createDomainConfig(input: CreateConfigInput): Uint8Array {
  const buf = new Uint8Array(CREATEDOMAIN.size);
  const view = new DataView(buf.buffer);
  buf.set(uuidBytes(input.uuid), CREATEDOMAIN.handle);
  let flags = 0;
  let emulation = 0;
  if (input.type !== "pv") flags |= XEN.CDF_hvm | XEN.CDF_hap;
  if (input.type === "pvh") emulation = XEN.X86_EMU_LAPIC;
  if (input.type === "hvm") emulation = 0x7ff & ~(1 << 10); // XEN_X86_EMU_ALL & ~VPCI
  view.setUint32(CREATEDOMAIN.flags, flags, true);
  view.setUint32(CREATEDOMAIN.maxVcpus, input.vcpus, true);
  view.setUint32(CREATEDOMAIN.maxEvtchnPort, input.eventChannels ?? DEFAULT_EVENT_CHANNELS, true);
  view.setInt32(CREATEDOMAIN.maxGrantFrames, -1, true);
  view.setInt32(CREATEDOMAIN.maxMaptrackFrames, -1, true);
  view.setUint32(CREATEDOMAIN.grantOpts, input.grantVersion & 0xf, true);
  view.setUint32(CREATEDOMAIN.emulationFlags, emulation, true);
  return buf;
}

/** C string for FFI (kept referenced by the caller while the call runs). */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`${text}\0`);
}

/** Calls into the libraries for one domain, turning failures into `XenCallError`. */
export class BuildSteps {
  #libs: XenLibs;
  #xch: Deno.PointerValue;

  /** Steps on the open interface `xch`. */
  constructor(libs: XenLibs, xch: Deno.PointerValue) {
    this.#libs = libs;
    this.#xch = xch;
  }

  /** Fails with the step's name unless `ok`. */
  check(ok: boolean, step: string, domid?: number, errno?: number): void {
    if (ok) return;
    const e = errno ?? this.#libs.errno();
    throw new XenCallError(step, e, domid === undefined ? {} : { domid });
  }

  /** libxl's default grant version: 2 when the hypervisor has v2, else 1, else 0. */
  grantVersion(): number {
    const info = new Uint8Array(PHYSINFO.size);
    this.check(this.#libs.ctrl.xc_physinfo(this.#xch, info) === 0, "xc_physinfo");
    const caps = new DataView(info.buffer).getUint32(PHYSINFO.capabilities, true);
    if (caps & XEN.PHYSCAP_gnttab_v2) return 2;
    return caps & XEN.PHYSCAP_gnttab_v1 ? 1 : 0;
  }

  /** `libxl_get_free_memory`: the host's free and scrub pages, in KiB (`xc_physinfo`). */
  freeKb(): number {
    const info = new Uint8Array(PHYSINFO.size);
    this.check(this.#libs.ctrl.xc_physinfo(this.#xch, info) === 0, "xc_physinfo");
    const v = new DataView(info.buffer);
    const pages = v.getBigUint64(PHYSINFO.freePages, true) +
      v.getBigUint64(PHYSINFO.scrubPages, true);
    return Number(pages) * 4;
  }

  /** dom0 as `libxl_domain_info` gives it to xl's `freemem`: memory in KiB, and its handle. */
  dom0Memory(): { currentKb: number; outstandingKb: number; maxKb: number; uuid: string } {
    const buf = new Uint8Array(DOMAININFO.size);
    const n = this.#libs.ctrl.xc_domain_getinfolist(this.#xch, 0, 1, buf);
    this.check(n === 1, "xc_domain_getinfolist", 0);
    const v = new DataView(buf.buffer);
    const kb = (at: number) => Number(v.getBigUint64(at, true)) * 4;
    return {
      currentKb: kb(DOMAININFO.totPages),
      outstandingKb: kb(DOMAININFO.outstandingPages),
      maxKb: kb(DOMAININFO.maxPages),
      uuid: handleToUuid(buf.subarray(DOMAININFO.handle, DOMAININFO.handle + 16)),
    };
  }

  /** Xen's command line (`xc_version(XENVER_commandline)`), undefined when it cannot be read. */
  commandline(): string | undefined {
    const buf = new Uint8Array(1024);
    if (this.#libs.ctrl.xc_version(this.#xch, XEN.XENVER_commandline, buf) !== 0) return undefined;
    const end = buf.indexOf(0);
    return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
  }

  /** `xc_domain_create`; returns the new domid. */
  create(plan: BuildPlan): number {
    const config = createDomainConfig({
      type: plan.type,
      uuid: plan.uuid,
      vcpus: plan.vcpus,
      grantVersion: this.grantVersion(),
    });
    const domid = new Uint32Array([plan.domid ?? INVALID_DOMID]);
    const rc = this.#libs.ctrl.xc_domain_create(this.#xch, domid, config);
    this.check(rc === 0, "xc_domain_create", plan.domid);
    return domid[0] as number;
  }

  /**
   * `libxl__build_pre` and `libxl__arch_domain_create` for PV: max vcpus, NUMA placement
   * (`placeDomain`: soft vcpu affinity and node affinity), max memory
   * (target + LIBXL_MAXMEM_CONSTANT), the store and console event channels (both to dom0),
   * the memory map limit, the TSC mode and the CPUID policy.
   */
  prepare(domid: number, plan: BuildPlan): { storePort: number; consolePort: number } {
    const c = this.#libs.ctrl;
    const x = this.#xch;
    this.check(c.xc_domain_max_vcpus(x, domid, plan.vcpus) === 0, "xc_domain_max_vcpus", domid);
    placeDomain(this.#libs, x, domid, plan);
    const maxKb = BigInt(plan.targetMemKb + LIBXL_MAXMEM_CONSTANT);
    this.check(c.xc_domain_setmaxmem(x, domid, maxKb) === 0, "xc_domain_setmaxmem", domid);
    const storePort = c.xc_evtchn_alloc_unbound(x, domid, 0);
    this.check(storePort >= 0, "xc_evtchn_alloc_unbound (store)", domid);
    const consolePort = c.xc_evtchn_alloc_unbound(x, domid, 0);
    this.check(consolePort >= 0, "xc_evtchn_alloc_unbound (console)", domid);
    // libxl ignores this one's result (libxl__arch_domain_create); slack_memkb defaults to 0
    c.xc_domain_set_memmap_limit(x, domid, BigInt(plan.maxMemKb));
    const tsc = c.xc_domain_set_tsc_info(x, domid, 0, 0n, 0, 0);
    this.check(tsc === 0, "xc_domain_set_tsc_info", domid);
    const r = this.#libs.guest.xc_cpuid_apply_policy(
      x,
      domid,
      false,
      null,
      0,
      true,
      false,
      false,
      null,
      null,
    );
    this.check(r === 0, "xc_cpuid_apply_policy", domid, -r);
    return { storePort, consolePort };
  }

  /**
   * `libxl__build_pv` + `libxl__build_dom`: the image build through `xc_dom_*`, then the
   * store and console frames it produced (through the p2m for a non-translated guest).
   */
  buildPv(
    domid: number,
    plan: BuildPlan,
    ports: { storePort: number; consolePort: number },
    claim: boolean,
  ): CreatedDomain {
    const g = this.#libs.guest;
    g.xc_dom_loginit(this.#xch);
    const cmdline = plan.cmdline === undefined ? undefined : cString(plan.cmdline);
    const dom = g.xc_dom_allocate(this.#xch, cmdline ?? null, null);
    this.check(dom !== null, "xc_dom_allocate", domid);
    try {
      const kernel = cString(plan.kernel);
      this.check(g.xc_dom_kernel_file(dom, kernel) === 0, "xc_dom_kernel_file", domid);
      if (plan.ramdisk !== undefined && plan.ramdisk !== "") {
        const ramdisk = cString(plan.ramdisk);
        this.check(g.xc_dom_module_file(dom, ramdisk, null) === 0, "xc_dom_module_file", domid);
      }
      const image = new DataView(Deno.UnsafePointerView.getArrayBuffer(dom!, DOM_IMAGE.size));
      image.setUint32(DOM_IMAGE.containerType, 0, true); // XC_DOM_PV_CONTAINER
      image.setBigUint64(DOM_IMAGE.flags, 0n, true);
      image.setUint32(DOM_IMAGE.consoleEvtchn, ports.consolePort, true);
      image.setUint32(DOM_IMAGE.consoleDomid, 0, true);
      image.setUint32(DOM_IMAGE.xenstoreEvtchn, ports.storePort, true);
      image.setUint32(DOM_IMAGE.xenstoreDomid, 0, true);
      image.setInt32(DOM_IMAGE.claimEnabled, claim ? 1 : 0, true);
      image.setUint32(DOM_IMAGE.maxVcpus, plan.vcpus, true);
      this.check(
        g.xc_dom_boot_xen_init(dom, this.#xch, domid) === 0,
        "xc_dom_boot_xen_init",
        domid,
      );
      this.check(g.xc_dom_parse_image(dom) === 0, "xc_dom_parse_image", domid);
      const memMb = Math.floor(plan.targetMemKb / 1024);
      this.check(g.xc_dom_mem_init(dom, memMb) === 0, "xc_dom_mem_init", domid);
      this.check(g.xc_dom_boot_mem_init(dom) === 0, "xc_dom_boot_mem_init", domid);
      this.check(g.xc_dom_build_image(dom) === 0, "xc_dom_build_image", domid);
      this.check(g.xc_dom_boot_image(dom) === 0, "xc_dom_boot_image", domid);
      this.check(g.xc_dom_gnttab_init(dom) === 0, "xc_dom_gnttab_init", domid);
      // Read after the build: it may have moved the p2m.
      const done = new DataView(Deno.UnsafePointerView.getArrayBuffer(dom!, DOM_IMAGE.size));
      const consolePfn = done.getBigUint64(DOM_IMAGE.consolePfn, true);
      const storePfn = done.getBigUint64(DOM_IMAGE.xenstorePfn, true);
      const translated = g.xc_dom_translated(dom);
      const frame = (pfn: bigint, what: string): number => {
        const mfn = translated ? pfn : this.#p2m(done, pfn);
        if (mfn === XEN.INVALID_MFN || mfn > BigInt(Number.MAX_SAFE_INTEGER)) {
          throw new XenCallError(`xc_dom_p2m (${what} pfn ${pfn})`, 0, { domid });
        }
        return Number(mfn);
      };
      return {
        domid,
        store: { port: ports.storePort, gfn: frame(storePfn, "store") },
        console: { port: ports.consolePort, gfn: frame(consolePfn, "console") },
      };
    } finally {
      g.xc_dom_release(dom);
    }
  }

  /** `libxl__build_post`'s hypervisor part: the scheduler parameters (`setDefaultSchedParams`). */
  post(domid: number): void {
    setDefaultSchedParams(this.#libs, this.#xch, domid);
  }

  /** xenguest.h's inline `xc_dom_p2m` for a PV guest: `pv_p2m[pfn]` below `total_pages`. */
  #p2m(image: DataView, pfn: bigint): bigint {
    const total = image.getBigUint64(DOM_IMAGE.totalPages, true);
    if (pfn >= total) return XEN.INVALID_MFN;
    const table = Deno.UnsafePointer.create(image.getBigUint64(DOM_IMAGE.pvP2m, true));
    if (table === null) return XEN.INVALID_MFN;
    return new Deno.UnsafePointerView(table).getBigUint64(Number(pfn) * 8);
  }
}
