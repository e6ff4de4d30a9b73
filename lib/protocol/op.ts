/**
 * Xenstore message types, named as in `xs_wire.h` (`XS_READ` is `Op.Read`).
 *
 * @module
 */

/**
 * Every message type of the xenstore wire protocol, with its number on the wire.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Op } from "./op.ts";
 * assert.equal(Op.Read, 2); // XS_READ in xs_wire.h
 * assert.equal(Op.TransactionStart, 6);
 * ```
 */
export const Op = {
  Control: 0,
  Directory: 1,
  Read: 2,
  GetPerms: 3,
  Watch: 4,
  Unwatch: 5,
  TransactionStart: 6,
  TransactionEnd: 7,
  Introduce: 8,
  Release: 9,
  GetDomainPath: 10,
  Write: 11,
  Mkdir: 12,
  Rm: 13,
  SetPerms: 14,
  WatchEvent: 15,
  Error: 16,
  IsDomainIntroduced: 17,
  Resume: 18,
  SetTarget: 19,
  ResetWatches: 21,
  DirectoryPart: 22,
  GetFeature: 23,
  SetFeature: 24,
  GetQuota: 25,
  SetQuota: 26,
  Invalid: 65535,
} as const;

/** A known message type number. */
export type Op = typeof Op[keyof typeof Op];

const WIRE_NAMES: ReadonlyMap<number, string> = new Map([
  [Op.Control, "CONTROL"],
  [Op.Directory, "DIRECTORY"],
  [Op.Read, "READ"],
  [Op.GetPerms, "GET_PERMS"],
  [Op.Watch, "WATCH"],
  [Op.Unwatch, "UNWATCH"],
  [Op.TransactionStart, "TRANSACTION_START"],
  [Op.TransactionEnd, "TRANSACTION_END"],
  [Op.Introduce, "INTRODUCE"],
  [Op.Release, "RELEASE"],
  [Op.GetDomainPath, "GET_DOMAIN_PATH"],
  [Op.Write, "WRITE"],
  [Op.Mkdir, "MKDIR"],
  [Op.Rm, "RM"],
  [Op.SetPerms, "SET_PERMS"],
  [Op.WatchEvent, "WATCH_EVENT"],
  [Op.Error, "ERROR"],
  [Op.IsDomainIntroduced, "IS_DOMAIN_INTRODUCED"],
  [Op.Resume, "RESUME"],
  [Op.SetTarget, "SET_TARGET"],
  [Op.ResetWatches, "RESET_WATCHES"],
  [Op.DirectoryPart, "DIRECTORY_PART"],
  [Op.GetFeature, "GET_FEATURE"],
  [Op.SetFeature, "SET_FEATURE"],
  [Op.GetQuota, "GET_QUOTA"],
  [Op.SetQuota, "SET_QUOTA"],
  [Op.Invalid, "INVALID"],
]);

/**
 * The `xs_wire.h` name of a message type (`READ`, `TRANSACTION_START`), or `OP_<n>` for a
 * number the protocol does not define.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Op, opName } from "./op.ts";
 * assert.equal(opName(Op.DirectoryPart), "DIRECTORY_PART");
 * assert.equal(opName(20), "OP_20"); // a number the protocol does not define
 * ```
 */
export function opName(type: number): string {
  return WIRE_NAMES.get(type) ?? `OP_${type}`;
}

/** True when `type` is a message type defined by `xs_wire.h`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isKnownOp, Op } from "./op.ts";
 * assert.equal(isKnownOp(Op.Read), true);
 * assert.equal(isKnownOp(999), false);
 * ```
 */
export function isKnownOp(type: number): type is Op {
  return WIRE_NAMES.has(type);
}

/**
 * Feature bits answered by GET_FEATURE (`XENSTORE_SERVER_FEATURE_*`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Feature } from "./op.ts";
 * const features = Feature.WatchDepth | Feature.DomidAny; // a GET_FEATURE reply of 12
 * assert.equal(features, 12);
 * assert.notEqual(features & Feature.WatchDepth, 0);
 * assert.equal(features & Feature.Reconnection, 0);
 * ```
 */
export const Feature = {
  Reconnection: 1,
  Error: 2,
  WatchDepth: 4,
  DomidAny: 8,
} as const;
