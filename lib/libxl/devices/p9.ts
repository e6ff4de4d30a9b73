/**
 * 9pfs shares (`libxl_9pfs.c` `libxl__set_xenstore_p9`).
 *
 * @module
 */

import type { DeviceBaseOptions, DeviceSpec } from "../device.ts";
import { makeDeviceSpec } from "../device.ts";
import { base, choice, devidOf, flag, int, nonEmpty } from "./_fields.ts";

/** Options of {@linkcode p9}. */
export interface P9Options extends DeviceBaseOptions {
  /** The device id. */
  devid: number;
  /** The mount tag the guest sees (`tag`, a frontend key). */
  tag: string;
  /** The shared directory in the backend domain (`path`). */
  path: string;
  /** `security_model`. @default {"none"} */
  securityModel?: string;
  /** `qemu` (backend kind `9pfs`) or `xen_9pfsd` (kind `xen_9pfs`). @default {"qemu"} */
  type?: "qemu" | "xen_9pfsd";
  /** xen-9pfsd only: `max-space` in MiB. @default {0} */
  maxSpace?: number;
  /** xen-9pfsd only: `max-files`. @default {0} */
  maxFiles?: number;
  /** xen-9pfsd only: `max-open-files`. @default {0} */
  maxOpenFiles?: number;
  /** xen-9pfsd only: `auto-delete`. @default {false} */
  autoDelete?: boolean;
}

/**
 * A 9pfs share.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { p9 } from "./p9.ts";
 * const share = p9({ domid: 1, devid: 0, tag: "share", path: "/srv/share" });
 * assert.equal(share.kind, "9pfs");
 * assert.equal(share.backendKind, "9pfs");
 * ```
 */
export function p9(options: P9Options): DeviceSpec {
  const { o, domid, backendDomid } = base("9pfs", options);
  const devid = devidOf("9pfs", o);
  const type = choice("9pfs", "type", o.type, ["qemu", "xen_9pfsd"] as const, "qemu");
  const back: [string, string][] = [
    ["path", nonEmpty("9pfs", "path", o.path)],
    [
      "security_model",
      o.securityModel === undefined ? "none" : nonEmpty("9pfs", "securityModel", o.securityModel),
    ],
  ];
  const tag = nonEmpty("9pfs", "tag", o.tag);
  const count = { min: 0, max: 0xffffffff, fallback: 0 };
  if (type === "xen_9pfsd") {
    back.push(
      ["max-space", String(int("9pfs", "maxSpace", o.maxSpace, count))],
      ["max-files", String(int("9pfs", "maxFiles", o.maxFiles, count))],
      ["max-open-files", String(int("9pfs", "maxOpenFiles", o.maxOpenFiles, count))],
      ["auto-delete", flag("9pfs", "autoDelete", o.autoDelete, false) ? "1" : "0"],
    );
  }
  return makeDeviceSpec({
    domid,
    kind: "9pfs",
    devid,
    backendDomid,
    backendKind: type === "qemu" ? "9pfs" : "xen_9pfs",
    back,
    front: [["tag", tag]],
  });
}
