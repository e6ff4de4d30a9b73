/**
 * `xl mem-set` on a Xen host: the memory target in xenstore and the hypervisor's memory
 * limit changed together, as `libxl_set_memory_target` does with `enforce` (which `xl
 * mem-set` passes), Xen 4.17 `libxl_mem.c`.
 *
 * @module
 */

import type { MemoryTarget, SetMemoryTargetOptions } from "../libxl/domain_resources.ts";
import { setMemoryTarget } from "../libxl/domain_resources.ts";
import type { Hypervisor } from "../libxl/hypervisor.ts";
import { domainPath, libxlDomainPath } from "../libxl/paths.ts";
import type { Target } from "../libxl/store.ts";
import { inTransaction } from "../libxl/store.ts";
import { LIBXL_MAXMEM_CONSTANT } from "./_build.ts";

/** The memory calls of a real hypervisor (`XenHypervisor` has them). */
export interface MemoryLimits {
  /** `xc_domain_setmaxmem`: the domain's memory limit, in KiB. */
  setMaxMemory(domid: number, maxKb: number): Promise<void>;
  /** `xc_domain_set_pod_target`: an HVM or PVH domain's populate-on-demand target, in pages. */
  setPodTarget(domid: number, pages: number): Promise<void>;
}

/**
 * Whether `hypervisor` has the memory calls of {@linkcode MemoryLimits} (a simulated one
 * does not: it has no memory to limit).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasMemoryLimits } from "./host_memory.ts";
 * assert.equal(hasMemoryLimits(undefined), false);
 * assert.equal(hasMemoryLimits({ setMaxMemory: async () => {}, setPodTarget: async () => {} }), true);
 * ```
 */
export function hasMemoryLimits(hypervisor: unknown): hypervisor is MemoryLimits {
  const hv = hypervisor as Partial<MemoryLimits> | undefined;
  return typeof hv?.setMaxMemory === "function" && typeof hv.setPodTarget === "function";
}

/** Options of {@linkcode setHostMemoryTarget}. */
export interface HostMemoryTargetOptions extends SetMemoryTargetOptions {
  /**
   * The hypervisor whose limit follows the target; one without {@linkcode MemoryLimits}
   * (or none) leaves only xenstore changed, as `setMemoryTarget` alone does.
   * @default {none}
   */
  hypervisor?: Hypervisor | MemoryLimits | undefined;
}

/**
 * Sets a domain's memory target as `xl mem-set` does on a Xen host: in one transaction (the
 * caller's or its own) `setMemoryTarget` (`~/memory/target`, `/vm/<uuid>/memory`, libxl's
 * checks), and, before it commits, the hypervisor's limit: `xc_domain_setmaxmem` to the new
 * target plus `~/memory/videoram` plus `LIBXL_MAXMEM_CONSTANT` (1024 KiB), and for a domain
 * whose `/libxl/<domid>/type` is `hvm` or `pvh` also `xc_domain_set_pod_target` to (target + 1024
 * KiB) / 4 pages. A failing call aborts the transaction, so xenstore keeps the old target
 * (libxl aborts its transaction the same way). A retried transaction repeats the calls, as
 * libxl's retry does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { makeDomain } from "../libxl/domain_create.ts";
 * import { SimulatedHypervisor } from "../libxl/hypervisor.ts";
 * import { setHostMemoryTarget } from "./host_memory.ts";
 *
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const sim = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const dom = await makeDomain(xs, { hypervisor: sim, name: "web", maxMemKb: 524288 });
 * // a stand-in for XenHypervisor's memory calls, recording them
 * const calls: string[] = [];
 * const hypervisor = {
 *   setMaxMemory: async (domid: number, kb: number) => void calls.push(`maxmem ${domid} ${kb}`),
 *   setPodTarget: async (domid: number, pages: number) => void calls.push(`pod ${domid} ${pages}`),
 * };
 * const result = await setHostMemoryTarget(xs, dom.domid, { targetKb: 262144, hypervisor });
 * assert.deepEqual(result, { targetKb: 262144, vmMemoryMb: 256 });
 * assert.deepEqual(calls, [`maxmem ${dom.domid} 263168`]); // a PV domain: no PoD target
 * // a failing limit leaves the target as it was
 * const failing = { ...hypervisor, setMaxMemory: () => Promise.reject(new Error("ENOMEM")) };
 * await assert.rejects(
 *   setHostMemoryTarget(xs, dom.domid, { targetKb: 131072, hypervisor: failing }),
 *   /ENOMEM/,
 * );
 * assert.equal(await xs.read(`/local/domain/${dom.domid}/memory/target`), "262144");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function setHostMemoryTarget(
  target: Target,
  domid: number,
  options: HostMemoryTargetOptions,
): Promise<MemoryTarget> {
  const { hypervisor, ...rest } = options;
  return inTransaction(target, async (tx) => {
    const result = await setMemoryTarget(tx, domid, rest);
    if (hasMemoryLimits(hypervisor)) await enforceMemoryTarget(tx, domid, hypervisor);
    return result;
  }, rest);
}

/**
 * The hypervisor half of {@linkcode setHostMemoryTarget} for a target already in xenstore
 * (read through `target`, which may be the transaction that wrote it): `xc_domain_setmaxmem`
 * to `~/memory/target` + `~/memory/videoram` + 1024 KiB, and for an `hvm` or `pvh` domain
 * `xc_domain_set_pod_target` to (target + 1024 KiB) / 4 pages. Returns the limit set, in KiB.
 * Rejects with `RangeError` when `~/memory/target` is missing or not a number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { enforceMemoryTarget } from "./host_memory.ts";
 * // a store stand-in: an HVM domain with a 512 MiB target and 8 MiB of video memory
 * const nodes: Record<string, string> = {
 *   "/local/domain/4/memory/target": "524288",
 *   "/local/domain/4/memory/videoram": "8192",
 *   "/libxl/4/type": "hvm",
 * };
 * const store = { tryRead: (path: string) => Promise.resolve(nodes[path]) };
 * const calls: string[] = [];
 * const limits = {
 *   setMaxMemory: async (_: number, kb: number) => void calls.push(`maxmem ${kb}`),
 *   setPodTarget: async (_: number, pages: number) => void calls.push(`pod ${pages}`),
 * };
 * assert.equal(await enforceMemoryTarget(store, 4, limits), 533504);
 * assert.deepEqual(calls, ["maxmem 533504", "pod 131328"]);
 * ```
 */
export async function enforceMemoryTarget(
  target: Pick<Target, "tryRead">,
  domid: number,
  hypervisor: MemoryLimits,
): Promise<number> {
  const home = domainPath(domid);
  const [current, video, type] = await Promise.all([
    target.tryRead(`${home}/memory/target`),
    target.tryRead(`${home}/memory/videoram`),
    target.tryRead(`${libxlDomainPath(domid)}/type`),
  ]);
  if (current === undefined || !/^[0-9]+$/.test(current)) {
    throw new RangeError(
      `Invalid memory target ${
        current === undefined ? "(missing)" : JSON.stringify(current)
      } at ${home}/memory/target`,
    );
  }
  const targetKb = Number(current);
  const videoram = video === undefined ? 0 : parseInt(video, 10) || 0; // libxl: atoi
  const maxKb = targetKb + videoram + LIBXL_MAXMEM_CONSTANT;
  await hypervisor.setMaxMemory(domid, maxKb);
  if (type === "hvm" || type === "pvh") {
    await hypervisor.setPodTarget(domid, Math.floor((targetKb + LIBXL_MAXMEM_CONSTANT) / 4));
  }
  return maxKb;
}
