/**
 * What apply writes inside its one transaction, action by action, and what it leaves for
 * after the commit (backends to wait for, removed devices to clean up).
 *
 * @module
 */

import type { Transaction } from "../client/types.ts";
import type { DeviceSpec } from "../libxl/device.ts";
import { describeDevice } from "../libxl/device.ts";
import { addDevice } from "../libxl/device_add.ts";
import type { DeviceRecord } from "../libxl/device_list.ts";
import { listDevices, readDeviceRecord } from "../libxl/device_list.ts";
import { cleanupDevice } from "../libxl/device_remove.ts";
import type { CreatedDomain } from "../libxl/hypervisor.ts";
import { domainPath, vmPath } from "../libxl/paths.ts";
import { rmIfPresent } from "../libxl/store.ts";
import { XenbusState } from "../libxl/xenbus_state.ts";
import { writeNewDomain } from "../libxl/domain_create.ts";
import type { InsertCdromOptions } from "../libxl/cdrom.ts";
import { insertCdrom } from "../libxl/cdrom.ts";
import { setMemoryTarget, setVcpusOnline } from "../libxl/domain_resources.ts";
import type { LiveDomain, LiveState } from "./live.ts";
import { dxlMarkPath } from "./live.ts";
import type { NormalizedDomain } from "./normalized.ts";
import { buildDevice } from "./normalized.ts";
import type { Plan, PlanAction } from "./plan.ts";

/** A domain the hypervisor made for this attempt, before the transaction. */
export interface NewDomain {
  /** The config's domain. */
  want: NormalizedDomain;
  /** Its uuid (the config's, or a fresh one). */
  uuid: string;
  /** What the hypervisor returned. */
  created: CreatedDomain;
}

/** A device added (to wait for its backend) or asked to close (to wait, then clean up). */
export interface Pending {
  /** The domain's name. */
  domain: string;
  /** How it is named: `vbd 51712 of domain 3`. */
  device: string;
  /** Added devices: the spec. */
  spec?: DeviceSpec;
  /** Removed devices: the `/libxl` record (paths to clean up). */
  record?: DeviceRecord;
}

/** What is left for after the commit. */
export interface AfterCommit {
  /** Added devices whose backend must connect. */
  connect: Pending[];
  /** Removed devices whose backend must close, then be cleaned up. */
  close: Pending[];
  /** Removed devices with no handshake (consoles): cleaned up after the commit. */
  cleanup: Pending[];
  /** Removed domains: hypervisor destroy, then `/libxl/<domid>` removed after their devices. */
  removedDomains: { name: string; domid: number }[];
}

/** Options the writes need. */
export interface WriteOptions {
  /** The clock for `start_time`. */
  now?: () => number;
}

function backendOf(
  name: string | undefined,
  live: LiveState,
  fresh: ReadonlyMap<string, NewDomain>,
): number {
  if (name === undefined) return 0;
  const made = fresh.get(name);
  if (made !== undefined) return made.created.domid;
  const hit = live.domains.find((d) => d.name === name && !d.removing);
  if (hit !== undefined) return hit.domid;
  if (name === "Domain-0") return 0;
  throw new RangeError(`backend domain ${JSON.stringify(name)} does not exist`);
}

function specsOf(
  want: NormalizedDomain,
  domid: number,
  live: LiveState,
  fresh: ReadonlyMap<string, NewDomain>,
): DeviceSpec[] {
  return want.devices.map((d) =>
    buildDevice(d, {
      domid,
      backendDomid: backendOf(d.backend, live, fresh),
      domainName: want.name,
    })
  );
}

/**
 * Asks a recorded device's backend to close (libxl's removal request: `online=0`, and
 * `state=5` unless it is already Closed), in the transaction. Consoles, vuarts and
 * libxl-only records have no handshake and go to `cleanup`.
 */
async function requestRemoval(
  tx: Transaction,
  domain: string,
  record: DeviceRecord,
  after: AfterCommit,
): Promise<void> {
  const pending: Pending = { domain, device: describeDevice(record), record };
  const be = record.backendPath;
  if (be === undefined || record.kind === "console" || record.kind === "vuart") {
    after.cleanup.push(pending);
    return;
  }
  const state = await tx.tryRead(`${be}/state`);
  if (state === undefined) {
    after.cleanup.push(pending);
    return;
  }
  await tx.write(`${be}/online`, "0");
  if (state !== String(XenbusState.Closed)) {
    await tx.write(`${be}/state`, String(XenbusState.Closing));
  }
  after.close.push(pending);
}

/**
 * Removes a domain's records in the transaction: a removal request to every device's backend,
 * `~` and `/vm/<uuid>` removed, and `/libxl/<domid>/dxl/removing` set, so an apply killed
 * before cleanup finishes it next time. `/libxl/<domid>` goes after the backends closed.
 */
async function removeDomain(tx: Transaction, have: LiveDomain, after: AfterCommit): Promise<void> {
  const name = have.name ?? `domid ${have.domid}`;
  for (const record of await listDevices(tx, have.domid)) {
    await requestRemoval(tx, name, record, after);
  }
  if (have.uuid !== undefined) await rmIfPresent(tx, vmPath(have.uuid));
  await rmIfPresent(tx, domainPath(have.domid));
  await tx.write(`${dxlMarkPath(have.domid)}/removing`, "1");
  after.removedDomains.push({ name, domid: have.domid });
}

async function createDomain(
  tx: Transaction,
  made: NewDomain,
  live: LiveState,
  fresh: ReadonlyMap<string, NewDomain>,
  after: AfterCommit,
  options: WriteOptions,
): Promise<void> {
  const { want, uuid, created } = made;
  const devices = specsOf(want, created.domid, live, fresh);
  const o: Parameters<typeof writeNewDomain>[2] = {
    name: want.name,
    uuid,
    type: want.type,
    maxMemKb: want.maxMemKb,
    targetMemKb: want.targetMemKb,
    videoramKb: want.videoramKb,
    vcpus: want.vcpus,
    vcpusOnline: want.vcpusOnline,
    driverDomain: want.driverDomain,
    devices,
    // plan checked every name against all names read in this same transaction
    checkName: false,
    // the same tree as libxl's requests give, without its SET_PERMS that change nothing
    skipInheritedPerms: true,
  };
  if (want.kernel !== undefined) o.kernel = want.kernel;
  if (want.ramdisk !== undefined) o.ramdisk = want.ramdisk;
  if (want.cmdline !== undefined) o.cmdline = want.cmdline;
  if (options.now !== undefined) o.now = options.now;
  await writeNewDomain(tx, created, o);
  const mark = dxlMarkPath(created.domid);
  await tx.write(`${mark}/managed`, "1");
  await tx.write(`${mark}/driver-domain`, want.driverDomain ? "1" : "0");
  for (const spec of devices) {
    if (spec.waitsForBackend) {
      after.connect.push({ domain: want.name, device: describeDevice(spec), spec });
    }
  }
}

async function deviceAction(
  tx: Transaction,
  action: PlanAction,
  want: NormalizedDomain,
  have: LiveDomain,
  live: LiveState,
  fresh: ReadonlyMap<string, NewDomain>,
  after: AfterCommit,
): Promise<void> {
  const ref = { domid: have.domid, kind: action.device!.kind, devid: action.device!.devid };
  if (action.kind === "remove") {
    const record = await readDeviceRecord(tx, ref);
    if (record !== undefined) await requestRemoval(tx, want.name, record, after);
    return;
  }
  const device = want.devices.find((d) => d.kind === ref.kind && d.devid === ref.devid)!;
  if (action.kind === "update") {
    // Only an HVM guest's cdrom media changes in place (plan makes nothing else an update).
    if (device.kind === "vbd") {
      const { target, format } = device.options;
      const options: InsertCdromOptions = { vdev: device.label, target };
      if (format !== undefined && format !== "empty") options.format = format;
      await insertCdrom(tx, have.domid, options);
    }
    return;
  }
  const current = action.kind === "replace" ? await readDeviceRecord(tx, ref) : undefined;
  let d = device;
  if (d.kind === "vif" && d.options.mac === undefined && current?.keys.mac !== undefined) {
    d = { ...d, options: { ...d.options, mac: current.keys.mac } };
  }
  const spec = buildDevice(d, {
    domid: have.domid,
    backendDomid: backendOf(d.backend, live, fresh),
    domainName: want.name,
  });
  // A replaced device goes at once (libxl's forced removal): its devid is taken until then.
  if (current !== undefined) await cleanupDevice(tx, current);
  await addDevice(tx, spec);
  if (spec.waitsForBackend) {
    after.connect.push({ domain: want.name, device: describeDevice(spec), spec });
  }
}

/**
 * Writes a plan into the transaction `tx`, with `fresh` holding the domains the hypervisor
 * made for it. Each domain's actions run in the plan's order (for a new domain, libxl's
 * order); different domains are written concurrently (their requests interleave in the one
 * transaction, which changes no domain's records), driver domains first, so a backend
 * directory under a new driver domain is written after that domain's home.
 */
export async function writePlan(
  tx: Transaction,
  p: Plan,
  live: LiveState,
  fresh: ReadonlyMap<string, NewDomain>,
  options: WriteOptions,
): Promise<AfterCommit> {
  const after: AfterCommit = { connect: [], close: [], cleanup: [], removedDomains: [] };
  const wantOf = (name: string) => p.config.domains.find((d) => d.name === name);
  const liveOf = (a: PlanAction) => live.domains.find((d) => d.domid === a.domid);
  const chains = new Map<string, PlanAction[]>();
  for (const action of p.actions) {
    if (action.kind === "noop") continue;
    const chain = chains.get(action.domain) ?? [];
    chain.push(action);
    chains.set(action.domain, chain);
  }
  const runChain = async (actions: PlanAction[]) => {
    for (const action of actions) {
      await writeAction(tx, action, wantOf, liveOf(action), live, fresh, after, options);
    }
  };
  const isDriver = (name: string) =>
    (wantOf(name)?.driverDomain ?? false) ||
    live.domains.some((d) => d.name === name && d.driverDomain);
  const names = [...chains.keys()];
  await Promise.all(names.filter(isDriver).map((n) => runChain(chains.get(n)!)));
  await Promise.all(names.filter((n) => !isDriver(n)).map((n) => runChain(chains.get(n)!)));
  return after;
}

async function writeAction(
  tx: Transaction,
  action: PlanAction,
  wantOf: (name: string) => NormalizedDomain | undefined,
  have: LiveDomain | undefined,
  live: LiveState,
  fresh: ReadonlyMap<string, NewDomain>,
  after: AfterCommit,
  options: WriteOptions,
): Promise<void> {
  if (action.device !== undefined) {
    await deviceAction(tx, action, wantOf(action.domain)!, have!, live, fresh, after);
    return;
  }
  if ((action.kind === "remove" || action.kind === "replace") && have !== undefined) {
    await removeDomain(tx, have, after);
  }
  if (action.kind === "create" || action.kind === "replace") {
    await createDomain(tx, fresh.get(action.domain)!, live, fresh, after, options);
  }
  if (action.kind === "update" && have !== undefined) {
    const want = wantOf(action.domain)!;
    for (const change of action.changes) {
      // libxl_set_memory_target and libxl_set_vcpuonline, in this transaction.
      if (change.path === "memory") {
        await setMemoryTarget(tx, have.domid, { targetKb: want.targetMemKb });
      }
      if (change.path === "vcpus") {
        await setVcpusOnline(tx, have.domid, { vcpus: want.vcpusOnline });
      }
    }
  }
}
