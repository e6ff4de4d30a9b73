/**
 * libxl's NUMA placement candidate search (lib/xen/_numa.ts, ported from libxl_numa.c
 * `libxl__get_numa_candidate` and libxl_dom.c `numa_cmpf`) on hosts with several nodes,
 * which the fakexl shim (one node) cannot show; the one-node path is compared with real xl
 * under the shim in _cli_suite.ts.
 */

import assert from "node:assert/strict";
import { bestNumaCandidate, type NumaInput, pvNeedMemoryKb } from "../../lib/xen/_numa.ts";
import { setBits } from "../../lib/xen/_topology.ts";

const GiB = 1n << 30n;

/** A host of `nodes` nodes with `cpusPerNode` cpus each (cpu i on node i / cpusPerNode). */
function host(
  freeGiB: number[],
  cpusPerNode: number | number[],
  extra: Partial<NumaInput> = {},
): NumaInput {
  const per = typeof cpusPerNode === "number" ? freeGiB.map(() => cpusPerNode) : cpusPerNode;
  const cpuNodes = per.flatMap((n, node) => new Array<number>(n).fill(node));
  const suitableCpus = new Uint8Array(Math.ceil(cpuNodes.length / 8)).fill(0xff);
  return {
    nodeFreeBytes: freeGiB.map((g) => BigInt(g) * GiB),
    cpuNodes,
    suitableCpus,
    suitableNodes: new Uint8Array([(1 << freeGiB.length) - 1]),
    vcpusOnNode: freeGiB.map(() => 0),
    minFreeKb: 1 << 20, // 1 GiB
    minCpus: 2,
    ...extra,
  };
}

const nodes = (input: NumaInput) => {
  const best = bestNumaCandidate(input);
  return best === undefined ? undefined : setBits(best.nodemap);
};

Deno.test("pvNeedMemoryKb() is libxl__domain_need_memory_calculate for a PV domain", () => {
  // 256 MiB, 2 vcpus: shadow 4 * (2 * 256 + 256) = 3072, + LIBXL_PV_EXTRA_MEMORY 1024
  assert.equal(pvNeedMemoryKb({ targetMemKb: 262144, maxMemKb: 262144, vcpus: 2 }), 266240);
  // rounded up to 2 MiB
  assert.equal(pvNeedMemoryKb({ targetMemKb: 1000, maxMemKb: 1000, vcpus: 1 }), 4096);
});

Deno.test("bestNumaCandidate(): one node if the vcpus fit, the least loaded, then the freest", () => {
  assert.deepEqual(nodes(host([4, 8], 4)), [1], "same load: more free memory wins");
  assert.deepEqual(
    nodes(host([4, 8], 4, { vcpusOnNode: [0, 3] })),
    [0],
    "fewer vcpus already there wins over free memory",
  );
  const best = bestNumaCandidate(host([4, 8], 4));
  assert.deepEqual(
    { ...best, nodemap: undefined },
    { nodemap: undefined, nrNodes: 1, nrCpus: 4, nrVcpus: 0, freeKb: 8 << 20 },
  );
});

Deno.test("bestNumaCandidate(): more nodes when one lacks the memory or the cpus", () => {
  // 6 GiB needed, no node has it: the pair
  assert.deepEqual(nodes(host([4, 4, 2], 4, { minFreeKb: 6 << 20 })), [0, 1]);
  // 6 vcpus on 4-cpu nodes: at least 2 nodes (the freest pair among three)
  assert.deepEqual(nodes(host([1, 3, 3], 4, { minCpus: 6 })), [1, 2]);
  // uneven nodes (2 and 4 cpus): start from 1 node, skip the one short of cpus
  assert.deepEqual(nodes(host([8, 1], [2, 4], { minCpus: 3 })), [1]);
  // nothing can hold it
  assert.equal(nodes(host([1, 1], 4, { minFreeKb: 4 << 20 })), undefined);
});

Deno.test("bestNumaCandidate(): only the cpupool's nodes are candidates", () => {
  // the pool has cpus 4-7 only (node 1)
  const input = host([8, 2], 4, {
    suitableCpus: new Uint8Array([0xf0]),
    suitableNodes: new Uint8Array([0b10]),
  });
  assert.deepEqual(nodes(input), [1]);
});

Deno.test("bestNumaCandidate() keeps libxl's integer arithmetic", () => {
  // nodemap_to_free_memkb sums into a uint32_t: 4 TiB free is 2^32 KiB, which wraps to 0
  assert.deepEqual(nodes(host([4096, 2], 4)), [1]);
  // numa_cmpf returns the uint64_t difference of free memory as an int: a node with more
  // than 2^31 KiB (2 TiB) more than the best so far reads as having less
  assert.deepEqual(nodes(host([1, 2050], 4)), [0]);
  assert.deepEqual(nodes(host([1, 2048], 4)), [1]);
});
