/**
 * Changing a cdrom's media (`xl cd-insert`, `xl cd-eject`): the xenstore side of
 * `libxl_cdrom_insert` (`libxl_disk.c`, Xen 4.17) — the drive emptied in one transaction,
 * then the new media written in another, to the backend and to the `/libxl` record.
 *
 * @module
 */

import type { Transaction } from "../client/types.ts";
import type { DeviceRecord } from "./device_list.ts";
import { listDevices } from "./device_list.ts";
import { text } from "./devices/_fields.ts";
import type { DiskFormat } from "./devices/vbd.ts";
import { DeviceConfigError, DeviceNotFoundError, DomainNotFoundError } from "./errors.ts";
import { checkDomid, libxlDevicePath, libxlDomainPath } from "./paths.ts";
import type { Target, TransactionalOptions } from "./store.ts";
import { inTransaction, isTransaction, pipelined } from "./store.ts";
import { parseDiskName } from "./vdev.ts";

/** Options of {@linkcode insertCdrom}. */
export interface InsertCdromOptions extends TransactionalOptions {
  /** The cdrom drive, as the guest names it (`hdc`); compared with the record's `dev`. */
  vdev: string;
  /** The image; `""` empties the drive (what {@linkcode ejectCdrom} does). */
  target: string;
  /** The image format. @default {"raw"} */
  format?: Exclude<DiskFormat, "empty">;
}

/** `libxl__device_disk_string_of_format`. */
const FORMAT_STRING: Record<Exclude<DiskFormat, "empty">, string> = {
  raw: "aio",
  qcow: "qcow",
  qcow2: "qcow2",
  vhd: "vhd",
  qed: "qed",
};

/** The drive's `/libxl` record, checked as `libxl_cdrom_insert` checks it. */
async function findDrive(tx: Transaction, domid: number, vdev: string): Promise<DeviceRecord> {
  const [type, record] = await Promise.all([
    tx.tryRead(`${libxlDomainPath(domid)}/type`),
    tx.tryRead(libxlDomainPath(domid)),
  ]);
  if (record === undefined) throw new DomainNotFoundError(domid);
  if (type !== "hvm") {
    throw new DeviceConfigError(
      "cdrom",
      "domid",
      `cdrom-insert requires an HVM domain (domain ${domid} is ${type ?? "of no type"})`,
    );
  }
  const disks = await listDevices(tx, domid, { kind: "vbd" });
  const drive = disks.find((d) => d.keys["device-type"] === "cdrom" && d.keys.dev === vdev);
  if (drive === undefined) {
    const devid = parseDiskName(vdev)!.devid;
    if (!disks.some((d) => d.devid === devid)) {
      throw new DeviceNotFoundError(libxlDevicePath({ domid, kind: "vbd", devid }));
    }
    throw new DeviceConfigError("cdrom", "vdev", `${vdev} of domain ${domid} is not a cdrom drive`);
  }
  // libxl__device_disk_setdefault: a cdrom of an HVM guest must be on qdisk.
  const backend = drive.keys.type ?? drive.backendKind;
  if (backend !== "qdisk" || drive.backendPath === undefined) {
    throw new DeviceConfigError(
      "cdrom",
      "vdev",
      `Backend for CD devices on HVM guests must be Qdisk (${vdev} is on ${backend})`,
    );
  }
  return drive;
}

/** One `libxl__xs_writev` pair to the backend and the record, after the sanity read. */
async function writeMedia(tx: Transaction, drive: DeviceRecord, params: string): Promise<void> {
  if ((await tx.tryRead(`${drive.libxlPath}/frontend`)) === undefined) {
    throw new DeviceNotFoundError(drive.libxlPath);
  }
  await pipelined((send) => {
    for (const base of [drive.backendPath!, drive.libxlPath]) {
      send(tx.write(`${base}/type`, "qdisk"));
      send(tx.write(`${base}/params`, params));
    }
  });
}

/**
 * Puts new media into an HVM guest's cdrom drive, as `xl cd-insert` (`libxl_cdrom_insert`):
 * the drive must be a cdrom recorded under `/libxl` (matched by its `dev`) on the qdisk
 * backend of an HVM domain. One transaction empties it (`type` and `params=""` on the
 * backend, then on the `/libxl` record), a second writes `params` = `<format>:<image>` (`aio:`
 * for raw) the same way — each after checking that the record's `frontend` still exists. In
 * the caller's transaction both happen in it. The QMP half (QEMU's `eject` and
 * `blockdev-change-medium`) is not done: dxl drives no QEMU.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { insertCdrom } from "./cdrom.ts";
 * import { vbd } from "./devices/vbd.ts";
 * import { makeDomain } from "./domain_create.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 *
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, {
 *   hypervisor, name: "win", type: "hvm", maxMemKb: 65536,
 *   devices: (d) => [vbd({ domid: d, vdev: "hdc", target: "", cdrom: true, backend: "qdisk" })],
 * });
 * await insertCdrom(xs, domid, { vdev: "hdc", target: "/srv/iso/debian.iso" });
 * const be = `/local/domain/0/backend/qdisk/${domid}/5632`;
 * assert.equal(await xs.read(`${be}/params`), "aio:/srv/iso/debian.iso");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function insertCdrom(
  target: Target,
  domid: number,
  options: InsertCdromOptions,
): Promise<void> {
  checkDomid(domid);
  const vdev = options?.vdev;
  if (typeof vdev !== "string" || parseDiskName(vdev) === undefined) {
    throw new DeviceConfigError(
      "cdrom",
      "vdev",
      `${JSON.stringify(vdev)} is not a virtual disk name (xvda, hdc, sdb1, d0p1 or an integer)`,
    );
  }
  const image = text("cdrom", "target", options.target);
  const format = options.format ?? "raw";
  if (!(format in FORMAT_STRING)) {
    throw new DeviceConfigError(
      "cdrom",
      "format",
      `expected one of ${Object.keys(FORMAT_STRING).map((f) => `"${f}"`).join(", ")}, got ${
        JSON.stringify(format)
      }`,
    );
  }
  const params = image === "" ? "" : `${FORMAT_STRING[format]}:${image}`;
  return changeMedia(target, domid, vdev, params, options);
}

/** Both of `libxl_cdrom_insert`'s transactions (or both in the caller's). */
async function changeMedia(
  target: Target,
  domid: number,
  vdev: string,
  params: string,
  options: TransactionalOptions,
): Promise<void> {
  if (isTransaction(target)) {
    const drive = await findDrive(target, domid, vdev);
    await writeMedia(target, drive, "");
    await writeMedia(target, drive, params);
    return;
  }
  const drive = await inTransaction(target, async (tx) => {
    const found = await findDrive(tx, domid, vdev);
    await writeMedia(tx, found, "");
    return found;
  }, options);
  await inTransaction(target, (tx) => writeMedia(tx, drive, params), options);
}

/** Options of {@linkcode ejectCdrom}. */
export interface EjectCdromOptions extends TransactionalOptions {
  /** The cdrom drive, as the guest names it (`hdc`). */
  vdev: string;
}

/**
 * Empties an HVM guest's cdrom drive, as `xl cd-eject` (which is `xl cd-insert` with an empty
 * target): {@linkcode insertCdrom} with `target: ""`, so `params` becomes `""` on the backend
 * and the `/libxl` record.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { ejectCdrom } from "./cdrom.ts";
 * import { vbd } from "./devices/vbd.ts";
 * import { makeDomain } from "./domain_create.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 *
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, {
 *   hypervisor, name: "win", type: "hvm", maxMemKb: 65536,
 *   devices: (d) => [vbd({ domid: d, vdev: "hdc", target: "/a.iso", cdrom: true, backend: "qdisk" })],
 * });
 * await ejectCdrom(xs, domid, { vdev: "hdc" });
 * assert.equal(await xs.read(`/libxl/${domid}/device/vbd/5632/params`), "");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function ejectCdrom(
  target: Target,
  domid: number,
  options: EjectCdromOptions,
): Promise<void> {
  return insertCdrom(target, domid, { ...options, target: "" });
}
