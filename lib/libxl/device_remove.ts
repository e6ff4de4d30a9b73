/**
 * Removing devices (`libxl__initiate_device_generic_remove`, `libxl__device_destroy`): ask
 * the backend to close, wait for Closed, then remove the frontend, the `/libxl` record and
 * the backend, with their emptied ancestors. Only paths from the `/libxl` record are used.
 *
 * @module
 */

import type { Transaction, XenstoreOps } from "../client/types.ts";
import type { DeviceRef } from "./device_add.ts";
import type { DeviceRecord } from "./device_list.ts";
import { readDeviceRecord } from "./device_list.ts";
import { describeDevice } from "./device.ts";
import { DeviceNotFoundError, XenbusTimeoutError } from "./errors.ts";
import { parentPath, validatePath } from "../protocol/path.ts";
import type { LibxlStore, Target, TransactionalOptions } from "./store.ts";
import { inTransaction, listIfPresent, rmIfPresent } from "./store.ts";
import { XenbusState } from "./xenbus_state.ts";
import type { WaitForStateOptions } from "./xenbus_wait.ts";
import { waitForXenbusState } from "./xenbus_wait.ts";

/**
 * Removes `path` (a missing node is fine), then each ancestor that has an empty value and no
 * children, up to the root — `libxl__xs_path_cleanup`. Only ever given the paths of a
 * `/libxl` record (checked by `readDeviceRecord`); an ancestor goes only once nothing is left
 * in it, so no node anyone else wrote can be removed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { pathCleanup } from "./device_remove.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * await xs.write("/tool/dxl/a/b/c", "1");
 * await xs.transaction((tx) => pathCleanup(tx, "/tool/dxl/a/b/c"));
 * assert.equal(await xs.exists("/tool/dxl/a"), false, "emptied parents went too");
 * assert.equal(await xs.exists("/tool"), true, "/tool has a value: kept");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function pathCleanup(ops: XenstoreOps, path: string): Promise<void> {
  if (!validatePath(path).startsWith("/") || path === "/") {
    throw new RangeError(`pathCleanup: "${path}" is not an absolute path below /`);
  }
  await rmIfPresent(ops, path);
  for (let current = parentPath(path); current !== undefined && current !== "/";) {
    if ((await ops.tryRead(current)) !== "") return;
    if ((await listIfPresent(ops, current)).length > 0) return;
    await rmIfPresent(ops, current);
    current = parentPath(current);
  }
}

/**
 * Removes a recorded device's frontend, `/libxl` record and backend, each with its emptied
 * ancestors, in one transaction (`libxl__device_destroy`). No state handshake: see
 * {@linkcode removeDevice} and {@linkcode destroyDevice}.
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
 * import { readDeviceRecord } from "./device_list.ts";
 * import { cleanupDevice } from "./device_remove.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536 });
 * await addDevice(xs, vif({ domid, devid: 0 }));
 * const rec = await readDeviceRecord(xs, { domid, kind: "vif", devid: 0 });
 * assert.ok(rec !== undefined);
 * await cleanupDevice(xs, rec);
 * assert.equal(await xs.exists(`/libxl/${domid}/device/vif`), false);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function cleanupDevice(
  target: Target,
  record: DeviceRecord,
  options: TransactionalOptions = {},
): Promise<void> {
  return inTransaction(target, async (tx) => {
    if (record.frontendPath !== undefined) {
      await pathCleanup(tx, record.frontendPath);
    }
    await pathCleanup(tx, record.libxlPath);
    if (record.backendPath !== undefined) {
      await pathCleanup(tx, record.backendPath);
    }
  }, options);
}

/** How removal treats a backend that does not close. */
export type ForceMode = "auto" | "never" | "always";

/** Options of {@linkcode removeDevice}. */
export interface RemoveDeviceOptions
  extends Omit<WaitForStateOptions, "alsoAccept" | "device" | "state"> {
  /**
   * `auto` (libxl's `*_remove`): on timeout, remove the frontend, ask again and wait once
   * more (libxl reruns the removal with force on), then clean up anyway.
   * `never` (`*_safe_remove`): on timeout, reject and leave everything in place.
   * `always` (`*_destroy`): remove the frontend at once, wait, then clean up whatever the
   * backend did.
   * @default {"auto"}
   */
  force?: ForceMode;
  /** Attempts for each transaction. @default {16} */
  attempts?: number;
  /**
   * Runs once the backend closed (or the wait gave up), before the xenstore cleanup: where
   * libxl runs the hotplug removal script (`device_hotplug` with `ACTION_REMOVE`), e.g.
   * `(record) => runHotplug(store, record, "remove")` from lib/xen. Not called for consoles,
   * vuarts and libxl-only records. A rejection stops the removal before the cleanup.
   * @default {nothing}
   */
  beforeCleanup?: (
    record: DeviceRecord,
    outcome: { closed: boolean; forced: boolean },
  ) => void | Promise<void>;
}

/** What a removal did. */
export interface RemoveResult {
  /** The record that was acted on. */
  record: DeviceRecord;
  /** True when the backend reached Closed (or was already gone). */
  closed: boolean;
  /** True when the frontend was removed before the backend closed. */
  forced: boolean;
}

async function requestClose(
  tx: Transaction,
  record: DeviceRecord,
  force: boolean,
): Promise<boolean> {
  const be = record.backendPath as string;
  if (force && record.frontendPath !== undefined) {
    await pathCleanup(tx, record.frontendPath);
  }
  const state = await tx.tryRead(`${be}/state`);
  if (state === undefined) return false;
  await tx.write(`${be}/online`, "0");
  if (state !== String(XenbusState.Closed)) await tx.write(`${be}/state`, "5");
  return true;
}

/**
 * Removes a device the toolstack recorded, following libxl's protocol: in one transaction
 * write `online=0` and `state=5` (Closing) to the backend named by the `/libxl` record; wait
 * (one watch, with a timeout) for the backend's `state=6` (Closed); then clean up the
 * frontend, the record and the backend. A missing backend `state` means the backend is
 * gone: clean up at once. Rejects with `DeviceNotFoundError` when `/libxl` has no (valid)
 * record, and — only in `never` mode — with `XenbusTimeoutError` when the backend does not
 * close in time. Consoles and vuarts have no such handshake (xenconsoled does not answer
 * it): they are removed by {@linkcode cleanupDevice} alone, as libxl's
 * `libxl__devices_destroy` does, whatever `force` says.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 * import { makeDomain } from "./domain_create.ts";
 * import { addDevice } from "./device_add.ts";
 * import { vbd } from "./devices/vbd.ts";
 * import { removeDevice } from "./device_remove.ts";
 * import { SimulatedBackend } from "./sim_backend.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536 });
 * await using _driver = await SimulatedBackend.start(xs);
 * await addDevice(xs, vbd({ domid, vdev: "xvda", target: "/dev/vg/web" }));
 * const result = await removeDevice(xs, { domid, kind: "vbd", devid: 51712 }, { timeoutMs: 10_000 });
 * assert.equal(result.closed, true);
 * assert.equal(await xs.exists(`/local/domain/0/backend/vbd/${domid}`), false);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function removeDevice(
  store: LibxlStore,
  device: DeviceRef,
  options: RemoveDeviceOptions = {},
): Promise<RemoveResult> {
  const force = options.force ?? "auto";
  const txOptions: TransactionalOptions = {};
  if (options.attempts !== undefined) txOptions.attempts = options.attempts;
  if (options.signal !== undefined) txOptions.signal = options.signal;
  const record = await inTransaction(store, (tx) => readDeviceRecord(tx, device), txOptions);
  if (record === undefined) {
    throw new DeviceNotFoundError(`/libxl/${device.domid}/device/${device.kind}/${device.devid}`);
  }
  if (record.backendPath === undefined) {
    await cleanupDevice(store, record, txOptions);
    return { record, closed: true, forced: false };
  }
  if (record.kind === "console" || record.kind === "vuart") {
    await cleanupDevice(store, record, txOptions);
    return { record, closed: false, forced: true };
  }
  const { force: _force, attempts: _attempts, beforeCleanup, ...wait } = options;
  const waitClosed = async (): Promise<boolean> => {
    try {
      await waitForXenbusState(store, `${record.backendPath}/state`, {
        ...wait,
        state: XenbusState.Closed,
        device: describeDevice(record),
      });
      return true;
    } catch (error) {
      if (!(error instanceof XenbusTimeoutError) || options.signal?.aborted) throw error;
      if (force === "never") throw error;
      return false;
    }
  };
  const close = (forceNow: boolean) =>
    inTransaction(store, (tx) => requestClose(tx, record, forceNow), txOptions);
  let forced = force === "always";
  let closed = !(await close(forced)) || (await waitClosed());
  if (!closed && force === "auto") {
    forced = true;
    closed = !(await close(true)) || (await waitClosed());
  }
  await beforeCleanup?.(record, { closed, forced });
  await cleanupDevice(store, record, txOptions);
  return { record, closed, forced };
}

/**
 * The forced removal (libxl's `*_destroy`): removes the frontend together with
 * `online=0`/`state=5`, waits for Closed up to the timeout, then cleans up regardless.
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
 * import { destroyDevice } from "./device_remove.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536 });
 * await addDevice(xs, vif({ domid, devid: 0 }));
 * // No backend driver answers: the wait times out and everything is removed anyway.
 * const result = await destroyDevice(xs, { domid, kind: "vif", devid: 0 }, { timeoutMs: 10 });
 * assert.deepEqual([result.closed, result.forced], [false, true]);
 * assert.equal(await xs.exists(`/libxl/${domid}/device/vif/0`), false);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function destroyDevice(
  store: LibxlStore,
  device: DeviceRef,
  options: Omit<RemoveDeviceOptions, "force"> = {},
): Promise<RemoveResult> {
  return removeDevice(store, device, { ...options, force: "always" });
}
