/**
 * The request table (`wire_funcs` in C xenstored): one handler per message type, keyed by
 * `Op`, with the "privileged only" and "ignores tx_id" flags. A type missing here is
 * answered `ENOSYS`.
 *
 * @module
 */

import { Op } from "../protocol/op.ts";
import type { RequestContext } from "./context.ts";
import { doControl } from "./ops_control.ts";
import {
  doGetDomainPath,
  doGetFeature,
  doGetQuota,
  doIntroduce,
  doIsDomainIntroduced,
  doRelease,
  doResume,
  doSetFeature,
  doSetQuota,
  doSetTarget,
} from "./ops_domains.ts";
import {
  doDirectory,
  doDirectoryPart,
  doGetPerms,
  doMkdir,
  doRead,
  doRm,
  doSetPerms,
  doWrite,
} from "./ops_nodes.ts";
import {
  doResetWatches,
  doTransactionEnd,
  doTransactionStart,
  doUnwatch,
  doWatch,
} from "./ops_session.ts";

export type { Request } from "./context.ts";

/** A request handler and its flags. */
export interface Handler {
  /** Runs the request and replies through the context; throws `Errno` for an error reply. */
  readonly fn: (ctx: RequestContext) => void;
  /** Only privileged connections may send it (EACCES otherwise). */
  readonly priv: boolean;
  /** The tx_id is ignored (WATCH, UNWATCH). */
  readonly noTx: boolean;
}

const PRIV = { priv: true, noTx: false } as const;
const ANY = { priv: false, noTx: false } as const;
const NO_TX = { priv: false, noTx: true } as const;

/** Handlers by message type. */
export const HANDLERS: ReadonlyMap<Op, Handler> = new Map<Op, Handler>([
  [Op.Control, { fn: doControl, ...PRIV }],
  [Op.Directory, { fn: doDirectory, ...ANY }],
  [Op.Read, { fn: doRead, ...ANY }],
  [Op.GetPerms, { fn: doGetPerms, ...ANY }],
  [Op.Watch, { fn: doWatch, ...NO_TX }],
  [Op.Unwatch, { fn: doUnwatch, ...NO_TX }],
  [Op.TransactionStart, { fn: doTransactionStart, ...ANY }],
  [Op.TransactionEnd, { fn: doTransactionEnd, ...ANY }],
  [Op.Introduce, { fn: doIntroduce, ...PRIV }],
  [Op.Release, { fn: doRelease, ...PRIV }],
  [Op.GetDomainPath, { fn: doGetDomainPath, ...ANY }],
  [Op.Write, { fn: doWrite, ...ANY }],
  [Op.Mkdir, { fn: doMkdir, ...ANY }],
  [Op.Rm, { fn: doRm, ...ANY }],
  [Op.SetPerms, { fn: doSetPerms, ...ANY }],
  [Op.IsDomainIntroduced, { fn: doIsDomainIntroduced, ...PRIV }],
  [Op.Resume, { fn: doResume, ...PRIV }],
  [Op.SetTarget, { fn: doSetTarget, ...PRIV }],
  [Op.ResetWatches, { fn: doResetWatches, ...ANY }],
  [Op.DirectoryPart, { fn: doDirectoryPart, ...ANY }],
  [Op.GetFeature, { fn: doGetFeature, ...ANY }],
  [Op.SetFeature, { fn: doSetFeature, ...PRIV }],
  [Op.GetQuota, { fn: doGetQuota, ...PRIV }],
  [Op.SetQuota, { fn: doSetQuota, ...PRIV }],
]);

/** The same table indexed by type number (the dispatcher's lookup). */
const BY_TYPE: readonly (Handler | undefined)[] = (() => {
  const table: (Handler | undefined)[] = [];
  for (const [op, handler] of HANDLERS) table[op] = handler;
  return table;
})();

/** The handler of a message type, or `undefined` (answered `ENOSYS`). */
export function handlerFor(type: number): Handler | undefined {
  return BY_TYPE[type];
}
