/**
 * Virtual framebuffers (`libxl_console.c` `libxl__set_xenstore_vfb`), served by QEMU.
 *
 * @module
 */

import type { DeviceBaseOptions, DeviceSpec } from "../device.ts";
import { makeDeviceSpec } from "../device.ts";
import { base, devidOf, flag, int, optText } from "./_fields.ts";

/** Options of {@linkcode vfb}. */
export interface VfbOptions extends DeviceBaseOptions {
  /** The device id. */
  devid: number;
  /** `vnc`. @default {true} */
  vnc?: boolean;
  /** `vnclisten`. @default {"127.0.0.1"} */
  vncListen?: string;
  /** `vncpasswd`, written only when set. */
  vncPasswd?: string;
  /** `vncdisplay`. @default {0} */
  vncDisplay?: number;
  /** `vncunused`: pick a free display. @default {true when vnc is on} */
  vncUnused?: boolean;
  /** `sdl`. @default {false} */
  sdl?: boolean;
  /** `opengl`. @default {false} */
  opengl?: boolean;
  /** `xauthority`, written only when set. */
  xauthority?: string;
  /** `display`, written only when set. */
  display?: string;
}

/**
 * A framebuffer with libxl's backend keys.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vfb } from "./vfb.ts";
 * assert.equal(
 *   vfb({ domid: 1, devid: 0 }).back.map(([k]) => k).slice(3).join(","),
 *   "vnc,vnclisten,vncdisplay,vncunused,sdl,opengl",
 * );
 * ```
 */
export function vfb(options: VfbOptions): DeviceSpec {
  const { o, domid, backendDomid } = base("vfb", options);
  const devid = devidOf("vfb", o);
  const vnc = flag("vfb", "vnc", o.vnc, true);
  const back: [string, string][] = [
    ["vnc", vnc ? "1" : "0"],
    ["vnclisten", optText("vfb", "vncListen", o.vncListen) ?? "127.0.0.1"],
  ];
  const passwd = optText("vfb", "vncPasswd", o.vncPasswd);
  if (passwd !== undefined) back.push(["vncpasswd", passwd]);
  back.push(
    [
      "vncdisplay",
      String(int("vfb", "vncDisplay", o.vncDisplay, { min: 0, max: 65535, fallback: 0 })),
    ],
    ["vncunused", flag("vfb", "vncUnused", o.vncUnused, vnc) ? "1" : "0"],
    ["sdl", flag("vfb", "sdl", o.sdl, false) ? "1" : "0"],
    ["opengl", flag("vfb", "opengl", o.opengl, false) ? "1" : "0"],
  );
  const xauthority = optText("vfb", "xauthority", o.xauthority);
  if (xauthority !== undefined) back.push(["xauthority", xauthority]);
  const display = optText("vfb", "display", o.display);
  if (display !== undefined) back.push(["display", display]);
  return makeDeviceSpec({ domid, kind: "vfb", devid, backendDomid, backendKind: "vfb", back });
}
