/**
 * Every error class of dxl's xenstore layers.
 *
 * @module
 */

/**
 * The errno names that xenstored sends in an ERROR reply, in `xs_wire.h` order. Servers may
 * send others (oxenstored's `EQUOTA`), so {@linkcode XenstoreError.code} is a plain string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ERRNO_NAMES } from "./errors.ts";
 * assert.ok(ERRNO_NAMES.includes("EAGAIN"));
 * assert.ok(ERRNO_NAMES.includes("ENOENT"));
 * ```
 */
export const ERRNO_NAMES = [
  "EINVAL",
  "EACCES",
  "EEXIST",
  "EISDIR",
  "ENOENT",
  "ENOMEM",
  "ENOSPC",
  "EIO",
  "ENOTEMPTY",
  "ENOSYS",
  "EROFS",
  "EBUSY",
  "EAGAIN",
  "EISCONN",
  "E2BIG",
  "EPERM",
] as const;

/** An errno name from `xs_wire.h`. */
export type ErrnoName = typeof ERRNO_NAMES[number];

/** Options shared by the error constructors. */
export interface XenstoreErrorOptions {
  /** The xenstore path the request named, when it named one. */
  path?: string | undefined;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * The server answered a request with an ERROR reply.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { XenstoreError } from "./errors.ts";
 * const e = new XenstoreError("ENOENT", "READ", { path: "/local/domain/7/name" });
 * assert.equal(e.message, 'Cannot READ "/local/domain/7/name": ENOENT');
 * assert.equal(e.code, "ENOENT");
 * assert.equal(e.path, "/local/domain/7/name");
 * ```
 */
export class XenstoreError extends Error {
  /** The errno name the server sent (`ENOENT`, `EAGAIN`, `EQUOTA`, ...). */
  readonly code: string;
  /** The wire name of the request that failed (`READ`, `WRITE`, ...). */
  readonly op: string;
  /** The path the request named, if any. */
  readonly path: string | undefined;

  /** Builds the error for an ERROR reply `code` to request `op`. */
  constructor(code: string, op: string, options: XenstoreErrorOptions = {}) {
    const what = options.path === undefined ? op : `${op} "${options.path}"`;
    super(`Cannot ${what}: ${code}`, { cause: options.cause });
    this.name = "XenstoreError";
    this.code = code;
    this.op = op;
    this.path = options.path;
  }
}

/**
 * Malformed bytes on the wire: a bad header, a truncated frame or an unparseable payload.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProtocolError } from "./errors.ts";
 * const e = new ProtocolError("Frame announces a payload of 9999 bytes");
 * assert.equal(e.name, "ProtocolError");
 * assert.equal(e.message, "Frame announces a payload of 9999 bytes");
 * ```
 */
export class ProtocolError extends Error {
  /** Builds the error with a message that says what was malformed. */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "ProtocolError";
  }
}

/**
 * The connection to xenstored closed; every request still pending fails with this.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionClosedError } from "./errors.ts";
 * const e = new ConnectionClosedError();
 * assert.equal(e.message, "The xenstore connection is closed");
 * assert.equal(e.name, "ConnectionClosedError");
 * ```
 */
export class ConnectionClosedError extends Error {
  /** Builds the error; the message says why the connection closed. */
  constructor(message = "The xenstore connection is closed", options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "ConnectionClosedError";
  }
}

/**
 * A transaction still conflicted (EAGAIN) after its last allowed attempt.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TransactionConflictError } from "./errors.ts";
 * const e = new TransactionConflictError(16);
 * assert.equal(e.attempts, 16);
 * assert.equal(e.message, "Transaction still conflicted (EAGAIN) after 16 attempts");
 * ```
 */
export class TransactionConflictError extends Error {
  /** How many times the transaction body ran. */
  readonly attempts: number;

  /** Builds the error after `attempts` runs; `cause` is the last EAGAIN. */
  constructor(attempts: number, options: { cause?: unknown } = {}) {
    super(`Transaction still conflicted (EAGAIN) after ${attempts} attempts`, options);
    this.name = "TransactionConflictError";
    this.attempts = attempts;
  }
}

/**
 * A path broke one of xenstore's path rules; the message states the rule.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidPathError } from "./errors.ts";
 * const e = new InvalidPathError("/a/", 'it ends with "/"');
 * assert.ok(e instanceof TypeError);
 * assert.equal(e.path, "/a/");
 * assert.equal(e.message, 'Invalid xenstore path "/a/": it ends with "/"');
 * ```
 */
export class InvalidPathError extends TypeError {
  /** The offending path. */
  readonly path: string;

  /** Builds the error for `path`, stating the `rule` it broke. */
  constructor(path: string, rule: string) {
    super(`Invalid xenstore path "${path}": ${rule}`);
    this.name = "InvalidPathError";
    this.path = path;
  }
}

/**
 * A permission entry was not of the form `n0`, `r5`, `w3`, `b7`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidPermissionError } from "./errors.ts";
 * const e = new InvalidPermissionError("x5", "bad letter");
 * assert.ok(e instanceof TypeError);
 * assert.equal(e.text, "x5");
 * assert.equal(e.message, 'Invalid xenstore permission "x5": bad letter');
 * ```
 */
export class InvalidPermissionError extends TypeError {
  /** The offending text. */
  readonly text: string;

  /** Builds the error for `text`, stating the `rule` it broke. */
  constructor(text: string, rule: string) {
    super(`Invalid xenstore permission "${text}": ${rule}`);
    this.name = "InvalidPermissionError";
    this.text = text;
  }
}

/**
 * A request payload would exceed the 4096-byte limit; it was not sent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PayloadTooLargeError } from "./errors.ts";
 * const e = new PayloadTooLargeError("WRITE", 5000, "/big");
 * assert.ok(e instanceof RangeError);
 * assert.equal(e.size, 5000);
 * assert.equal(
 *   e.message,
 *   'Cannot WRITE "/big": payload of 5000 bytes exceeds the 4096-byte limit',
 * );
 * ```
 */
export class PayloadTooLargeError extends RangeError {
  /** The path the request named. */
  readonly path: string | undefined;
  /** The payload size in bytes. */
  readonly size: number;

  /** Builds the error for request `op` of `size` bytes naming `path`. */
  constructor(op: string, size: number, path?: string) {
    const what = path === undefined ? op : `${op} "${path}"`;
    super(`Cannot ${what}: payload of ${size} bytes exceeds the 4096-byte limit`);
    this.name = "PayloadTooLargeError";
    this.path = path;
    this.size = size;
  }
}
