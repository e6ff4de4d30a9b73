/**
 * The USB controllers libxl refuses for a guest without a running device model
 * (`libxl_usb.c`, Xen 4.17), checked when a controller is added.
 *
 * @module
 */

import type { Transaction } from "../client/types.ts";
import type { DeviceSpec } from "./device.ts";
import { DeviceConfigError } from "./errors.ts";
import { domainPath } from "./paths.ts";

/**
 * Refuses a `qusb` or `devicemodel` USB controller for a guest whose device model is not
 * running (`libxl__dm_active`: neither `~/image/device-model-pid` nor
 * `~/image/device-model-domid` exists). libxl: a qusb controller served from the toolstack
 * domain makes `libxl__dm_check_start` fail with "device model required but not running";
 * a devicemodel controller is added through QEMU's QMP `device_add`, which fails without one.
 * A `pv` controller (the kernel's usbback) needs none.
 */
export async function checkUsbController(tx: Transaction, spec: DeviceSpec): Promise<void> {
  if (spec.kind !== "vusb") return;
  const type = spec.back.find(([key]) => key === "type")?.[1];
  if (type !== "qusb" && type !== "devicemodel") return;
  if (type === "qusb" && spec.backendDomid !== 0) return; // dm_needed: backend in the toolstack domain
  const image = `${domainPath(spec.domid)}/image`;
  const [pid, dmDomid] = await Promise.all([
    tx.tryRead(`${image}/device-model-pid`),
    tx.tryRead(`${image}/device-model-domid`),
  ]);
  if (pid !== undefined || dmDomid !== undefined) return;
  throw new DeviceConfigError(
    "vusb",
    "type",
    type === "qusb"
      ? `device model required but not running: a qusb controller is served by QEMU, and domain ${spec.domid} has none`
      : `device model required but not running: a devicemodel controller is QEMU's (added by QMP device_add), and domain ${spec.domid} has none`,
  );
}
