/**
 * What libxl asks the hypervisor about the host and a domain's placement, each through the
 * libxenctrl call libxl makes (libxl.c `libxl_get_numainfo` / `libxl_get_cpu_topology`,
 * libxl_cpupool.c `cpupool_info`, libxl_domain.c `libxl_list_vcpu`, libxl_dom.c
 * `libxl__domain_cpupool`), and libxl's bitmaps (`libxl_bitmap`: bytes, bit i of byte i/8).
 *
 * @module
 */

import { CPUPOOLINFO, CPUTOPO, DOMAININFO, MEMINFO, VCPUINFO, XEN } from "./_layout.ts";
import type { XenLibs } from "./_libs.ts";
import { XenCallError } from "./errors.ts";

/** errno ESRCH (no such domain). */
const ESRCH = 3;

/** `libxl_bitmap_test`: false for a bit past the map (such as an invalid node id). */
export function testBit(map: Uint8Array, bit: number): boolean {
  return bit >= 0 && bit < map.length * 8 && ((map[bit >> 3] as number) & (1 << (bit & 7))) !== 0;
}

/** `libxl_bitmap_set` (a bit past the map is ignored, as libxl does). */
export function setBit(map: Uint8Array, bit: number): void {
  if (bit >= 0 && bit < map.length * 8) {
    map[bit >> 3] = (map[bit >> 3] as number) | (1 << (bit & 7));
  }
}

/** `libxl_for_each_set_bit`: the set bits, in order. */
export function setBits(map: Uint8Array): number[] {
  const out: number[] = [];
  for (let bit = 0; bit < map.length * 8; bit++) if (testBit(map, bit)) out.push(bit);
  return out;
}

/** A cpupool as `libxl_cpupool_info` gives it. */
export interface CpupoolInfo {
  /** Its id. */
  poolid: number;
  /** Its scheduler (XEN_SCHEDULER_*). */
  sched: number;
  /** Its cpus, a cpumap of `xc_get_cpumap_size` bytes. */
  cpumap: Uint8Array;
}

/** The host and domain queries of libxl's placement and scheduling steps, on one `xch`. */
export class HostQueries {
  #libs: XenLibs;
  #xch: Deno.PointerValue;

  /** Queries on the open interface `xch`. */
  constructor(libs: XenLibs, xch: Deno.PointerValue) {
    this.#libs = libs;
    this.#xch = xch;
  }

  #fail(step: string, domid?: number): never {
    throw new XenCallError(step, this.#libs.errno(), domid === undefined ? {} : { domid });
  }

  /** `libxl_cpu_bitmap_alloc(ctx, &map, 0)`: an empty cpumap (`xc_get_max_cpus` bits). */
  cpumap(): Uint8Array {
    const n = this.#libs.ctrl.xc_get_max_cpus(this.#xch);
    if (n <= 0) this.#fail("xc_get_max_cpus");
    return new Uint8Array((n + 7) >> 3);
  }

  /** `libxl_node_bitmap_alloc(ctx, &map, 0)`: an empty nodemap (`xc_get_max_nodes` bits). */
  nodemap(): Uint8Array {
    const n = this.#libs.ctrl.xc_get_max_nodes(this.#xch);
    if (n <= 0) this.#fail("xc_get_max_nodes");
    return new Uint8Array((n + 7) >> 3);
  }

  /** One `xc_domain_getinfolist` entry of `domid`, or undefined when it does not exist. */
  domainInfo(domid: number): DataView | undefined {
    const buf = new Uint8Array(DOMAININFO.size);
    const n = this.#libs.ctrl.xc_domain_getinfolist(this.#xch, domid, 1, buf);
    if (n < 0) this.#fail("xc_domain_getinfolist", domid);
    const view = new DataView(buf.buffer);
    return n === 1 && view.getUint16(DOMAININFO.domain, true) === domid ? view : undefined;
  }

  /** Every domain's id (`libxl_list_domain`: `xc_domain_getinfolist` in batches of 1024). */
  domains(): number[] {
    const out: number[] = [];
    const buf = new Uint8Array(DOMAININFO.size * 1024);
    for (let first = 0;;) {
      const n = this.#libs.ctrl.xc_domain_getinfolist(this.#xch, first, 1024, buf);
      if (n < 0) this.#fail("xc_domain_getinfolist");
      if (n === 0) return out;
      const view = new DataView(buf.buffer);
      for (let i = 0; i < n; i++) out.push(view.getUint16(i * DOMAININFO.size, true));
      first = (out.at(-1) as number) + 1;
    }
  }

  /** `libxl__domain_cpupool`: the cpupool of `domid` (a missing domain fails with ESRCH). */
  domainCpupool(domid: number): number {
    const info = this.domainInfo(domid);
    if (info === undefined) throw new XenCallError("xc_domain_getinfolist", ESRCH, { domid });
    return info.getUint32(DOMAININFO.cpupool, true);
  }

  /** `libxl_cpupool_info(poolid)`: `xc_cpupool_getinfo`, exactly that pool. */
  cpupoolInfo(poolid: number): CpupoolInfo {
    const c = this.#libs.ctrl;
    const info = c.xc_cpupool_getinfo(this.#xch, poolid);
    if (info === null) this.#fail(`xc_cpupool_getinfo (cpupool ${poolid})`);
    try {
      const view = new Deno.UnsafePointerView(info);
      const got = view.getUint32(CPUPOOLINFO.cpupoolId);
      if (got !== poolid) {
        throw new XenCallError(`xc_cpupool_getinfo (got cpupool ${got}, wanted ${poolid})`, 0);
      }
      const cpumap = this.cpumap();
      const at = view.getPointer(CPUPOOLINFO.cpumap);
      if (at !== null) {
        cpumap.set(new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(at, cpumap.length)));
      }
      return { poolid, sched: view.getUint32(CPUPOOLINFO.schedId), cpumap };
    } finally {
      c.xc_cpupool_infofree(this.#xch, info);
    }
  }

  /** `libxl_get_numainfo`: each node's free memory in bytes (`xc_numainfo`, count then data). */
  numaFreeBytes(): bigint[] {
    const c = this.#libs.ctrl;
    const count = new Uint32Array(1);
    if (c.xc_numainfo(this.#xch, count, null, null) !== 0) this.#fail("xc_numainfo");
    const n = count[0] as number;
    const mem = new Uint8Array(MEMINFO.size * n);
    const distance = new Uint8Array(4 * n * n);
    if (c.xc_numainfo(this.#xch, count, mem, distance) !== 0) this.#fail("xc_numainfo");
    const view = new DataView(mem.buffer);
    return Array.from(
      { length: count[0] as number },
      (_, i) => view.getBigUint64(i * MEMINFO.size + MEMINFO.memfree, true),
    );
  }

  /** `libxl_get_cpu_topology`: each cpu's node (`xc_cputopoinfo`, count then data). */
  cpuNodes(): number[] {
    const c = this.#libs.ctrl;
    const count = new Uint32Array(1);
    if (c.xc_cputopoinfo(this.#xch, count, null) !== 0) this.#fail("xc_cputopoinfo");
    const topo = new Uint8Array(CPUTOPO.size * (count[0] as number));
    if (c.xc_cputopoinfo(this.#xch, count, topo) !== 0) this.#fail("xc_cputopoinfo");
    const view = new DataView(topo.buffer);
    return Array.from(
      { length: count[0] as number },
      (_, i) => view.getUint32(i * CPUTOPO.size + CPUTOPO.node, true),
    );
  }

  /** `libxl_nodemap_to_cpumap`: the cpus of the nodes in `nodemap`. */
  nodemapToCpumap(nodemap: Uint8Array): Uint8Array {
    const nodes = this.cpuNodes();
    const cpumap = this.cpumap();
    nodes.forEach((node, cpu) => {
      if (testBit(nodemap, node)) setBit(cpumap, cpu);
    });
    return cpumap;
  }

  /** `libxl_cpumap_to_nodemap`: the nodes of the cpus in `cpumap`. */
  cpumapToNodemap(cpumap: Uint8Array): Uint8Array {
    const nodes = this.cpuNodes();
    const nodemap = this.nodemap();
    for (const cpu of setBits(cpumap)) {
      if (cpu >= nodes.length) break;
      setBit(nodemap, nodes[cpu] as number);
    }
    return nodemap;
  }

  /**
   * `libxl_list_vcpu`'s hard affinities (`xc_vcpu_getinfo` and `xc_vcpu_getaffinity` for each
   * vcpu), or undefined where libxl gets no list (no such domain, no vcpus, a failed call).
   */
  vcpuHardAffinities(domid: number): Uint8Array[] | undefined {
    const info = this.domainInfo(domid);
    if (info === undefined) return undefined;
    const maxId = info.getUint32(DOMAININFO.maxVcpuId, true);
    if (maxId === XEN.INVALID_MAX_VCPU_ID) return undefined;
    const c = this.#libs.ctrl;
    const out: Uint8Array[] = [];
    for (let vcpu = 0; vcpu <= maxId; vcpu++) {
      const hard = this.cpumap();
      const soft = this.cpumap();
      if (c.xc_vcpu_getinfo(this.#xch, domid, vcpu, new Uint8Array(VCPUINFO.size)) === -1) {
        return undefined;
      }
      const flags = XEN.VCPUAFFINITY_SOFT | XEN.VCPUAFFINITY_HARD;
      if (c.xc_vcpu_getaffinity(this.#xch, domid, vcpu, hard, soft, flags) === -1) return undefined;
      out.push(hard);
    }
    return out;
  }

  /**
   * `libxl_domain_get_nodeaffinity` into `nodemap` (`xc_domain_node_getaffinity`; on failure
   * `nodemap` keeps what it had, which libxl's caller does not check).
   */
  nodeAffinity(domid: number, nodemap: Uint8Array): void {
    this.#libs.ctrl.xc_domain_node_getaffinity(this.#xch, domid, nodemap);
  }
}
