/**
 * The error reply a request handler raises: an errno name, caught by the dispatcher and
 * answered as `XS_ERROR`.
 *
 * @module
 */

/**
 * An errno reply raised inside the server; the dispatcher answers it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Errno } from "./errno.ts";
 * assert.equal(new Errno("ENOENT").code, "ENOENT");
 * ```
 */
export class Errno {
  /** The errno name (`ENOENT`, ...). */
  readonly code: string;
  /** An error reply with errno name `code`. */
  constructor(code: string) {
    this.code = code;
  }
}
