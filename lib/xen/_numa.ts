/**
 * libxl's automatic NUMA placement of a new domain (`libxl__build_pre` with
 * `numa_placement` on, which `xl` leaves on: libxl_dom.c `numa_place_domain`, libxl_numa.c
 * `libxl__get_numa_candidate`), Xen 4.17: the domain's vcpus get a soft affinity to the cpus
 * of the chosen nodes and the domain a node affinity to them; on a host with one node (or
 * more than 16) there is nothing to choose and both are set to everything.
 *
 * @module
 */

import type { XenLibs } from "./_libs.ts";
import { XEN } from "./_layout.ts";
import { HostQueries, setBit, setBits, testBit } from "./_topology.ts";
import { XenCallError } from "./errors.ts";

/** libxl_internal.h `LIBXL_PV_EXTRA_MEMORY` (KiB). */
const LIBXL_PV_EXTRA_MEMORY = 1024;

/**
 * `libxl__domain_need_memory_calculate` for a PV domain as `xl create` configures it: the
 * target, the shadow memory libxl defaults (`libxl__get_required_paging_memory`: 4 KiB × (256
 * per vcpu + 1 per MiB of max memory) for a PV guest without HAP), no IOMMU memory, plus
 * `LIBXL_PV_EXTRA_MEMORY`, rounded up to 2 MiB.
 */
export function pvNeedMemoryKb(
  plan: { targetMemKb: number; maxMemKb: number; vcpus: number },
): number {
  const shadow = 4 * (256 * plan.vcpus + Math.floor(plan.maxMemKb / 1024));
  const need = plan.targetMemKb + shadow + LIBXL_PV_EXTRA_MEMORY;
  return need % 2048 === 0 ? need : need + 2048 - (need % 2048);
}

/** What `libxl__get_numa_candidate` weighs, gathered from the hypervisor. */
export interface NumaInput {
  /** Free memory of each node, in bytes (`xc_numainfo`). */
  nodeFreeBytes: bigint[];
  /** The node of each cpu (`xc_cputopoinfo`; 0xffffffff when unknown). */
  cpuNodes: number[];
  /** The cpus placement may use (the cpupool's cpumap). */
  suitableCpus: Uint8Array;
  /** The nodes of those cpus (a nodemap). */
  suitableNodes: Uint8Array;
  /** How many vcpus of existing domains may run on each node (`nr_vcpus_on_nodes`). */
  vcpusOnNode: number[];
  /** The memory the domain needs, in KiB. */
  minFreeKb: number;
  /** The cpus it needs (its vcpus). */
  minCpus: number;
}

/** A placement candidate (`libxl__numa_candidate`). */
export interface NumaCandidate {
  /** Its nodes (a nodemap the size of `suitableNodes`). */
  nodemap: Uint8Array;
  /** How many nodes. */
  nrNodes: number;
  /** Suitable cpus on them. */
  nrCpus: number;
  /** Vcpus of other domains that may run there. */
  nrVcpus: number;
  /** Their free memory in KiB, as libxl sums it (a uint32_t: modulo 2^32). */
  freeKb: number;
}

/** `numa_cmpf` (libxl_dom.c): fewer vcpus first, then more free memory; C's int result. */
function compare(a: NumaCandidate, b: NumaCandidate): number {
  if (a.nrVcpus !== b.nrVcpus) return a.nrVcpus - b.nrVcpus;
  return (b.freeKb - a.freeKb) | 0; // uint64_t difference converted to int
}

/** `count_cpus_per_node`: cpus per node when every node has as many, else 0. */
function cpusPerNode(cpuNodes: number[], nrNodes: number): number {
  let per = 0;
  for (let node = 0; node < nrNodes; node++) {
    const here = cpuNodes.filter((n) => n === node).length;
    per = per === 0 ? here : per;
    if (per !== here) return 0;
  }
  return per;
}

/** The k-combinations of 0..n-1 in lexicographic order (`comb_init` / `comb_next`). */
function* combinations(n: number, k: number): Generator<number[]> {
  if (n < k) return;
  const it = Array.from({ length: k }, (_, i) => i);
  for (;;) {
    yield it;
    let i = k - 1;
    for (; it[i] === n - k + i; i--) if (i <= 0) return;
    it[i] = (it[i] as number) + 1;
    for (i++; i < k; i++) it[i] = (it[i - 1] as number) + 1;
  }
}

/**
 * The part of `libxl__get_numa_candidate` after the host was asked (more than one and at
 * most 16 nodes): from the smallest number of nodes that can hold the vcpus, every combination
 * of suitable nodes with enough free memory and cpus is a candidate; the best by `numa_cmpf`
 * of the first size that has any wins. Undefined when none fits.
 */
export function bestNumaCandidate(input: NumaInput): NumaCandidate | undefined {
  const nrNodes = input.nodeFreeBytes.length;
  let minNodes = 1;
  const per = cpusPerNode(input.cpuNodes, nrNodes);
  if (per !== 0) minNodes = Math.floor((input.minCpus + per - 1) / per);
  const suitable = setBits(input.suitableNodes);
  const nrSuitable = suitable.length;
  if (minNodes > nrSuitable) minNodes = nrSuitable;
  const maxNodes = nrSuitable;
  let best: NumaCandidate | undefined;
  for (; minNodes <= maxNodes && best === undefined; minNodes++) {
    for (const comb of combinations(nrSuitable, minNodes)) {
      const nodemap = new Uint8Array(input.suitableNodes.length);
      for (const index of comb) setBit(nodemap, suitable[index] as number);
      const nodes = setBits(nodemap);
      let free = 0n;
      for (const node of nodes) {
        free = (free + (input.nodeFreeBytes[node] ?? 0n) / 1024n) & 0xffff_ffffn;
      }
      if (input.minFreeKb !== 0 && free < BigInt(input.minFreeKb)) continue;
      let nrCpus = 0;
      input.cpuNodes.forEach((node, cpu) => {
        if (testBit(input.suitableCpus, cpu) && testBit(nodemap, node)) nrCpus++;
      });
      if (input.minCpus !== 0 && nrCpus < input.minCpus) continue;
      const candidate: NumaCandidate = {
        nodemap,
        nrNodes: nodes.length,
        nrCpus,
        nrVcpus: nodes.reduce((sum, node) => sum + (input.vcpusOnNode[node] ?? 0), 0),
        freeKb: Number(free),
      };
      if (best === undefined || compare(candidate, best) < 0) best = candidate;
    }
  }
  return best;
}

/**
 * `nr_vcpus_on_nodes`: for each node, how many vcpus of existing domains have both hard
 * affinity to one of its suitable cpus (in their own cpupool) and node affinity to it; each
 * vcpu counts once per node.
 */
function vcpusOnNodes(
  q: HostQueries,
  input: Pick<NumaInput, "cpuNodes" | "suitableCpus">,
  nrNodes: number,
): number[] {
  const counts = new Array<number>(nrNodes).fill(0);
  const domNodes = q.nodemap();
  for (const domid of q.domains()) {
    let poolCpus: Uint8Array;
    let hard: Uint8Array[] | undefined;
    try {
      poolCpus = q.cpupoolInfo(q.domainCpupool(domid)).cpumap;
      hard = q.vcpuHardAffinities(domid);
    } catch (error) {
      if (error instanceof XenCallError) continue; // libxl skips such a domain
      throw error;
    }
    if (hard === undefined) continue;
    q.nodeAffinity(domid, domNodes);
    for (const cpus of hard) {
      const counted = new Set<number>();
      for (const cpu of setBits(cpus)) {
        if (cpu >= input.cpuNodes.length) break;
        const node = input.cpuNodes[cpu] as number;
        if (
          testBit(input.suitableCpus, cpu) && testBit(poolCpus, cpu) && testBit(domNodes, node) &&
          !counted.has(node)
        ) {
          counted.add(node);
          counts[node] = (counts[node] as number) + 1;
        }
      }
    }
  }
  return counts;
}

/**
 * libxl__build_pre's placement, call for call: the node map (all nodes), `numa_place_domain`
 * (the domain's cpupool, the nodes' free memory, and on a host with 2 to 16 nodes the
 * topology, the other domains' vcpus and the best candidate, kept within the cpupool's
 * nodes), then each vcpu's soft affinity to the chosen nodes' cpus and the domain's node
 * affinity. libxl ignores failures of the last two; so does this.
 */
export function placeDomain(
  libs: XenLibs,
  xch: Deno.PointerValue,
  domid: number,
  plan: { targetMemKb: number; maxMemKb: number; vcpus: number },
): void {
  const q = new HostQueries(libs, xch);
  const nodemap = q.nodemap().fill(0xff); // libxl_bitmap_set_any
  const soft = q.cpumap();
  const pool = q.cpupoolInfo(q.domainCpupool(domid));
  const nodeFree = q.numaFreeBytes();
  if (nodeFree.length > 1 && nodeFree.length <= 16) {
    const cpuNodes = q.cpuNodes();
    const suitableNodes = q.cpumapToNodemap(pool.cpumap);
    const input = { cpuNodes, suitableCpus: pool.cpumap };
    const vcpusOnNode = vcpusOnNodes(q, input, nodeFree.length);
    const best = bestNumaCandidate({
      ...input,
      nodeFreeBytes: nodeFree,
      suitableNodes,
      vcpusOnNode,
      minFreeKb: pvNeedMemoryKb(plan),
      minCpus: plan.vcpus,
    });
    if (best !== undefined) {
      nodemap.fill(0).set(best.nodemap.subarray(0, nodemap.length));
      const poolNodes = q.cpumapToNodemap(pool.cpumap);
      for (const node of setBits(nodemap)) {
        if (!testBit(poolNodes, node)) {
          nodemap[node >> 3] = (nodemap[node >> 3] as number) & ~(1 << (node & 7));
        }
      }
    }
  }
  soft.set(q.nodemapToCpumap(nodemap));
  for (let vcpu = 0; vcpu < plan.vcpus; vcpu++) {
    const map = soft.slice(); // Xen writes the effective affinity back
    libs.ctrl.xc_vcpu_setaffinity(xch, domid, vcpu, null, map, XEN.VCPUAFFINITY_SOFT);
  }
  libs.ctrl.xc_domain_node_setaffinity(xch, domid, nodemap);
}
