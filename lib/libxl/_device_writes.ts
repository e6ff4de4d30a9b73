/**
 * The requests of `libxl__device_generic_add`, for sending without waiting for each reply.
 *
 * @module
 */

import type { Transaction } from "../client/types.ts";
import type { DeviceSpec } from "./device.ts";
import { isLibxlOnly } from "./device.ts";
import { backendPath, frontendPath, libxlDevicePath } from "./paths.ts";
import { backendPerms, frontendPerms, roFrontendPerms } from "./perms.ts";
import type { RequestSender } from "./store.ts";
import { rmIfPresent } from "./store.ts";

/**
 * Sends every request of the generic add through `send` without waiting for replies: they
 * go out (and xenstored answers them) in exactly this order — the `/libxl` record's
 * pointers, the frontend (RM, MKDIR, SET_PERMS, keys each with its SET_PERMS), the backend
 * (RM, MKDIR, SET_PERMS, keys), the copy of the backend keys under `/libxl`. Throws
 * `TypeError` (before sending anything) for a `/libxl`-only device with frontend keys.
 */
export function sendDeviceWrites(
  tx: Transaction,
  spec: DeviceSpec,
  send: (request: Promise<unknown>) => void,
): void {
  issueDeviceWrites({
    write: (path, value) => send(tx.write(path, value)),
    mkdir: (path) => send(tx.mkdir(path)),
    rmIfPresent: (path) => send(rmIfPresent(tx, path)),
    setPerms: (path, perms) => send(tx.setPerms(path, perms)),
  }, spec);
}

/**
 * The generic add's requests (see {@linkcode sendDeviceWrites}) issued through `s` (a
 * `sendAll` batch), in the same order. Throws `TypeError` before issuing anything for a
 * `/libxl`-only device with frontend keys.
 */
export function issueDeviceWrites(s: RequestSender, spec: DeviceSpec): void {
  const libxlOnly = isLibxlOnly(spec);
  const record = libxlDevicePath(spec);
  const fe = frontendPath(spec);
  const be = backendPath(spec);
  if (libxlOnly && (spec.front.length > 0 || spec.roFront.length > 0)) {
    throw new TypeError(`a ${spec.kind} device with backend kind "none" has no frontend keys`);
  }
  s.rmIfPresent(record);
  if (!libxlOnly) {
    s.write(`${record}/frontend`, fe);
    s.write(`${record}/backend`, be);
  }
  if (spec.front.length > 0 || spec.roFront.length > 0) {
    const fePerms = frontendPerms(spec.domid, spec.backendDomid);
    const roPerms = roFrontendPerms(spec.domid, spec.backendDomid);
    const ownedByBackend = (spec.kind === "console" && spec.devid === 0) ||
      spec.kind === "vuart";
    s.rmIfPresent(fe);
    s.mkdir(fe);
    s.setPerms(fe, ownedByBackend ? roPerms : fePerms);
    s.write(`${fe}/backend`, be);
    for (const [key, value] of spec.front) {
      s.write(`${fe}/${key}`, value);
      s.setPerms(`${fe}/${key}`, fePerms);
    }
    for (const [key, value] of spec.roFront) {
      s.write(`${fe}/${key}`, value);
      s.setPerms(`${fe}/${key}`, roPerms);
    }
  }
  if (spec.back.length > 0) {
    if (!libxlOnly) {
      s.rmIfPresent(be);
      s.mkdir(be);
      s.setPerms(be, backendPerms(spec.domid, spec.backendDomid));
      s.write(`${be}/frontend`, fe);
      for (const [key, value] of spec.back) s.write(`${be}/${key}`, value);
    }
    for (const [key, value] of spec.back) s.write(`${record}/${key}`, value);
  }
}
