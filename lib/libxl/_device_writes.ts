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
  const libxlOnly = isLibxlOnly(spec);
  const record = libxlDevicePath(spec);
  const fe = frontendPath(spec);
  const be = backendPath(spec);
  if (libxlOnly && (spec.front.length > 0 || spec.roFront.length > 0)) {
    throw new TypeError(`a ${spec.kind} device with backend kind "none" has no frontend keys`);
  }
  send(rmIfPresent(tx, record));
  if (!libxlOnly) {
    send(tx.write(`${record}/frontend`, fe));
    send(tx.write(`${record}/backend`, be));
  }
  if (spec.front.length > 0 || spec.roFront.length > 0) {
    const fePerms = frontendPerms(spec.domid, spec.backendDomid);
    const roPerms = roFrontendPerms(spec.domid, spec.backendDomid);
    const ownedByBackend = (spec.kind === "console" && spec.devid === 0) ||
      spec.kind === "vuart";
    send(rmIfPresent(tx, fe));
    send(tx.mkdir(fe));
    send(tx.setPerms(fe, ownedByBackend ? roPerms : fePerms));
    send(tx.write(`${fe}/backend`, be));
    for (const [key, value] of spec.front) {
      send(tx.write(`${fe}/${key}`, value));
      send(tx.setPerms(`${fe}/${key}`, fePerms));
    }
    for (const [key, value] of spec.roFront) {
      send(tx.write(`${fe}/${key}`, value));
      send(tx.setPerms(`${fe}/${key}`, roPerms));
    }
  }
  if (spec.back.length > 0) {
    if (!libxlOnly) {
      send(rmIfPresent(tx, be));
      send(tx.mkdir(be));
      send(tx.setPerms(be, backendPerms(spec.domid, spec.backendDomid)));
      send(tx.write(`${be}/frontend`, fe));
      for (const [key, value] of spec.back) send(tx.write(`${be}/${key}`, value));
    }
    for (const [key, value] of spec.back) send(tx.write(`${record}/${key}`, value));
  }
}
