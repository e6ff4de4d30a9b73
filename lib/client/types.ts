/**
 * The shapes of dxl's xenstore client, shared by the client, its transactions and every layer
 * above (libxl, config). Implementations live in this folder.
 *
 * @module
 */

import type { Permission } from "../protocol/perms.ts";

/**
 * The node operations: the same method names work on a connection and inside a transaction,
 * so code written against `XenstoreOps` runs either way.
 */
export interface XenstoreOps {
  /** Reads a node's value as UTF-8 text. Rejects with `XenstoreError` `ENOENT` if missing. */
  read(path: string): Promise<string>;
  /** Reads a node's value as raw bytes. */
  readBytes(path: string): Promise<Uint8Array>;
  /** Reads a node's value, or `undefined` when the node does not exist (ENOENT). */
  tryRead(path: string): Promise<string | undefined>;
  /** Writes a value, creating missing ancestors with empty values. */
  write(path: string, value: string | Uint8Array): Promise<void>;
  /** Creates a node with an empty value; succeeds if it already exists. */
  mkdir(path: string): Promise<void>;
  /** Removes a node and its subtree; succeeds if the node is missing but its parent exists. */
  rm(path: string): Promise<void>;
  /** Lists a node's children (leaf names), falling back to DIRECTORY_PART on E2BIG. */
  directory(path: string): Promise<string[]>;
  /** True when the node exists (ENOENT is `false`; other errors reject). */
  exists(path: string): Promise<boolean>;
  /** A node's permission list; entry 0 is the owner and the default. */
  getPerms(path: string): Promise<Permission[]>;
  /** Replaces a node's permission list. Accepts entries or `xenstore-ls -p` text (`n1,r0`). */
  setPerms(path: string, perms: readonly Permission[] | string): Promise<void>;
}

/** An open transaction: {@linkcode XenstoreOps} scoped to it, plus commit and abort. */
export interface Transaction extends XenstoreOps {
  /** The server's transaction id (the `tx_id` header field). */
  readonly id: number;
  /** Commits; rejects with `XenstoreError` code `EAGAIN` on a conflict. Ends the transaction. */
  commit(): Promise<void>;
  /** Discards every change. Ends the transaction. */
  abort(): Promise<void>;
}

/** Options of `transaction(fn, options)`. */
export interface TransactionOptions {
  /**
   * How many times `fn` may run before `TransactionConflictError` is thrown.
   * @default {16}
   */
  attempts?: number;
  /** Aborts the transaction and stops retrying. */
  signal?: AbortSignal;
  /**
   * Base of the jittered exponential backoff between attempts, in milliseconds.
   * @default {1}
   */
  backoffMs?: number;
  /**
   * Waits `ms` milliseconds (injected so tests need not sleep).
   * @default {setTimeout-based, abortable}
   */
  delay?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** One event from a watch iterator. */
export type WatchEvent =
  | {
    /** A node at or below the watched path changed (or this is the initial event). */
    kind: "change";
    /** The path that changed, as the server sent it. */
    path: string;
    /** The token the watch was registered with. */
    token: string;
    /** True for the event the server sends right after registration. */
    initial: boolean;
  }
  | {
    /** The connection was re-established and the watch re-registered: re-read everything. */
    kind: "reconnected";
  };

/** Options of `watch(path, options)`. */
export interface WatchOptions {
  /** The watch token. @default {a unique generated token} */
  token?: string;
  /** Watch depth (server feature bit 4): 0 = the node only, 1 = plus children, ... */
  depth?: number;
  /** Ends the iteration (sends UNWATCH). */
  signal?: AbortSignal;
  /**
   * Yield the initial event the server sends on registration.
   * @default {true}
   */
  initial?: boolean;
}

/** A registered watch: iterate it; leaving the loop, `break`, abort or `close()` UNWATCHes. */
export interface Watch extends AsyncIterable<WatchEvent>, AsyncDisposable {
  /** The watched path. */
  readonly path: string;
  /** The token. */
  readonly token: string;
  /** Resolves once the server acknowledged the WATCH. */
  readonly ready: Promise<void>;
  /** Sends UNWATCH and ends the iteration. */
  close(): Promise<void>;
}
