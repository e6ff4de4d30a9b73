/**
 * Adding devices (`libxl__device_generic_add` and its async callers), and the reads that
 * trust only the toolstack's `/libxl` record: `deviceExists`, `nextDeviceId`.
 *
 * @module
 */

import type { Transaction, XenstoreOps } from "../client/types.ts";
import { XenstoreError } from "../protocol/errors.ts";
import type { DeviceKind } from "./device_kind.ts";
import type { DeviceSpec } from "./device.ts";
import { describeDevice, isLibxlOnly } from "./device.ts";
import { DeviceExistsError } from "./errors.ts";
import { backendPath, checkDevid, checkDomid, libxlDevicePath, libxlDomainPath } from "./paths.ts";
import type { LibxlStore, Target, TransactionalOptions } from "./store.ts";
import { inTransaction, listIfPresent, pipelined } from "./store.ts";
import { XenbusState } from "./xenbus_state.ts";
import { checkUsbController } from "./_usb_check.ts";
import { sendDeviceWrites } from "./_device_writes.ts";
import type { WaitForStateOptions } from "./xenbus_wait.ts";
import { waitForXenbusState } from "./xenbus_wait.ts";

/** A device id and kind within a domain. */
export interface DeviceRef {
  /** The guest domain. */
  domid: number;
  /** The frontend kind. */
  kind: DeviceKind;
  /** The device id. */
  devid: number;
}

/**
 * A device whose devid is chosen inside the add transaction: {@linkcode nextDeviceId} for
 * `domid` and `kind`, then `build(devid)`.
 */
export interface DeviceFactory {
  /** The guest domain. */
  domid: number;
  /** The frontend kind. */
  kind: DeviceKind;
  /** Builds the device for the chosen devid. */
  build(devid: number): DeviceSpec;
}

/**
 * True when `/libxl/<domid>/device/<kind>/<devid>` exists (`libxl__device_exists`); guest and
 * backend directories are not consulted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 * import { makeDomain } from "./domain_create.ts";
 * import { addDevice, deviceExists } from "./device_add.ts";
 * import { vif } from "./devices/vif.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536 });
 * assert.equal(await deviceExists(xs, { domid, kind: "vif", devid: 0 }), false);
 * await addDevice(xs, vif({ domid, devid: 0 }));
 * assert.equal(await deviceExists(xs, { domid, kind: "vif", devid: 0 }), true);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function deviceExists(ops: XenstoreOps, device: DeviceRef): Promise<boolean> {
  return (await ops.tryRead(libxlDevicePath(device))) !== undefined;
}

/**
 * The next free devid of a kind: the highest recorded devid under
 * `/libxl/<domid>/device/<kind>` plus one, or 0 when there is none. (libxl takes the *last*
 * DIRECTORY entry plus one, which collides after a low devid is removed and re-added.)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 * import { makeDomain } from "./domain_create.ts";
 * import { addDevice, nextDeviceId } from "./device_add.ts";
 * import { vif } from "./devices/vif.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536 });
 * await addDevice(xs, vif({ domid, devid: 3 }));
 * assert.equal(await nextDeviceId(xs, { domid, kind: "vif" }), 4);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function nextDeviceId(
  ops: XenstoreOps,
  of: { domid: number; kind: DeviceKind },
): Promise<number> {
  const { domid, kind } = of;
  const entries = await listIfPresent(ops, `${libxlDomainPath(domid)}/device/${kind}`);
  let max = -1;
  for (const entry of entries) {
    if (!/^(0|[1-9][0-9]{0,9})$/.test(entry)) continue;
    const devid = Number(entry);
    if (devid <= 0x7fffffff && devid > max) max = devid;
  }
  return max + 1;
}

/** Options of {@linkcode addDevice}. */
export interface AddDeviceOptions extends TransactionalOptions {
  /**
   * Read the `/libxl` record first and fail if it exists. libxl's synchronous console add
   * (part of domain creation) skips this read; every other add does it.
   * @default {true}
   */
  checkExists?: boolean;
}

function isFactory(value: DeviceSpec | DeviceFactory): value is DeviceFactory {
  return typeof (value as DeviceFactory).build === "function";
}

/**
 * Adds a device in one transaction (the caller's, or its own retried on EAGAIN): fails with
 * {@linkcode DeviceExistsError} when `/libxl` already records it, then writes exactly what
 * libxl writes, in libxl's order: the `/libxl` record's `frontend` and `backend` pointers;
 * the frontend directory (RM, MKDIR, SET_PERMS), its `backend` pointer, each frontend key
 * with SET_PERMS to frontend permissions, each read-only key with SET_PERMS to read-only
 * permissions; the backend directory (RM, MKDIR, SET_PERMS), its `frontend` pointer and
 * keys; and the copy of the backend keys under `/libxl`. Returns the device added.
 *
 * The requests are pipelined (sent without waiting for each reply, in exactly this order).
 * When one fails, the ones after it have been sent too, so a failed add leaves a partial
 * device in the transaction: its own transaction is then aborted; in the caller's, the
 * rejection must abort it (as `transaction(fn)` does when `fn` throws) — never commit after
 * a failed add. libxl's own rule is the same: any failure inside its loop aborts. A `qusb` or
 * `devicemodel` USB controller is refused, with libxl's reason, for a guest whose device
 * model is not running.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 * import { makeDomain } from "./domain_create.ts";
 * import { addDevice } from "./device_add.ts";
 * import { vif } from "./devices/vif.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536 });
 * const nic = await addDevice(xs, { domid, kind: "vif", build: (devid) => vif({ domid, devid }) });
 * assert.equal(nic.devid, 0);
 * assert.equal(await xs.read(`/libxl/${domid}/device/vif/0/handle`), "0");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function addDevice(
  target: Target,
  device: DeviceSpec | DeviceFactory,
  options: AddDeviceOptions = {},
): Promise<DeviceSpec> {
  if (isFactory(device)) {
    checkDomid(device.domid);
  } else {
    checkDomid(device.domid);
    checkDevid(device.devid);
  }
  return inTransaction(target, async (tx) => {
    const spec = isFactory(device) ? device.build(await nextDeviceId(tx, device)) : device;
    if (isFactory(device) && (spec.domid !== device.domid || spec.kind !== device.kind)) {
      throw new TypeError(
        `build() returned a ${spec.kind} device of domain ${spec.domid}, ` +
          `expected ${device.kind} of domain ${device.domid}`,
      );
    }
    const record = libxlDevicePath(spec);
    if ((options.checkExists ?? true) && (await tx.tryRead(record)) !== undefined) {
      // A devid chosen as "highest + 1" that is already recorded means this transaction
      // read the directory before a concurrent add committed (xenstored reads untouched
      // nodes live): its commit would fail, so report the conflict and let it rerun.
      if (isFactory(device)) throw new XenstoreError("EAGAIN", "READ", { path: record });
      throw new DeviceExistsError(record);
    }
    await checkUsbController(tx, spec);
    await writeDevice(tx, spec);
    return spec;
  }, options);
}

/** The generic add's requests, pipelined (see `sendDeviceWrites`). */
function writeDevice(tx: Transaction, spec: DeviceSpec): Promise<void> {
  return pipelined((send) => sendDeviceWrites(tx, spec, send));
}

/**
 * Waits, as libxl does after an add (`libxl__wait_device_connection`), for the backend of a
 * device to reach InitWait (or any later state up to Connected); returns at once for devices
 * libxl does not wait on (QEMU backends, `vinput`, consoles). Rejects with
 * `XenbusTimeoutError` on timeout or abort.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 * import { makeDomain } from "./domain_create.ts";
 * import { addDevice, waitForBackend } from "./device_add.ts";
 * import { vif } from "./devices/vif.ts";
 * import { SimulatedBackend } from "./sim_backend.ts";
 * import { XenbusState } from "./xenbus_state.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536 });
 * await using _driver = await SimulatedBackend.start(xs);
 * const nic = await addDevice(xs, vif({ domid, devid: 0 }));
 * const state = await waitForBackend(xs, nic, { timeoutMs: 10_000 });
 * assert.ok(state !== undefined && state >= XenbusState.InitWait);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function waitForBackend(
  store: LibxlStore,
  spec: DeviceSpec,
  options: Omit<WaitForStateOptions, "alsoAccept" | "device" | "state"> = {},
): Promise<XenbusState | undefined> {
  if (!spec.waitsForBackend || isLibxlOnly(spec)) return undefined;
  return await waitForXenbusState(store, `${backendPath(spec)}/state`, {
    ...options,
    state: XenbusState.InitWait,
    device: describeDevice(spec),
    alsoAccept: [XenbusState.Initialised, XenbusState.Connected],
  });
}
