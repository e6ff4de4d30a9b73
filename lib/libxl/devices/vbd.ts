/**
 * Virtual block devices (`libxl_disk.c` `device_disk_add`): the `phy`, `tap` (vbd3) and
 * `qdisk` backends.
 *
 * @module
 */

import type { DeviceBaseOptions, DeviceSpec } from "../device.ts";
import { makeDeviceSpec } from "../device.ts";
import { DeviceConfigError } from "../errors.ts";
import { parseDiskName } from "../vdev.ts";
import { base, choice, flag, forbid, nonEmpty, optText, text } from "./_fields.ts";

/** Where libxl finds hotplug scripts (`libxl__xen_script_dir_path`). */
export const XEN_SCRIPT_DIR = "/etc/xen/scripts";

/** Disk image formats. */
export type DiskFormat = "raw" | "qcow" | "qcow2" | "vhd" | "qed" | "empty";

/** Options of {@linkcode vbd}. */
export interface VbdOptions extends DeviceBaseOptions {
  /** The guest's name for the disk (`xvda`, `hdc`, `sdb1`, `d0p1` or a number). */
  vdev: string;
  /** The image or device (`/dev/loop0`, `/srv/disk.img`); may be empty only for a cdrom. */
  target: string;
  /**
   * The backend: `phy` (blkback, backend kind `vbd`), `tap` (kind `vbd3`) or `qdisk` (QEMU).
   * @default {"phy"}
   */
  backend?: "phy" | "tap" | "qdisk";
  /** The image format. @default {"raw" ("empty" for a cdrom without target)} */
  format?: DiskFormat;
  /** Writable (`mode=w`) or read-only (`mode=r`). @default {true, false for a cdrom} */
  readwrite?: boolean;
  /** A cdrom (`device-type=cdrom`). @default {false} */
  cdrom?: boolean;
  /** `removable`. @default {true for a cdrom, else false} */
  removable?: boolean;
  /** The hotplug script, relative to {@linkcode XEN_SCRIPT_DIR} or absolute. @default {"block" or "block-tap"} */
  script?: string;
  /** `discard-enable`. @default {true when writable and not a cdrom} */
  discardEnable?: boolean;
  /** Write `direct-io-safe=1`. @default {false} */
  directIoSafe?: boolean;
  /** The frontend's `trusted` flag. @default {true} */
  trusted?: boolean;
  /**
   * The frontend `protocol` key (libxl writes the native ABI for PV guests); `false` leaves it
   * out, as for HVM and PVH guests.
   * @default {"x86_64-abi"}
   */
  protocol?: string | false;
}

const FORMAT_PREFIX: Record<DiskFormat, string> = {
  raw: "aio",
  empty: "aio",
  qcow: "qcow",
  qcow2: "qcow2",
  vhd: "vhd",
  qed: "qed",
};

/**
 * A virtual block device with libxl's keys in libxl's order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vbd } from "./vbd.ts";
 * const disk = vbd({ domid: 1, vdev: "xvdb", target: "/dev/loop0" });
 * assert.equal(disk.devid, 51728);
 * assert.equal(disk.backendKind, "vbd");
 * ```
 */
export function vbd(options: VbdOptions): DeviceSpec {
  const { o, domid, backendDomid } = base("vbd", options);
  const vdev = nonEmpty("vbd", "vdev", o.vdev);
  const parsed = parseDiskName(vdev);
  if (parsed === undefined) {
    throw new DeviceConfigError(
      "vbd",
      "vdev",
      `${JSON.stringify(vdev)} is not a virtual disk name (xvda, hdc, sdb1, d0p1 or an integer)`,
    );
  }
  const backend = choice("vbd", "backend", o.backend, ["phy", "tap", "qdisk"] as const, "phy");
  const cdrom = flag("vbd", "cdrom", o.cdrom, false);
  const target = text("vbd", "target", o.target);
  const format = choice(
    "vbd",
    "format",
    o.format,
    ["raw", "qcow", "qcow2", "vhd", "qed", "empty"] as const,
    cdrom && target === "" ? "empty" : "raw",
  );
  if (format === "empty" && !cdrom) {
    throw new DeviceConfigError("vbd", "format", '"empty" is only for a cdrom');
  }
  if (target === "" && format !== "empty") {
    throw new DeviceConfigError("vbd", "target", "must name an image or device");
  }
  if (backend === "phy" && format !== "raw" && format !== "empty") {
    throw new DeviceConfigError("vbd", "format", `the phy backend takes raw images, not ${format}`);
  }
  if (backend === "tap" && format !== "raw" && format !== "vhd") {
    throw new DeviceConfigError("vbd", "format", `the tap backend takes raw or vhd, not ${format}`);
  }
  const readwrite = flag("vbd", "readwrite", o.readwrite, !cdrom);
  if (cdrom && readwrite) throw new DeviceConfigError("vbd", "readwrite", "a cdrom is read-only");
  const removable = flag("vbd", "removable", o.removable, cdrom);
  const discard = flag("vbd", "discardEnable", o.discardEnable, readwrite && !cdrom);
  const directIoSafe = flag("vbd", "directIoSafe", o.directIoSafe, false);
  const trusted = flag("vbd", "trusted", o.trusted, true);
  const protocol = o.protocol === false
    ? undefined
    : optText("vbd", "protocol", o.protocol) ?? "x86_64-abi";
  if (backend === "qdisk") forbid("vbd", "script", o.script, "the qdisk backend runs no script");
  const script = optText("vbd", "script", o.script) ?? (backend === "tap" ? "block-tap" : "block");

  const back: [string, string][] = [];
  back.push(["params", backend === "phy" ? target : `${FORMAT_PREFIX[format]}:${target}`]);
  if (backend !== "qdisk") {
    back.push(["script", script.startsWith("/") ? script : `${XEN_SCRIPT_DIR}/${script}`]);
  }
  back.push(
    ["frontend-id", String(domid)],
    ["online", "1"],
    ["removable", removable ? "1" : "0"],
    ["bootable", "1"],
    ["state", "1"],
    ["dev", vdev],
    ["type", backend === "tap" ? "vbd3" : backend],
    ["mode", readwrite ? "w" : "r"],
    ["device-type", cdrom ? "cdrom" : "disk"],
  );
  if (directIoSafe) back.push(["direct-io-safe", "1"]);
  back.push(["discard-enable", discard ? "1" : "0"], ["specification", "xen"]);

  const front: [string, string][] = [
    ["backend-id", String(backendDomid)],
    ["state", "1"],
    ["virtual-device", String(parsed.devid)],
    ["device-type", cdrom ? "cdrom" : "disk"],
    ["trusted", trusted ? "1" : "0"],
  ];
  if (protocol !== undefined) front.push(["protocol", protocol]);

  return makeDeviceSpec({
    domid,
    kind: "vbd",
    devid: parsed.devid,
    backendDomid,
    backendKind: backend === "phy" ? "vbd" : backend === "tap" ? "vbd3" : "qdisk",
    back,
    front,
    raw: true,
  });
}
