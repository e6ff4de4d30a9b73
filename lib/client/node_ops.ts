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
import type { Payload, RequestOptions } from "./connection.ts";
import type { XenstoreOps } from "./types.ts";

/** Sends one request in transaction `txId` (0: none) and resolves with the reply payload. */
export type RequestFn = (
  type: number,
  txId: number,
  payload: Payload,
  options?: RequestOptions,
) => Promise<Uint8Array>;

const utf8 = new TextEncoder();

/**
 * `path\0`, or `path\0value` for WRITE, encoded without TextEncoder for the path: a
 * validated path is ASCII, so each char code is its byte. The hot-path encoder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodePathArgs } from "./node_ops.ts";
 * assert.deepEqual(encodePathArgs("/a", "é"), new Uint8Array([47, 97, 0, 195, 169]));
 * ```
 */
export function encodePathArgs(path: string, value?: string | Uint8Array): Uint8Array {
  const n = path.length;
  if (value === undefined) {
    const out = new Uint8Array(n + 1);
    for (let i = 0; i < n; i++) out[i] = path.charCodeAt(i);
    return out;
  }
  const bytes = typeof value === "string" ? utf8.encode(value) : value;
  const out = new Uint8Array(n + 1 + bytes.length);
  for (let i = 0; i < n; i++) out[i] = path.charCodeAt(i);
  out.set(bytes, n + 1);
  return out;
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
  async tryRead(path: string): Promise<string | undefined> {
    try {
      return await this.read(path);
    } catch (error) {
      if (error instanceof XenstoreError && error.code === "ENOENT") return undefined;
      throw error;
    }
  }

  /** Writes a value, creating missing ancestors. */
  async write(path: string, value: string | Uint8Array): Promise<void> {
    validatePath(path);
    await this.send(Op.Write, encodePathArgs(path, value), { path });
  }

  /** Creates a node with an empty value; succeeds if it exists. */
  async mkdir(path: string): Promise<void> {
    validatePath(path);
    await this.send(Op.Mkdir, path, { path });
  }

  /** Removes a node and its subtree. */
  async rm(path: string): Promise<void> {
    validatePath(path);
    await this.send(Op.Rm, path, { path });
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
  async setPerms(path: string, perms: readonly Permission[] | string): Promise<void> {
    validatePath(path, { special: true });
    const list = typeof perms === "string" ? parsePermissions(perms) : perms;
    if (list.length === 0) throw new TypeError(`setPerms "${path}": the list needs an owner entry`);
    await this.send(Op.SetPerms, encodeArgs([path, ...list.map(formatPermission)]), {
      path,
    });
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
