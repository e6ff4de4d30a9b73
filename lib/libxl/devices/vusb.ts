/**
 * USB controllers (`libxl_usb.c` `libxl__device_usbctrl_add_xenstore`).
 *
 * @module
 */

import type { DeviceBaseOptions, DeviceSpec } from "../device.ts";
import { makeDeviceSpec } from "../device.ts";
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
  /** `usb-ver`. @default {2} */
  version?: 1 | 2 | 3;
  /** `num-ports`, and `port/1`..`port/N` written empty. @default {8} */
  ports?: number;
}

/**
 * A USB controller.
 *
 * @example
 * ```ts
 * import { vusb } from "./vusb.ts";
 * const c = vusb({ domid: 1, devid: 0, ports: 2 });
 * console.log(c.back.map(([k]) => k).slice(3).join(",")); // type,usb-ver,num-ports,port,port/1,port/2
 * ```
 */
export function vusb(options: VusbOptions): DeviceSpec {
  const { o, domid, backendDomid } = base("vusb", options);
  const devid = devidOf("vusb", o);
  const type = choice("vusb", "type", o.type, ["pv", "qusb", "devicemodel"] as const, "pv");
  const version = int("vusb", "version", o.version, { min: 1, max: 3, fallback: 2 });
  const ports = int("vusb", "ports", o.ports, { min: 1, max: 31, fallback: 8 });
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
