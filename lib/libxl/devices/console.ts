/**
 * PV consoles (`libxl_console.c` `libxl__device_console_add`) and the vuart
 * (`libxl__device_vuart_add`).
 *
 * @module
 */

import type { DeviceBaseOptions, DeviceSpec } from "../device.ts";
import { makeDeviceSpec } from "../device.ts";
import { DeviceConfigError } from "../errors.ts";
import { base, choice, devidOf, int, optText, text } from "./_fields.ts";

/** `LIBXL_XENCONSOLE_LIMIT`. */
export const XENCONSOLE_LIMIT = 1048576;

/** Options of {@linkcode pvConsole}. */
export interface ConsoleOptions extends DeviceBaseOptions {
  /** 0 is the primary console (frontend `~/console`); others are secondary. @default {0} */
  devid?: number;
  /** `output`. @default {"pty"} */
  output?: string;
  /** Which daemon serves it (`type`). @default {"xenconsoled"} */
  consback?: "xenconsoled" | "ioemu";
  /** `tty` as known now; xenconsoled fills it in. @default {""} */
  tty?: string;
  /** Channel name (`name`, written to backend and read-only frontend). */
  name?: string;
  /** Channel `connection`. */
  connection?: string;
  /** Channel `path`. */
  path?: string;
  /** Event channel of a primary console (from the domain build). Required with `ringRef`. */
  port?: number;
  /** Ring page frame of a primary console (from the domain build). */
  ringRef?: number;
}

/**
 * A console. With `port` and `ringRef` (the domain-build state) the read-only frontend gets
 * `port` and `ring-ref`; without them the frontend gets `state=1`, `protocol=vt100`, as libxl
 * does for secondary consoles.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pvConsole } from "./console.ts";
 * const c = pvConsole({ domid: 1, port: 2, ringRef: 1052673 });
 * assert.equal(c.roFront.map(([k]) => k).join(","), "limit,type,output,tty,port,ring-ref");
 * ```
 */
export function pvConsole(options: ConsoleOptions): DeviceSpec {
  const { o, domid, backendDomid } = base("console", options);
  const devid = devidOf("console", o, 0);
  const output = optText("console", "output", o.output) ?? "pty";
  const consback = choice(
    "console",
    "consback",
    o.consback,
    ["xenconsoled", "ioemu"] as const,
    "xenconsoled",
  );
  const tty = o.tty === undefined ? "" : text("console", "tty", o.tty);
  const name = optText("console", "name", o.name);
  const connection = optText("console", "connection", o.connection);
  const path = optText("console", "path", o.path);
  const hasState = o.port !== undefined || o.ringRef !== undefined;
  if (hasState && (o.port === undefined || o.ringRef === undefined)) {
    throw new DeviceConfigError(
      "console",
      o.port === undefined ? "port" : "ringRef",
      "port and ringRef go together (both come from the domain build)",
    );
  }
  const back: [string, string][] = [
    ["frontend-id", String(domid)],
    ["online", "1"],
    ["state", "1"],
    ["protocol", "vt100"],
  ];
  const roFront: [string, string][] = [];
  if (name !== undefined) {
    roFront.push(["name", name]);
    back.push(["name", name]);
  }
  if (connection !== undefined) back.push(["connection", connection]);
  if (path !== undefined) back.push(["path", path]);
  const front: [string, string][] = [["backend-id", String(backendDomid)]];
  roFront.push(
    ["limit", String(XENCONSOLE_LIMIT)],
    ["type", consback],
    ["output", output],
    ["tty", tty],
  );
  if (hasState) {
    const port = int("console", "port", o.port, { min: 1, max: 0xffffffff });
    const ring = int("console", "ringRef", o.ringRef, { min: 0, max: Number.MAX_SAFE_INTEGER });
    roFront.push(["port", String(port)], ["ring-ref", String(ring)]);
  } else {
    front.push(["state", "1"], ["protocol", "vt100"]);
  }
  return makeDeviceSpec({
    domid,
    kind: "console",
    devid,
    backendDomid,
    backendKind: "console",
    back,
    front,
    roFront,
    raw: true,
    waitsForBackend: false,
  });
}

/** Options of {@linkcode vuart}. */
export interface VuartOptions extends DeviceBaseOptions {
  /** The device id. @default {0} */
  devid?: number;
  /** The vuart's event channel. */
  port: number;
  /** The vuart's ring page frame. */
  ringRef: number;
}

/**
 * The Arm SBSA vuart console: frontend `~/vuart/<devid>` owned by the backend, no guest
 * writable keys.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vuart } from "./console.ts";
 * assert.equal(vuart({ domid: 1, port: 3, ringRef: 99 }).roFront.length, 4);
 * ```
 */
export function vuart(options: VuartOptions): DeviceSpec {
  const { o, domid, backendDomid } = base("vuart", options);
  const devid = devidOf("vuart", o, 0);
  const port = int("vuart", "port", o.port, { min: 1, max: 0xffffffff });
  const ring = int("vuart", "ringRef", o.ringRef, { min: 0, max: Number.MAX_SAFE_INTEGER });
  return makeDeviceSpec({
    domid,
    kind: "vuart",
    devid,
    backendDomid,
    backendKind: "vuart",
    back: [["frontend-id", String(domid)], ["online", "1"], ["state", "1"], [
      "protocol",
      "vt100",
    ]],
    roFront: [["port", String(port)], ["ring-ref", String(ring)], [
      "limit",
      String(XENCONSOLE_LIMIT),
    ], ["type", "xenconsoled"]],
    raw: true,
    waitsForBackend: false,
  });
}
