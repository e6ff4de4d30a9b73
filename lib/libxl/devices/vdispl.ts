/**
 * Virtual displays (`libxl_vdispl.c` `libxl__set_xenstore_vdispl`).
 *
 * @module
 */

import type { DeviceBaseOptions, DeviceSpec } from "../device.ts";
import { makeDeviceSpec } from "../device.ts";
import { DeviceConfigError } from "../errors.ts";
import { base, devidOf, flag, int, nonEmpty, object } from "./_fields.ts";

/** One display connector. */
export interface VdisplConnector {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** `unique-id`. */
  uniqueId: string;
}

/** Options of {@linkcode vdispl}. */
export interface VdisplOptions extends DeviceBaseOptions {
  /** The device id. */
  devid: number;
  /** `be-alloc`: the backend allocates the buffers. @default {false} */
  beAlloc?: boolean;
  /** The connectors, at least one. */
  connectors: VdisplConnector[];
}

/**
 * A virtual display: `be-alloc` and each connector's `resolution` and `unique-id` are
 * read-only frontend keys.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vdispl } from "./vdispl.ts";
 * const d = vdispl({ domid: 1, devid: 0, connectors: [{ width: 1024, height: 768, uniqueId: "c0" }] });
 * assert.deepEqual(d.roFront, [["be-alloc", "0"], ["0/resolution", "1024x768"], ["0/unique-id", "c0"]]);
 * ```
 */
export function vdispl(options: VdisplOptions): DeviceSpec {
  const { o, domid, backendDomid } = base("vdispl", options);
  const devid = devidOf("vdispl", o);
  const beAlloc = flag("vdispl", "beAlloc", o.beAlloc, false);
  if (!Array.isArray(o.connectors) || o.connectors.length === 0) {
    throw new DeviceConfigError("vdispl", "connectors", "expected a non-empty array");
  }
  const roFront: [string, string][] = [["be-alloc", beAlloc ? "1" : "0"]];
  o.connectors.forEach((c: unknown, i: number) => {
    const conn = object("vdispl", c);
    const size = { min: 1, max: 0x7fffffff };
    const w = int("vdispl", `connectors[${i}].width`, conn.width, size);
    const h = int("vdispl", `connectors[${i}].height`, conn.height, size);
    roFront.push(
      [`${i}/resolution`, `${w}x${h}`],
      [`${i}/unique-id`, nonEmpty("vdispl", `connectors[${i}].uniqueId`, conn.uniqueId)],
    );
  });
  return makeDeviceSpec({
    domid,
    kind: "vdispl",
    devid,
    backendDomid,
    backendKind: "vdispl",
    roFront,
  });
}
