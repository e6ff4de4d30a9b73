/**
 * Where libxl keeps domains and devices in xenstore. Pure functions, no I/O.
 *
 * @module
 */

import type { DeviceKind } from "./device_kind.ts";
import { parseDeviceKind } from "./device_kind.ts";
import { checkDomid, DOMID_FIRST_RESERVED } from "../protocol/domid.ts";

// The one domain id check, with libxl's path helpers for the callers in this layer.
export { checkDomid, DOMID_FIRST_RESERVED };

/** The toolstack's own domain (`LIBXL_TOOLSTACK_DOMID`). */
export const TOOLSTACK_DOMID = 0;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Throws `RangeError` unless `devid` is a non-negative 31-bit integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkDevid } from "./paths.ts";
 * assert.equal(checkDevid(51712), 51712);
 * ```
 */
export function checkDevid(devid: number): number {
  if (!Number.isInteger(devid) || devid < 0 || devid > 0x7fffffff) {
    throw new RangeError(`devid must be an integer from 0 to ${0x7fffffff}, got ${devid}`);
  }
  return devid;
}

/**
 * Throws `TypeError` unless `uuid` is a lower-case RFC 4122 text UUID, as libxl prints them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkUuid } from "./paths.ts";
 * assert.equal(checkUuid("6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b"), "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b");
 * assert.throws(() => checkUuid("6E1A7B52-3C4D-4E5F-8A9B-0C1D2E3F4A5B"), TypeError);
 * ```
 */
export function checkUuid(uuid: string): string {
  if (typeof uuid !== "string" || !UUID.test(uuid)) {
    throw new TypeError(
      `uuid must be 36 lower-case characters like 6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b, got ${
        JSON.stringify(uuid)
      }`,
    );
  }
  return uuid;
}

/**
 * A domain's home, `/local/domain/<domid>` (`libxl__xs_get_dompath`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { domainPath } from "./paths.ts";
 * assert.equal(domainPath(3), "/local/domain/3");
 * ```
 */
export function domainPath(domid: number): string {
  return `/local/domain/${checkDomid(domid)}`;
}

/**
 * A domain's `/vm/<uuid>` directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vmPath } from "./paths.ts";
 * assert.equal(
 *   vmPath("6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b"),
 *   "/vm/6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
 * );
 * ```
 */
export function vmPath(uuid: string): string {
  return `/vm/${checkUuid(uuid)}`;
}

/**
 * The toolstack's private, dom0-only directory for a domain, `/libxl/<domid>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { libxlDomainPath } from "./paths.ts";
 * assert.equal(libxlDomainPath(3), "/libxl/3");
 * ```
 */
export function libxlDomainPath(domid: number): string {
  return `/libxl/${checkDomid(domid)}`;
}

/** The fields that locate a device in xenstore (`libxl__device`). */
export interface DeviceAddress {
  /** The guest (frontend) domain. */
  domid: number;
  /** The frontend kind: the name under `device/` and `/libxl/<domid>/device/`. */
  kind: DeviceKind;
  /** The device id. */
  devid: number;
  /** The domain running the backend. */
  backendDomid: number;
  /** The backend kind: the name under `backend/`. */
  backendKind: DeviceKind;
}

/**
 * The frontend directory: `~/device/<kind>/<devid>`, except console 0 (`~/console`) and vuart
 * (`~/vuart/<devid>`), as `libxl__device_frontend_path`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { frontendPath } from "./paths.ts";
 * assert.equal(frontendPath({ domid: 1, kind: "vbd", devid: 51712 }), "/local/domain/1/device/vbd/51712");
 * assert.equal(frontendPath({ domid: 1, kind: "console", devid: 0 }), "/local/domain/1/console");
 * ```
 */
export function frontendPath(device: Pick<DeviceAddress, "domid" | "kind" | "devid">): string {
  const home = domainPath(device.domid);
  const devid = checkDevid(device.devid);
  if (device.kind === "console" && devid === 0) return `${home}/console`;
  if (device.kind === "vuart") return `${home}/vuart/${devid}`;
  return `${home}/device/${device.kind}/${devid}`;
}

/**
 * The backend directory: `/local/domain/<backendDomid>/backend/<backendKind>/<domid>/<devid>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backendPath } from "./paths.ts";
 * assert.equal(
 *   backendPath({ domid: 1, devid: 51712, backendDomid: 0, backendKind: "qdisk" }),
 *   "/local/domain/0/backend/qdisk/1/51712",
 * );
 * // /local/domain/0/backend/qdisk/1/51712
 * ```
 */
export function backendPath(
  device: Pick<DeviceAddress, "domid" | "devid" | "backendDomid" | "backendKind">,
): string {
  return `${domainPath(device.backendDomid)}/backend/${device.backendKind}/${
    checkDomid(device.domid)
  }/${checkDevid(device.devid)}`;
}

/**
 * The toolstack's trusted record of a device: `/libxl/<domid>/device/<kind>/<devid>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { libxlDevicePath } from "./paths.ts";
 * assert.equal(libxlDevicePath({ domid: 1, kind: "vif", devid: 0 }), "/libxl/1/device/vif/0");
 * ```
 */
export function libxlDevicePath(device: Pick<DeviceAddress, "domid" | "kind" | "devid">): string {
  return `${libxlDomainPath(device.domid)}/device/${device.kind}/${checkDevid(device.devid)}`;
}

/** What {@linkcode parseBackendPath} extracts. */
export interface ParsedBackendPath {
  /** The domain running the backend. */
  backendDomid: number;
  /** The backend kind. */
  backendKind: DeviceKind;
  /** The frontend domain. */
  domid: number;
  /** The device id. */
  devid: number;
}

const BACKEND =
  /^\/local\/domain\/(0|[1-9][0-9]*)\/backend\/([^/]+)\/(0|[1-9][0-9]*)\/(0|[1-9][0-9]*)$/;

/**
 * Parses a backend path of exactly the shape
 * `/local/domain/<n>/backend/<kind>/<domid>/<devid>` (decimal numbers without leading zeros,
 * a known kind, ids in range); returns `undefined` for anything else. Stricter than libxl's
 * `sscanf`, which accepts trailing text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBackendPath } from "./paths.ts";
 * assert.equal(parseBackendPath("/local/domain/0/backend/vbd/1/51712")?.devid, 51712);
 * assert.equal(parseBackendPath("/local/domain/0/backend/vbd/1/51712/x"), undefined);
 * ```
 */
export function parseBackendPath(path: string): ParsedBackendPath | undefined {
  if (typeof path !== "string") return undefined;
  const m = BACKEND.exec(path);
  if (m === null) return undefined;
  const backendKind = m[2] === undefined ? undefined : parseDeviceKind(m[2]);
  if (backendKind === undefined || backendKind !== m[2]) return undefined;
  const backendDomid = Number(m[1]);
  const domid = Number(m[3]);
  const devid = Number(m[4]);
  if (backendDomid >= DOMID_FIRST_RESERVED || domid >= DOMID_FIRST_RESERVED || devid > 0x7fffffff) {
    return undefined;
  }
  return { backendDomid, backendKind, domid, devid };
}
