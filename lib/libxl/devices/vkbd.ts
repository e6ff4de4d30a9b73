/**
 * Virtual keyboards and pointers (`libxl_vkb.c` `libxl__set_xenstore_vkb`).
 *
 * @module
 */

import type { DeviceBaseOptions, DeviceSpec } from "../device.ts";
import { makeDeviceSpec } from "../device.ts";
import { base, choice, devidOf, flag, int, object, optText } from "./_fields.ts";

/** Options of {@linkcode vkbd}. */
export interface VkbdOptions extends DeviceBaseOptions {
  /** The device id. */
  devid: number;
  /**
   * `qemu` (backend kind `vkbd`) or `linux` (the in-kernel backend, kind `vinput`).
   * @default {"qemu"}
   */
  backend?: "qemu" | "linux";
  /** `unique-id`. */
  uniqueId?: string;
  /** `feature-disable-keyboard=1`. @default {false} */
  featureDisableKeyboard?: boolean;
  /** `feature-disable-pointer=1`. @default {false} */
  featureDisablePointer?: boolean;
  /** `feature-abs-pointer=1`. @default {false} */
  featureAbsPointer?: boolean;
  /** `feature-raw-pointer=1`. @default {false} */
  featureRawPointer?: boolean;
  /** Multi-touch: writes `feature-multi-touch=1` and its three sizes. */
  multiTouch?: { width: number; height: number; numContacts: number };
  /** `width`, written when non-zero. @default {0} */
  width?: number;
  /** `height`, written when non-zero. @default {0} */
  height?: number;
}

/**
 * A virtual keyboard/pointer. Only true feature flags are written; libxl does not wait for
 * this backend after an add.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vkbd } from "./vkbd.ts";
 * const k = vkbd({ domid: 1, devid: 0, backend: "linux", uniqueId: "kbd0" });
 * assert.equal(k.kind, "vkbd");
 * assert.equal(k.backendKind, "vinput");
 * ```
 */
export function vkbd(options: VkbdOptions): DeviceSpec {
  const { o, domid, backendDomid } = base("vkbd", options);
  const devid = devidOf("vkbd", o);
  const backend = choice("vkbd", "backend", o.backend, ["qemu", "linux"] as const, "qemu");
  const back: [string, string][] = [];
  const uniqueId = optText("vkbd", "uniqueId", o.uniqueId);
  if (uniqueId !== undefined) back.push(["unique-id", uniqueId]);
  const flags = [
    ["featureDisableKeyboard", "feature-disable-keyboard"],
    ["featureDisablePointer", "feature-disable-pointer"],
    ["featureAbsPointer", "feature-abs-pointer"],
    ["featureRawPointer", "feature-raw-pointer"],
  ] as const;
  for (const [field, key] of flags) {
    if (flag("vkbd", field, o[field], false)) back.push([key, "1"]);
  }
  if (o.multiTouch !== undefined) {
    const mt = object("vkbd", o.multiTouch);
    const range = { min: 1, max: 0xffffffff };
    back.push(
      ["feature-multi-touch", "1"],
      ["multi-touch-width", String(int("vkbd", "multiTouch.width", mt.width, range))],
      ["multi-touch-height", String(int("vkbd", "multiTouch.height", mt.height, range))],
      [
        "multi-touch-num-contacts",
        String(int("vkbd", "multiTouch.numContacts", mt.numContacts, range)),
      ],
    );
  }
  const size = { min: 0, max: 0xffffffff, fallback: 0 };
  const width = int("vkbd", "width", o.width, size);
  const height = int("vkbd", "height", o.height, size);
  if (width !== 0) back.push(["width", String(width)]);
  if (height !== 0) back.push(["height", String(height)]);
  return makeDeviceSpec({
    domid,
    kind: "vkbd",
    devid,
    backendDomid,
    backendKind: backend === "qemu" ? "vkbd" : "vinput",
    back,
    waitsForBackend: false,
  });
}
