/**
 * A running domain's memory target and online vCPUs (`xl mem-set`, `xl vcpu-set`):
 * `libxl_set_memory_target` (`libxl_mem.c`) and the xenstore part of `libxl_set_vcpuonline`
 * (`libxl__set_vcpuonline_xenstore`, `libxl_domain.c`), Xen 4.17.
 *
 * @module
 */

import { readDomainUuid } from "./domain.ts";
import { DomainNotFoundError } from "./errors.ts";
import { checkDomid, checkUuid, domainPath, vmPath } from "./paths.ts";
import type { Target, TransactionalOptions } from "./store.ts";
import { inTransaction, listIfPresent, pipelined } from "./store.ts";

/** libxl's `LIBXL_MIN_DOM0_MEM`: dom0's target may not go below 128 MiB. */
export const MIN_DOM0_MEM_KB = 128 * 1024;

/** Options of {@linkcode setMemoryTarget}. */
export interface SetMemoryTargetOptions extends TransactionalOptions {
  /** The new target in KiB (a change in KiB when `relative`). */
  targetKb: number;
  /** `targetKb` is added to the current target (a negative result becomes 0). @default {false} */
  relative?: boolean;
  /**
   * The uuid whose `/vm/<uuid>/memory` mirrors the target (libxl takes it from the
   * hypervisor, which also knows dom0's, whose `~/vm` may be missing).
   * @default {the uuid in ~/vm}
   */
  vmUuid?: string;
}

/** What {@linkcode setMemoryTarget} wrote. */
export interface MemoryTarget {
  /** `~/memory/target`, in KiB. */
  targetKb: number;
  /** `/vm/<uuid>/memory`, in MiB (KiB / 1024, rounded down). */
  vmMemoryMb: number;
}

function readKb(value: string | undefined, path: string): number {
  // libxl: strtoull(value, &end, 10) with *end == '\0'.
  if (value === undefined || !/^[0-9]+$/.test(value)) {
    throw new RangeError(
      `Invalid memory value ${
        value === undefined ? "(missing)" : JSON.stringify(value)
      } at ${path}`,
    );
  }
  return Number(value);
}

/**
 * Sets a domain's memory target, as `xl mem-set` (`libxl_set_memory_target`), in one
 * transaction (the caller's or its own): reads `~/memory/target`, `~/memory/static-max` and
 * `~/memory/videoram`; the new target is `targetKb - videoram` (or the current target plus
 * `targetKb` when `relative`, not below 0); it may not exceed `static-max` ("memory_dynamic_max
 * must be less than or equal to memory_static_max") nor, for dom0, go below 128 MiB; then
 * writes `~/memory/target` (KiB) and its mirror `/vm/<uuid>/memory` (MiB, rounded down; the
 * uuid from `~/vm`). Both nodes keep (or, the mirror, inherit) the guest's read-only
 * permission. The hypervisor parts (`enforce`'s max-mem, an HVM guest's PoD target) are not
 * done: dxl's hypervisor interface has no memory operations.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { makeDomain } from "./domain_create.ts";
 * import { setMemoryTarget } from "./domain_resources.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 *
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const dom = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 524288 });
 * assert.deepEqual(await setMemoryTarget(xs, dom.domid, { targetKb: 262144 }), {
 *   targetKb: 262144,
 *   vmMemoryMb: 256,
 * });
 * assert.equal(await xs.read(`/vm/${dom.uuid}/memory`), "256");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function setMemoryTarget(
  target: Target,
  domid: number,
  options: SetMemoryTargetOptions,
): Promise<MemoryTarget> {
  checkDomid(domid);
  if (options?.vmUuid !== undefined) checkUuid(options.vmUuid);
  const kb = options?.targetKb;
  const relative = options?.relative ?? false;
  if (typeof kb !== "number" || !Number.isSafeInteger(kb) || (!relative && kb < 0)) {
    throw new RangeError(
      `targetKb must be ${relative ? "an integer" : "a non-negative integer"} (KiB), got ${kb}`,
    );
  }
  return inTransaction(target, async (tx) => {
    const home = domainPath(domid);
    const [target, max, video] = await Promise.all([
      tx.tryRead(`${home}/memory/target`),
      tx.tryRead(`${home}/memory/static-max`),
      tx.tryRead(`${home}/memory/videoram`),
    ]);
    if (target === undefined && (await tx.tryRead(home)) === undefined) {
      throw new DomainNotFoundError(domid);
    }
    const current = readKb(target, `${home}/memory/target`);
    const staticMax = readKb(max, `${home}/memory/static-max`);
    const videoram = video === undefined ? 0 : parseInt(video, 10) || 0; // atoi
    const next = relative ? Math.max(0, current + kb) : kb - videoram;
    if (next < 0) {
      throw new RangeError(`targetKb ${kb} is below the domain's videoram (${videoram} KiB)`);
    }
    if (next > staticMax) {
      throw new RangeError(
        `memory_dynamic_max must be less than or equal to memory_static_max: ${next} KiB > ${staticMax} KiB`,
      );
    }
    if (domid === 0 && next < MIN_DOM0_MEM_KB) {
      throw new RangeError(`New target ${next} for dom0 is below the minimum threshold`);
    }
    const uuid = options.vmUuid ?? await readDomainUuid(tx, domid);
    if (uuid === undefined) throw new DomainNotFoundError(domid);
    const vmMemoryMb = Math.floor(next / 1024);
    await pipelined((send) => {
      send(tx.write(`${home}/memory/target`, String(next)));
      send(tx.write(`${vmPath(uuid)}/memory`, String(vmMemoryMb)));
    });
    return { targetKb: next, vmMemoryMb };
  }, options);
}

/** Options of {@linkcode setVcpusOnline}. */
export interface SetVcpusOnlineOptions extends TransactionalOptions {
  /**
   * How many vCPUs are online — the first N, as `xl vcpu-set` asks — or exactly which
   * (libxl's bitmap, as vCPU ids).
   */
  vcpus: number | readonly number[];
}

/**
 * Sets which vCPUs are online, as `xl vcpu-set` (`libxl_set_vcpuonline`): in one transaction
 * (the caller's or its own) writes `~/cpu/<n>/availability` = `online` or `offline` for every
 * vCPU the domain has (libxl: 0..`vcpu_max_id`; dxl counts the `~/cpu/<n>` entries domain
 * creation made, which the guest cannot add to). Zero vCPUs ("Requested 0 VCPUs!") and more
 * than it has ("Requested N VCPUs, however maxcpus is M!") are refused with a `RangeError`.
 * For an HVM guest libxl first hot-plugs the vCPUs through QEMU (QMP); dxl has no QMP and
 * writes only the xenstore part. Returns the ids now online.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { makeDomain } from "./domain_create.ts";
 * import { setVcpusOnline } from "./domain_resources.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 *
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536, vcpus: 4 });
 * assert.deepEqual(await setVcpusOnline(xs, domid, { vcpus: 2 }), [0, 1]);
 * assert.equal(await xs.read(`/local/domain/${domid}/cpu/3/availability`), "offline");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function setVcpusOnline(
  target: Target,
  domid: number,
  options: SetVcpusOnlineOptions,
): Promise<number[]> {
  checkDomid(domid);
  const want = options?.vcpus;
  const ids = typeof want === "number" ? undefined : want;
  if (typeof want === "number") {
    if (!Number.isSafeInteger(want) || want < 0) {
      throw new RangeError(`vcpus must be a count or a list of vCPU ids, got ${want}`);
    }
  } else if (!Array.isArray(ids) || ids.some((i) => !Number.isSafeInteger(i) || i < 0)) {
    throw new RangeError(
      `vcpus must be a count or a list of vCPU ids, got ${JSON.stringify(want)}`,
    );
  }
  const online = new Set<number>(
    typeof want === "number" ? Array.from({ length: want }, (_, i) => i) : ids,
  );
  if (online.size === 0) throw new RangeError("Requested 0 VCPUs!");
  return inTransaction(target, async (tx) => {
    const home = domainPath(domid);
    const entries = (await listIfPresent(tx, `${home}/cpu`))
      .filter((e) => /^(0|[1-9][0-9]*)$/.test(e))
      .map(Number);
    if (entries.length === 0) {
      if ((await tx.tryRead(home)) === undefined) throw new DomainNotFoundError(domid);
      throw new RangeError(`domain ${domid} has no vCPUs recorded under ${home}/cpu`);
    }
    const maxcpus = Math.max(...entries) + 1;
    if (online.size > maxcpus) {
      throw new RangeError(`Requested ${online.size} VCPUs, however maxcpus is ${maxcpus}!`);
    }
    const beyond = [...online].filter((i) => i >= maxcpus);
    if (beyond.length > 0) {
      throw new RangeError(`vCPU ${beyond[0]} does not exist: domain ${domid} has ${maxcpus}`);
    }
    await pipelined((send) => {
      for (let i = 0; i < maxcpus; i++) {
        send(tx.write(`${home}/cpu/${i}/availability`, online.has(i) ? "online" : "offline"));
      }
    });
    return [...online].sort((a, b) => a - b);
  }, options);
}
