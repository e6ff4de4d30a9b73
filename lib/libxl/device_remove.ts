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
import { DeviceNotFoundError, XenbusTimeoutError } from "./errors.ts";
import { domainPath, libxlDomainPath } from "./paths.ts";
import type { LibxlStore, Target, TransactionalOptions } from "./store.ts";
import { inTransaction, listIfPresent, rmIfPresent } from "./store.ts";
import { XenbusState } from "./xenbus_state.ts";
import type { WaitForStateOptions } from "./xenbus_wait.ts";
import { waitForXenbusState } from "./xenbus_wait.ts";

/**
 * Removes `path` (a missing node is fine), then each ancestor that has an empty value and no
 * children, stopping at `stop` (never removed) — `libxl__xs_path_cleanup`, bounded so that it
 * cannot climb out of the device's own part of the tree.
 *
 * @example
 * ```ts ignore
 * import { pathCleanup } from "./device_remove.ts";
 * await xs.transaction((tx) => pathCleanup(tx, "/libxl/1/device/vif/0", "/libxl/1/device"));
 * ```
 */
export async function pathCleanup(ops: XenstoreOps, path: string, stop: string): Promise<void> {
  if (!path.startsWith(`${stop}/`)) {
    throw new RangeError(`pathCleanup: ${path} is not below ${stop}`);
  }
  await rmIfPresent(ops, path);
  let current = path.slice(0, path.lastIndexOf("/"));
  while (current.length > stop.length) {
    const value = await ops.tryRead(current);
    if (value !== "") return;
    if ((await listIfPresent(ops, current)).length > 0) return;
    await rmIfPresent(ops, current);
    current = current.slice(0, current.lastIndexOf("/"));
  }
}

/**
 * How far each cleanup may climb. libxl climbs to `/`; dxl stops below the domain's home,
 * below `/libxl/<domid>` and below the backend domain's `backend` directory, so that only
 * the device's own part of the tree can go. In practice the result is the same: `~` and
 * `/libxl/<domid>` always hold other nodes.
 */
function frontendStop(record: DeviceRecord): string {
  return domainPath(record.domid);
}

function backendStop(record: DeviceRecord): string {
  return `${domainPath(record.backendDomid)}/backend`;
}

/**
 * Removes a recorded device's frontend, `/libxl` record and backend, each with its emptied
 * ancestors, in one transaction (`libxl__device_destroy`). No state handshake: see
 * {@linkcode removeDevice} and {@linkcode destroyDevice}.
 *
 * @example
 * ```ts ignore
 * import { cleanupDevice } from "./device_remove.ts";
 * import { readDeviceRecord } from "./device_list.ts";
 * const rec = await readDeviceRecord(xs, { domid: 1, kind: "vif", devid: 0 });
 * if (rec) await cleanupDevice(xs, rec);
 * ```
 */
export function cleanupDevice(
  target: Target,
  record: DeviceRecord,
  options: TransactionalOptions = {},
): Promise<void> {
  return inTransaction(target, async (tx) => {
    if (record.frontendPath !== undefined) {
      await pathCleanup(tx, record.frontendPath, frontendStop(record));
    }
    await pathCleanup(tx, record.libxlPath, libxlDomainPath(record.domid));
    if (record.backendPath !== undefined) {
      await pathCleanup(tx, record.backendPath, backendStop(record));
    }
  }, options);
}

/** How removal treats a backend that does not close. */
export type ForceMode = "auto" | "never" | "always";

/** Options of {@linkcode removeDevice}. */
export interface RemoveDeviceOptions extends Omit<WaitForStateOptions, "alsoAccept"> {
  /**
   * `auto` (libxl's `*_remove`): on timeout, remove the frontend and clean up anyway.
   * `never` (`*_safe_remove`): on timeout, reject and leave everything in place.
   * `always` (`*_destroy`): remove the frontend at once, wait, then clean up whatever the
   * backend did.
   * @default {"auto"}
   */
  force?: ForceMode;
  /** Attempts for each transaction. @default {16} */
  attempts?: number;
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
    await pathCleanup(tx, record.frontendPath, frontendStop(record));
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
 * it): libxl removes them with {@linkcode cleanupDevice} alone, as `destroyDomain` does.
 *
 * @example
 * ```ts ignore
 * import { removeDevice } from "./device_remove.ts";
 * await removeDevice(xs, { domid: 1, kind: "vbd", devid: 51712 }, { timeoutMs: 10_000 });
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
  const forceNow = force === "always";
  const alive = await inTransaction(store, (tx) => requestClose(tx, record, forceNow), txOptions);
  let closed = !alive;
  let forced = forceNow;
  if (alive) {
    const waitOptions: WaitForStateOptions = {};
    if (options.timeoutMs !== undefined) waitOptions.timeoutMs = options.timeoutMs;
    if (options.signal !== undefined) waitOptions.signal = options.signal;
    if (options.delay !== undefined) waitOptions.delay = options.delay;
    if (options.now !== undefined) waitOptions.now = options.now;
    try {
      await waitForXenbusState(
        store,
        `${record.backendPath}/state`,
        XenbusState.Closed,
        waitOptions,
      );
      closed = true;
    } catch (error) {
      if (!(error instanceof XenbusTimeoutError) || force === "never") throw error;
      if (options.signal?.aborted) throw error;
      if (force === "auto") {
        await inTransaction(store, (tx) => requestClose(tx, record, true), txOptions);
        forced = true;
      }
    }
  }
  await cleanupDevice(store, record, txOptions);
  return { record, closed, forced };
}

/**
 * The forced removal (libxl's `*_destroy`): removes the frontend together with
 * `online=0`/`state=5`, waits for Closed up to the timeout, then cleans up regardless.
 *
 * @example
 * ```ts ignore
 * import { destroyDevice } from "./device_remove.ts";
 * await destroyDevice(xs, { domid: 1, kind: "vif", devid: 0 }, { timeoutMs: 1000 });
 * ```
 */
export function destroyDevice(
  store: LibxlStore,
  device: DeviceRef,
  options: Omit<RemoveDeviceOptions, "force"> = {},
): Promise<RemoveResult> {
  return removeDevice(store, device, { ...options, force: "always" });
}
