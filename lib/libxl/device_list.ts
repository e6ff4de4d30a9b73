/**
 * Enumerating a domain's devices from the toolstack's `/libxl` records only (XSA-175):
 * guest frontends and driver-domain backends are never consulted.
 *
 * @module
 */

import type { XenstoreOps } from "../client/types.ts";
import type { DeviceKind } from "./device_kind.ts";
import { isBackendKindOf, parseDeviceKind } from "./device_kind.ts";
import type { DeviceRef } from "./device_add.ts";
import { backendPath, frontendPath, libxlDevicePath, libxlDomainPath } from "./paths.ts";
import { parseBackendPath } from "./paths.ts";
import type { Target, TransactionalOptions } from "./store.ts";
import { inTransaction, listIfPresent } from "./store.ts";

/** A device as its `/libxl` record describes it. */
export interface DeviceRecord extends DeviceRef {
  /** The domain running the backend (the toolstack's domain for a libxl-only device). */
  backendDomid: number;
  /** The backend kind, or `none` for a device that exists only as a `/libxl` record. */
  backendKind: DeviceKind;
  /** The `/libxl` record. */
  libxlPath: string;
  /** The frontend directory, or `undefined` for a libxl-only device. */
  frontendPath: string | undefined;
  /** The backend directory, or `undefined` for a libxl-only device. */
  backendPath: string | undefined;
  /** The record's own keys (the copy of the backend keys), except the two pointers. */
  keys: Record<string, string>;
}

/**
 * Reads and checks one `/libxl` record; `undefined` when it is missing or malformed (a
 * `backend` that is not exactly `/local/domain/<n>/backend/<kind>/<domid>/<devid>` for this
 * device with a backend kind libxl pairs with its kind, or a `frontend` other than the
 * device's own frontend path).
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
 * import { readDeviceRecord } from "./device_list.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536 });
 * await addDevice(xs, vbd({ domid, vdev: "xvda", target: "/dev/vg/web" }));
 * const rec = await readDeviceRecord(xs, { domid, kind: "vbd", devid: 51712 });
 * assert.equal(rec?.backendPath, `/local/domain/0/backend/vbd/${domid}/51712`);
 * assert.equal(rec?.keys.params, "/dev/vg/web");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readDeviceRecord(
  ops: XenstoreOps,
  device: DeviceRef,
): Promise<DeviceRecord | undefined> {
  const ref: DeviceRef = { domid: device.domid, kind: device.kind, devid: device.devid };
  const libxlPath = libxlDevicePath(ref);
  const names = await listIfPresent(ops, libxlPath);
  if (names.length === 0 && (await ops.tryRead(libxlPath)) === undefined) return undefined;
  const keys: Record<string, string> = {};
  let fe: string | undefined;
  let be: string | undefined;
  const values = await Promise.all(names.map((name) => ops.tryRead(`${libxlPath}/${name}`)));
  for (const [i, name] of names.entries()) {
    const value = values[i];
    if (value === undefined) continue;
    if (name === "frontend") fe = value;
    else if (name === "backend") be = value;
    else keys[name] = value;
  }
  if (be === undefined && fe === undefined) {
    return {
      ...ref,
      backendDomid: 0,
      backendKind: "none",
      libxlPath,
      frontendPath: undefined,
      backendPath: undefined,
      keys,
    };
  }
  if (be === undefined || fe === undefined) return undefined;
  const parsed = parseBackendPath(be);
  if (
    parsed === undefined || parsed.domid !== ref.domid || parsed.devid !== ref.devid ||
    !isBackendKindOf(ref.kind, parsed.backendKind)
  ) {
    return undefined;
  }
  const address = { ...ref, backendDomid: parsed.backendDomid, backendKind: parsed.backendKind };
  if (fe !== frontendPath(address) || be !== backendPath(address)) return undefined;
  return { ...address, libxlPath, frontendPath: fe, backendPath: be, keys };
}

/** Options of {@linkcode listDevices}. */
export interface ListDevicesOptions extends TransactionalOptions {
  /** Only this kind. @default {every kind} */
  kind?: DeviceKind;
}

/**
 * Every device recorded under `/libxl/<domid>/device`, read in one transaction (the caller's
 * or its own) so the list is a consistent snapshot. Kinds and devids that do not parse, and
 * malformed records, are skipped, as `libxl__devices_destroy` skips them.
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
 * import { listDevices } from "./device_list.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536 });
 * await addDevice(xs, vif({ domid, devid: 0 }));
 * const kinds = (await listDevices(xs, domid)).map((d) => `${d.kind}/${d.devid}`);
 * assert.deepEqual(kinds, ["console/0", "vif/0"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function listDevices(
  target: Target,
  domid: number,
  options: ListDevicesOptions = {},
): Promise<DeviceRecord[]> {
  const root = `${libxlDomainPath(domid)}/device`;
  return inTransaction(target, async (tx) => {
    const kinds = options.kind === undefined ? await listIfPresent(tx, root) : [options.kind];
    const out: DeviceRecord[] = [];
    for (const kindName of kinds) {
      const kind = parseDeviceKind(kindName);
      if (kind === undefined || kind !== kindName) continue;
      const devids = await listIfPresent(tx, `${root}/${kind}`);
      for (const entry of devids) {
        if (!/^(0|[1-9][0-9]{0,9})$/.test(entry) || Number(entry) > 0x7fffffff) continue;
        const record = await readDeviceRecord(tx, { domid, kind, devid: Number(entry) });
        if (record !== undefined) out.push(record);
      }
    }
    return out;
  }, options);
}
