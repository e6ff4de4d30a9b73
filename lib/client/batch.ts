/**
 * A batch of requests sent without a promise per request: one sink counts the replies, one
 * promise says when all of them came.
 *
 * @module
 */

import { formatPermission, Op, parsePermissions, type Permission } from "../protocol/mod.ts";
import { validatePath, XenstoreError } from "../protocol/mod.ts";
import { type Payload, type ReplySink, type RequestOptions, UNSETTLED } from "./connection.ts";
import { encodePathArgs, isAscii } from "./_encode.ts";

/** Sends one request of a batch (a `NodeOps` in its transaction). */
export type BatchSend = (type: number, payload: Payload, options: RequestOptions) => Promise<
  Uint8Array
>;

/**
 * Requests issued one after the other without waiting (they go out, and xenstored answers
 * them, in call order), with no promise, closure or error object per request: the replies
 * go to one shared sink and {@linkcode RequestBatch.done} settles once every reply came —
 * rejecting with the first failure that arrived (for xenstored, which answers a
 * connection's requests in order, the first in call order). An invalid path is not sent and
 * is that failure. Get one from `NodeOps.batch()` (the client, or a transaction).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "./mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const tx = await xs.startTransaction();
 * const batch = tx.batch();
 * batch.rmIfPresent("/tool/dxl/gone/x"); // ENOENT: an answer, not a failure
 * batch.write("/tool/dxl/a", "1");
 * batch.setPerms("/tool/dxl/a", [{ domid: 0, access: "none" }]);
 * await batch.done();
 * await tx.commit();
 * assert.equal(await xs.read("/tool/dxl/a"), "1");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class RequestBatch {
  #send: BatchSend;
  #left = 0;
  #sealed = false;
  /** The sender has shown it takes `sink` (and `tail`): a connection's request. */
  #direct = false;
  #failed: Error | undefined;
  #all = Promise.withResolvers<void>();
  #sink: ReplySink = {
    resolve: () => this.#settled(),
    reject: (error: Error) => {
      this.#failed ??= error;
      this.#settled();
    },
  };

  /** ENOENT from a sender that does not know `absentOk`: still an answer. */
  #absentOk = (error: Error): void => {
    if (error instanceof XenstoreError && error.code === "ENOENT") this.#settled();
    else this.#sink.reject(error);
  };

  /** A batch sending through `send`. */
  constructor(send: BatchSend) {
    this.#send = send;
  }

  #settled(): void {
    if (--this.#left === 0 && this.#sealed) this.#finish();
  }

  #finish(): void {
    if (this.#failed !== undefined) this.#all.reject(this.#failed);
    else this.#all.resolve();
  }

  #issue(
    type: number,
    path: string,
    payload: Payload,
    absentOk: boolean,
    tail?: string,
  ): void {
    if (this.#sealed) throw new TypeError("RequestBatch: done() was called, nothing more is sent");
    this.#left++;
    const p = this.#send(type, payload, { path, absentOk, sink: this.#sink, tail });
    // A sender that does not know sinks (an ended transaction refuses with a promise).
    if (p === UNSETTLED) this.#direct = true;
    else p.then(this.#sink.resolve, absentOk ? this.#absentOk : this.#sink.reject);
  }

  #invalid(error: unknown): void {
    this.#failed ??= error as Error;
  }

  /** WRITE. */
  write(path: string, value: string | Uint8Array): void {
    try {
      validatePath(path);
    } catch (error) {
      return this.#invalid(error);
    }
    if (this.#direct && typeof value === "string" && isAscii(value)) {
      // Path, NUL and value go straight into the send buffer.
      this.#issue(Op.Write, path, path, false, value);
      return;
    }
    this.#issue(Op.Write, path, encodePathArgs(path, value), false);
  }

  /** MKDIR. */
  mkdir(path: string): void {
    try {
      validatePath(path);
    } catch (error) {
      return this.#invalid(error);
    }
    this.#issue(Op.Mkdir, path, path, false);
  }

  /** RM. */
  rm(path: string): void {
    try {
      validatePath(path);
    } catch (error) {
      return this.#invalid(error);
    }
    this.#issue(Op.Rm, path, path, false);
  }

  /** RM where a missing node or parent (ENOENT) is no failure (`libxl__xs_rm_checked`). */
  rmIfPresent(path: string): void {
    try {
      validatePath(path);
    } catch (error) {
      return this.#invalid(error);
    }
    this.#issue(Op.Rm, path, path, true);
  }

  /** SET_PERMS. */
  setPerms(path: string, perms: readonly Permission[] | string): void {
    let payload: string;
    try {
      validatePath(path, { special: true });
      const list = typeof perms === "string" ? parsePermissions(perms) : perms;
      if (list.length === 0) {
        throw new TypeError(`setPerms "${path}": the list needs an owner entry`);
      }
      // `path\0perm\0...perm\0`: ASCII, each argument NUL-terminated (the string form).
      payload = path;
      for (const perm of list) payload += `\0${formatPermission(perm)}`;
    } catch (error) {
      return this.#invalid(error);
    }
    this.#issue(Op.SetPerms, path, payload, false);
  }

  /** Settles once every reply came: rejects with the first failure. Nothing more is sent. */
  done(): Promise<void> {
    if (!this.#sealed) {
      this.#sealed = true;
      if (this.#left === 0) this.#finish();
    }
    return this.#all.promise;
  }
}
