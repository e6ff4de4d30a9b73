/**
 * The node operations (`read`, `write`, `directory`, ...) written once over an abstract
 * request function, so a connection and a transaction share them.
 *
 * @module
 */

import {
  decodeDirectoryPart,
  decodeString,
  encodeArgs,
  formatPermission,
  fromUtf8,
  Op,
  parsePermissions,
  type Permission,
  ProtocolError,
  splitStrings,
  validatePath,
  XenstoreError,
} from "../protocol/mod.ts";
import { ABSENT, type Payload, type RequestOptions } from "./connection.ts";
import type { XenstoreOps } from "./types.ts";
import { RequestBatch } from "./batch.ts";
import { encodePathArgs } from "./_encode.ts";

export { encodePathArgs } from "./_encode.ts";

/** Sends one request in transaction `txId` (0: none) and resolves with the reply payload. */
export type RequestFn = (
  type: number,
  txId: number,
  payload: Payload,
  options?: RequestOptions,
) => Promise<Uint8Array>;

function toVoid(): void {}

/** An RM reply: `OK` (something removed), or {@linkcode ABSENT} for ENOENT. */
function isPresent(reply: Uint8Array): boolean {
  return reply !== ABSENT;
}

/** A request function other than a connection's may still reject with ENOENT. */
function undefinedIfAbsent(error: unknown): undefined {
  if (error instanceof XenstoreError && error.code === "ENOENT") return undefined;
  throw error;
}

function falseIfAbsent(error: unknown): false {
  if (error instanceof XenstoreError && error.code === "ENOENT") return false;
  throw error;
}

function valueOrAbsent(reply: Uint8Array): string | undefined {
  return reply === ABSENT ? undefined : fromUtf8(reply);
}

/** DIRECTORY_PART listings restart when the node changes; give up after this many. */
const DIRECTORY_PART_RESTARTS = 64;

/**
 * {@linkcode XenstoreOps} over a request function: the client uses it with transaction id 0,
 * a transaction with its own id.
 *
 * @example
 * ```ts ignore
 * import { NodeOps } from "./node_ops.ts";
 * const ops = new NodeOps((type, txId, payload) => conn.request(type, txId, payload), 0);
 * await ops.write("/a", "1");
 * ```
 */
export class NodeOps implements XenstoreOps {
  #request: RequestFn;
  #txId: number;

  /** Operations sent with `request`, in transaction `txId` (0: none). */
  constructor(request: RequestFn, txId: number) {
    this.#request = request;
    this.#txId = txId;
  }

  /** Sends a request in this object's transaction; the building block of every operation. */
  protected send(type: number, payload: Payload, options?: RequestOptions): Promise<Uint8Array> {
    return this.#request(type, this.#txId, payload, options);
  }

  /**
   * A {@linkcode RequestBatch} in this object's transaction: requests sent without a
   * promise each, `done()` for all of them.
   */
  batch(): RequestBatch {
    return new RequestBatch((type, payload, options) => this.send(type, payload, options));
  }

  /** Reads a node's value as UTF-8 text. */
  read(path: string): Promise<string> {
    return this.readBytes(path).then(fromUtf8);
  }

  /** Reads a node's value as raw bytes. */
  readBytes(path: string): Promise<Uint8Array> {
    try {
      validatePath(path);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.send(Op.Read, path, { path });
  }

  /** Reads a node's value, or `undefined` when it does not exist. */
  tryRead(path: string): Promise<string | undefined> {
    try {
      validatePath(path);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.send(Op.Read, path, { path, absentOk: true }).then(
      valueOrAbsent,
      undefinedIfAbsent,
    );
  }

  /** Writes a value, creating missing ancestors. */
  write(path: string, value: string | Uint8Array): Promise<void> {
    try {
      validatePath(path);
      return this.send(Op.Write, encodePathArgs(path, value), { path }).then(toVoid);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Creates a node with an empty value; succeeds if it exists. */
  mkdir(path: string): Promise<void> {
    try {
      validatePath(path);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.send(Op.Mkdir, path, { path }).then(toVoid);
  }

  /** Removes a node and its subtree. */
  rm(path: string): Promise<void> {
    try {
      validatePath(path);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.send(Op.Rm, path, { path }).then(toVoid);
  }

  /**
   * Removes a node and its subtree; a missing node or parent (ENOENT) is not an error
   * (`libxl__xs_rm_checked`). Resolves `true` when something was removed. The ENOENT reply
   * is taken as an answer, not turned into an error.
   */
  rmIfPresent(path: string): Promise<boolean> {
    try {
      validatePath(path);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.send(Op.Rm, path, { path, absentOk: true }).then(isPresent, falseIfAbsent);
  }

  /**
   * Lists a node's children. When the list is too long for one reply (E2BIG) it is read in
   * DIRECTORY_PART chunks, restarting if the node changes meanwhile; a server without
   * DIRECTORY_PART (ENOSYS) gets the original E2BIG error. (oxenstored sends no E2BIG: it
   * answers with one long reply, which the connection accepts for DIRECTORY.)
   */
  async directory(path: string): Promise<string[]> {
    validatePath(path);
    try {
      return splitStrings(await this.send(Op.Directory, path, { path }));
    } catch (error) {
      if (!(error instanceof XenstoreError && error.code === "E2BIG")) throw error;
      try {
        return await this.#directoryParts(path);
      } catch (partError) {
        if (partError instanceof XenstoreError && partError.code === "ENOSYS") throw error;
        throw partError;
      }
    }
  }

  async #directoryParts(path: string): Promise<string[]> {
    for (let restart = 0; restart < DIRECTORY_PART_RESTARTS; restart++) {
      const children: string[] = [];
      let generation: string | undefined;
      let offset = 0;
      for (;;) {
        const payload = await this.send(
          Op.DirectoryPart,
          encodeArgs([path, String(offset)]),
          { path },
        );
        const chunk = decodeDirectoryPart(payload);
        if (generation !== undefined && chunk.generation !== generation) break;
        generation = chunk.generation;
        children.push(...chunk.children);
        if (chunk.done) return children;
        if (chunk.consumed === 0) {
          throw new ProtocolError(
            `DIRECTORY_PART "${path}" at offset ${offset} returned no children and no end mark`,
          );
        }
        offset += chunk.consumed;
      }
    }
    throw new XenstoreError("EAGAIN", "DIRECTORY_PART", {
      path,
      cause: new Error(`the node changed during ${DIRECTORY_PART_RESTARTS} listings`),
    });
  }

  /** True when the node exists. */
  async exists(path: string): Promise<boolean> {
    try {
      await this.readBytes(path);
      return true;
    } catch (error) {
      if (error instanceof XenstoreError && error.code === "ENOENT") return false;
      throw error;
    }
  }

  /** A node's permission list (special `@` paths allowed). */
  async getPerms(path: string): Promise<Permission[]> {
    validatePath(path, { special: true });
    const payload = await this.send(Op.GetPerms, path, { path });
    return parsePermissions(splitStrings(payload));
  }

  /** Replaces a node's permission list (special `@` paths allowed). */
  setPerms(path: string, perms: readonly Permission[] | string): Promise<void> {
    try {
      validatePath(path, { special: true });
      const list = typeof perms === "string" ? parsePermissions(perms) : perms;
      if (list.length === 0) {
        throw new TypeError(`setPerms "${path}": the list needs an owner entry`);
      }
      return this.send(Op.SetPerms, encodeArgs([path, ...list.map(formatPermission)]), {
        path,
      }).then(toVoid);
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/**
 * Decodes a reply that is one decimal number (`GET_FEATURE`, `GET_QUOTA`, tx ids); anything
 * else is a `ProtocolError` naming `op` and quoting the reply.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeNumber } from "./node_ops.ts";
 * assert.equal(decodeNumber(new TextEncoder().encode("42\0"), "GET_QUOTA"), 42);
 * ```
 */
export function decodeNumber(payload: Uint8Array, op: string): number {
  const text = decodeString(payload);
  if (!/^[0-9]+$/.test(text)) {
    throw new ProtocolError(`${op} reply is not a decimal number: ${JSON.stringify(text)}`);
  }
  return Number(text);
}
