/**
 * USB controllers (`libxl_usb.c` `libxl__device_usbctrl_add_xenstore`).
 *
 * @module
 */

import type { DeviceBaseOptions, DeviceSpec } from "../device.ts";
import { makeDeviceSpec } from "../device.ts";
import { DeviceConfigError } from "../errors.ts";
import { base, choice, devidOf, int } from "./_fields.ts";

/** Options of {@linkcode vusb}. */
export interface VusbOptions extends DeviceBaseOptions {
  /** The device id. */
  devid: number;
  /**
   * `pv` (backend kind `vusb`), `qusb` (QEMU's PV backend, kind `qusb`) or `devicemodel`
   * (emulated: only a `/libxl` record, backend kind `none`).
   * @default {"pv"}
   */
  type?: "pv" | "qusb" | "devicemodel";
  /** `usb-ver`: 1 or 2 for `pv` and `qusb`, up to 3 for `devicemodel`. @default {2} */
  version?: 1 | 2 | 3;
  /**
   * `num-ports`, and `port/1`..`port/N` written empty: 1..31 for `pv` and `qusb`; for
   * `devicemodel` always 2 (version 1), always 6 (version 2), up to 15 (version 3).
   * @default {8 (devicemodel: 2, 6 or 8 by version)}
   */
  ports?: number;
}

/**
 * A USB controller.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vusb } from "./vusb.ts";
 * const c = vusb({ domid: 1, devid: 0, ports: 2 });
 * assert.equal(c.back.map(([k]) => k).slice(3).join(","), "type,usb-ver,num-ports,port,port/1,port/2");
 * ```
 */
export function vusb(options: VusbOptions): DeviceSpec {
  const { o, domid, backendDomid } = base("vusb", options);
  const devid = devidOf("vusb", o);
  const type = choice("vusb", "type", o.type, ["pv", "qusb", "devicemodel"] as const, "pv");
  // libxl__device_usbctrl_setdefault's rules and words.
  const version = int("vusb", "version", o.version, { min: 1, max: 3, fallback: 2 });
  let ports: number;
  if (type === "devicemodel") {
    // QEMU's uhci (1) and ehci (2) have fixed port counts; xhci (3) up to 15.
    const fixed = version === 1 ? 2 : version === 2 ? 6 : undefined;
    ports = int("vusb", "ports", o.ports, { min: 1, max: 15, fallback: fixed ?? 8 });
    if (fixed !== undefined && ports !== fixed) {
      throw new DeviceConfigError(
        "vusb",
        "ports",
        `Number of ports for USB controller of version ${version} is always ${fixed}`,
      );
    }
  } else {
    if (version > 2) {
      throw new DeviceConfigError(
        "vusb",
        "version",
        "USB version for paravirtualized devices must be 1 or 2",
      );
    }
    ports = int("vusb", "ports", o.ports, { min: 1, max: 31, fallback: 8 });
  }
  const libxlOnly = type === "devicemodel";
  const back: [string, string][] = libxlOnly
    ? []
    : [["frontend-id", String(domid)], ["online", "1"], ["state", "1"]];
  back.push(["type", type], ["usb-ver", String(version)], ["num-ports", String(ports)], [
    "port",
    "",
  ]);
  for (let i = 1; i <= ports; i++) back.push([`port/${i}`, ""]);
  return makeDeviceSpec({
    domid,
    kind: "vusb",
    devid,
    backendDomid,
    backendKind: libxlOnly ? "none" : type === "pv" ? "vusb" : "qusb",
    back,
    front: libxlOnly ? [] : [["backend-id", String(backendDomid)], ["state", "1"]],
    raw: true,
  });
}
