/**
 * Finding a domain by name or id, a nic by MAC and a disk by its guest name, reading only the
 * toolstack's `/libxl` records (XSA-175): what xl resolves before acting on them.
 *
 * @module
 */

import type { DeviceRecord } from "./device_list.ts";
import { listDevices, readDeviceRecord } from "./device_list.ts";
import { listDomains } from "./domain.ts";
import { DeviceConfigError, DomainNotFoundError } from "./errors.ts";
import { checkDomid, DOMID_FIRST_RESERVED, libxlDomainPath } from "./paths.ts";
import type { Target, TransactionalOptions } from "./store.ts";
import { inTransaction } from "./store.ts";
import { parseDiskName } from "./vdev.ts";

/**
 * The id of a domain named by id or name, as `libxl_domain_qualifier_to_domid` reads it: a
 * string of digits (or a number) is an id, anything else a name, matched against `~/name` of
 * the domains with a `/libxl/<domid>` record. An id must have such a record too (libxl does
 * not check; xl's commands then fail later). Rejects with {@linkcode DomainNotFoundError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { makeDomain } from "./domain_create.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 * import { resolveDomain } from "./lookup.ts";
 *
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536 });
 * assert.equal(await resolveDomain(xs, "web"), domid);
 * assert.equal(await resolveDomain(xs, String(domid)), domid);
 * await assert.rejects(resolveDomain(xs, "db"), { name: "DomainNotFoundError" });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function resolveDomain(
  target: Target,
  nameOrId: string | number,
  options: TransactionalOptions = {},
): Promise<number> {
  if (typeof nameOrId === "number") checkDomid(nameOrId);
  else if (typeof nameOrId !== "string" || nameOrId === "") {
    throw new TypeError(`a domain is named by its id or name, got ${JSON.stringify(nameOrId)}`);
  }
  return inTransaction(target, async (tx) => {
    if (typeof nameOrId === "number" || /^[0-9]+$/.test(nameOrId)) {
      const domid = Number(nameOrId);
      if (
        domid >= DOMID_FIRST_RESERVED || (await tx.tryRead(libxlDomainPath(domid))) === undefined
      ) {
        throw new DomainNotFoundError(domid);
      }
      return domid;
    }
    const found = (await listDomains(tx)).find((d) => d.name === nameOrId);
    if (found === undefined) throw new DomainNotFoundError(nameOrId);
    return found.domid;
  }, options);
}

/** `libxl__parse_mac`: six hex pairs separated by `:`; the bytes, or `undefined`. */
function macBytes(text: string): string | undefined {
  return /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text) ? text.toLowerCase() : undefined;
}

/** Options of {@linkcode findNicByMac}. */
export interface FindNicOptions extends TransactionalOptions {
  /** The MAC address, `xx:xx:xx:xx:xx:xx` (any case). */
  mac: string;
}

/**
 * The nic of domain `domid` with MAC `mac`, from the `mac` key of its `/libxl` record
 * (`libxl_mac_to_device_nic`), or `undefined`. Throws `DeviceConfigError` for a MAC that is
 * not six hex bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { vif } from "./devices/vif.ts";
 * import { makeDomain } from "./domain_create.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 * import { findNicByMac } from "./lookup.ts";
 *
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, {
 *   hypervisor, name: "web", maxMemKb: 65536,
 *   devices: (d) => [vif({ domid: d, devid: 0, mac: "00:16:3e:aa:bb:cc" })],
 * });
 * assert.equal((await findNicByMac(xs, domid, { mac: "00:16:3E:AA:BB:CC" }))?.devid, 0);
 * assert.equal(await findNicByMac(xs, domid, { mac: "00:16:3e:00:00:00" }), undefined);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function findNicByMac(
  target: Target,
  domid: number,
  options: FindNicOptions,
): Promise<DeviceRecord | undefined> {
  checkDomid(domid);
  const mac = typeof options?.mac === "string" ? macBytes(options.mac) : undefined;
  if (mac === undefined) {
    throw new DeviceConfigError(
      "vif",
      "mac",
      `${JSON.stringify(options?.mac)} is not six hex bytes separated by colons`,
    );
  }
  return inTransaction(target, async (tx) => {
    const nics = await listDevices(tx, domid, { kind: "vif" });
    return nics.find((nic) => macBytes(nic.keys.mac ?? "") === mac);
  }, options);
}

/** Options of {@linkcode findDiskByVdev}. */
export interface FindDiskOptions extends TransactionalOptions {
  /** The guest's name for the disk (`xvda`, `hdc`, `sdb1`, `d0p1` or a number). */
  vdev: string;
}

/**
 * The disk of domain `domid` that the guest calls `vdev`: its `/libxl` record under the
 * devid the name encodes (`libxl_vdev_to_device_disk`), or `undefined`. Throws
 * `DeviceConfigError` for a name that is not a disk name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { vbd } from "./devices/vbd.ts";
 * import { makeDomain } from "./domain_create.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 * import { findDiskByVdev } from "./lookup.ts";
 *
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, {
 *   hypervisor, name: "web", maxMemKb: 65536,
 *   devices: (d) => [vbd({ domid: d, vdev: "xvda", target: "/dev/vg/web" })],
 * });
 * assert.equal((await findDiskByVdev(xs, domid, { vdev: "xvda" }))?.devid, 51712);
 * assert.equal(await findDiskByVdev(xs, domid, { vdev: "xvdb" }), undefined);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function findDiskByVdev(
  target: Target,
  domid: number,
  options: FindDiskOptions,
): Promise<DeviceRecord | undefined> {
  checkDomid(domid);
  const vdev = options?.vdev;
  const parsed = typeof vdev === "string" ? parseDiskName(vdev) : undefined;
  if (parsed === undefined) {
    throw new DeviceConfigError(
      "vbd",
      "vdev",
      `${JSON.stringify(vdev)} is not a virtual disk name (xvda, hdc, sdb1, d0p1 or an integer)`,
    );
  }
  return inTransaction(
    target,
    (tx) => readDeviceRecord(tx, { domid, kind: "vbd", devid: parsed.devid }),
    options,
  );
}
