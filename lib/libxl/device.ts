/**
 * A device as libxl writes it: where it lives and the three key lists that
 * `libxl__device_generic_add` takes (backend keys, frontend keys, read-only frontend keys).
 * The typed builders in `devices/` produce these.
 *
 * @module
 */

import type { DeviceKind } from "./device_kind.ts";
import { QEMU_BACKEND_KINDS } from "./device_kind.ts";
import type { DeviceAddress } from "./paths.ts";
import { checkDevid, checkDomid } from "./paths.ts";

/** Ordered key/value pairs; keys may contain `/` (`port/1`, `0/resolution`). */
export type Entries = readonly (readonly [key: string, value: string])[];

/** A device ready for {@linkcode addDevice}: its address and its keys in libxl's order. */
export interface DeviceSpec extends DeviceAddress {
  /**
   * Backend keys (`bents`), written under the backend and copied under `/libxl`, after the
   * `frontend` pointer that the add writes itself.
   */
  readonly back: Entries;
  /** Frontend keys (`fents`), each SET_PERMS'd to frontend permissions after the write. */
  readonly front: Entries;
  /** Read-only frontend keys (`ro_fents`), owned by the backend, readable by the guest. */
  readonly roFront: Entries;
  /**
   * Whether libxl waits for the backend to reach InitWait after adding (false for QEMU
   * backends and the linux `vinput` backend).
   */
  readonly waitsForBackend: boolean;
}

/** The fields every builder takes. */
export interface DeviceBaseOptions {
  /** The guest (frontend) domain. */
  domid: number;
  /**
   * The domain running the backend.
   * @default {0}
   */
  backendDomid?: number;
}

/** Input to {@linkcode makeDeviceSpec}: a spec without the common keys. */
export interface DeviceSpecInput extends DeviceAddress {
  /** Backend keys after the common `frontend-id`, `online`, `state`. */
  back?: Entries;
  /** Frontend keys after the common `backend-id`, `state`. */
  front?: Entries;
  /** Read-only frontend keys. */
  roFront?: Entries;
  /** Leave out the common keys (console and pci lay theirs out themselves). @default {false} */
  raw?: boolean;
  /** Override the InitWait rule. @default {not a QEMU backend} */
  waitsForBackend?: boolean;
}

/**
 * Builds a {@linkcode DeviceSpec} with libxl's common keys (`libxl__device_add_async`):
 * backend `frontend-id`, `online=1`, `state=1` first, frontend `backend-id`, `state=1` first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeDeviceSpec } from "./device.ts";
 * const spec = makeDeviceSpec({
 *   domid: 1, kind: "vtpm", devid: 0, backendDomid: 0, backendKind: "vtpm",
 *   back: [["handle", "0"]], front: [["handle", "0"]],
 * });
 * assert.equal(spec.back.map(([k]) => k).join(","), "frontend-id,online,state,handle");
 * ```
 */
export function makeDeviceSpec(input: DeviceSpecInput): DeviceSpec {
  const domid = checkDomid(input.domid);
  const backendDomid = checkDomid(input.backendDomid, { what: "backendDomid" });
  const devid = checkDevid(input.devid);
  const raw = input.raw ?? false;
  const commonBack: Entries = raw
    ? []
    : [["frontend-id", String(domid)], ["online", "1"], ["state", "1"]];
  const commonFront: Entries = raw ? [] : [["backend-id", String(backendDomid)], ["state", "1"]];
  return {
    domid,
    kind: input.kind,
    devid,
    backendDomid,
    backendKind: input.backendKind,
    back: [...commonBack, ...(input.back ?? [])],
    front: [...commonFront, ...(input.front ?? [])],
    roFront: [...(input.roFront ?? [])],
    waitsForBackend: input.waitsForBackend ?? !QEMU_BACKEND_KINDS.has(input.backendKind),
  };
}

/**
 * True when the device exists only as a `/libxl` record (backend kind `none`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLibxlOnly } from "./device.ts";
 * assert.equal(isLibxlOnly({ backendKind: "none" }), true);
 * assert.equal(isLibxlOnly({ backendKind: "vbd" }), false);
 * ```
 */
export function isLibxlOnly(spec: Pick<DeviceSpec, "backendKind">): boolean {
  return spec.backendKind === ("none" satisfies DeviceKind);
}

/**
 * How errors name a device: its kind, devid and guest domain.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeDevice } from "./device.ts";
 * assert.equal(describeDevice({ domid: 1, kind: "vbd", devid: 51712 }), "vbd 51712 of domain 1");
 * ```
 */
export function describeDevice(device: Pick<DeviceSpec, "domid" | "kind" | "devid">): string {
  return `${device.kind} ${device.devid} of domain ${device.domid}`;
}
