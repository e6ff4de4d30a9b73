/**
 * Virtual TPMs (`libxl_vtpm.c` `libxl__set_xenstore_vtpm`).
 *
 * @module
 */

import type { DeviceBaseOptions, DeviceSpec } from "../device.ts";
import { makeDeviceSpec } from "../device.ts";
import { DeviceConfigError } from "../errors.ts";
import { checkUuid } from "../paths.ts";
import { base, devidOf } from "./_fields.ts";

/** Options of {@linkcode vtpm}. */
export interface VtpmOptions extends DeviceBaseOptions {
  /** The device id (also `handle`). */
  devid: number;
  /** The vTPM's uuid. */
  uuid: string;
}

/**
 * A vTPM: backend `handle`, `uuid` and the literal `resume=False`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vtpm } from "./vtpm.ts";
 * const t = vtpm({ domid: 1, devid: 0, backendDomid: 2, uuid: "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b" });
 * assert.deepEqual(t.back.at(-1), ["resume", "False"]);
 * ```
 */
export function vtpm(options: VtpmOptions): DeviceSpec {
  const { o, domid, backendDomid } = base("vtpm", options);
  const devid = devidOf("vtpm", o);
  let uuid: string;
  try {
    uuid = checkUuid(o.uuid as string);
  } catch (e) {
    throw new DeviceConfigError("vtpm", "uuid", (e as Error).message);
  }
  return makeDeviceSpec({
    domid,
    kind: "vtpm",
    devid,
    backendDomid,
    backendKind: "vtpm",
    back: [["handle", String(devid)], ["uuid", uuid], ["resume", "False"]],
    front: [["handle", String(devid)]],
  });
}
