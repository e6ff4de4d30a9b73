/**
 * The request table (`wire_funcs` in C xenstored): one handler per message type, with the
 * "privileged only" and "ignores tx_id" flags.
 *
 * @module
 */

import type { Access } from "./access.ts";
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

/** One decoded request (the payload is only valid during the call). */
export interface Request {
  /** Message type. */
  type: number;
  /** Request id, echoed. */
  reqId: number;
  /** Transaction id, echoed. */
  txId: number;
  /** Payload bytes. */
  payload: Uint8Array;
}

/** A request handler and its flags. */
export interface Handler {
  /** Runs the request; throws `Errno` for an error reply. */
  fn: (access: Access, req: Request) => void;
  /** Only privileged connections may send it (EACCES otherwise). */
  priv: boolean;
  /** The tx_id is ignored (WATCH, UNWATCH). */
  noTx: boolean;
}

function h(fn: Handler["fn"], flags: { priv?: boolean; noTx?: boolean } = {}): Handler {
  return { fn, priv: flags.priv ?? false, noTx: flags.noTx ?? false };
}

/** Handlers by message type; a missing entry is answered ENOSYS. */
export const HANDLERS: readonly (Handler | undefined)[] = (() => {
  const t: (Handler | undefined)[] = [];
  t[0] = h(doControl, { priv: true });
  t[1] = h(doDirectory);
  t[2] = h(doRead);
  t[3] = h(doGetPerms);
  t[4] = h(doWatch, { noTx: true });
  t[5] = h(doUnwatch, { noTx: true });
  t[6] = h(doTransactionStart);
  t[7] = h(doTransactionEnd);
  t[8] = h(doIntroduce, { priv: true });
  t[9] = h(doRelease, { priv: true });
  t[10] = h(doGetDomainPath);
  t[11] = h(doWrite);
  t[12] = h(doMkdir);
  t[13] = h(doRm);
  t[14] = h(doSetPerms);
  t[17] = h(doIsDomainIntroduced, { priv: true });
  t[18] = h(doResume, { priv: true });
  t[19] = h(doSetTarget, { priv: true });
  t[21] = h(doResetWatches);
  t[22] = h(doDirectoryPart);
  t[23] = h(doGetFeature);
  t[24] = h(doSetFeature, { priv: true });
  t[25] = h(doGetQuota, { priv: true });
  t[26] = h(doSetQuota, { priv: true });
  return t;
})();
