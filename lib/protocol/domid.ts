/**
 * Domain ids: Xen's reserved range (`DOMID_FIRST_RESERVED` and up) and the one check every
 * layer uses, {@linkcode checkDomid}. Pure, no I/O.
 *
 * @module
 */

/**
 * `DOMID_FIRST_RESERVED`: domain ids from here up (`DOMID_SELF`, `DOMID_IO`, ...,
 * `DOMID_INVALID`) name no ordinary domain; a hypervisor never creates one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DOMID_FIRST_RESERVED } from "./domid.ts";
 * assert.equal(DOMID_FIRST_RESERVED, 32752);
 * ```
 */
export const DOMID_FIRST_RESERVED = 0x7ff0;

/**
 * `DOMID_SELF`: "the calling domain"; C xenstored's IS_DOMAIN_INTRODUCED answers `T` for it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DOMID_SELF } from "./domid.ts";
 * assert.equal(DOMID_SELF, 0x7ff0);
 * ```
 */
export const DOMID_SELF = 0x7ff0;

/**
 * `DOMID_ANY`: a permission entry that matches every domain when feature 8 is on.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DOMID_ANY } from "./domid.ts";
 * assert.equal(`r${DOMID_ANY}`, "r32757");
 * ```
 */
export const DOMID_ANY = 0x7ff5;

/**
 * The bits of a domain id the hypervisor keeps (`domid_t` is 16 bits wide).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DOMID_MASK } from "./domid.ts";
 * assert.equal(65541 & DOMID_MASK, 5);
 * ```
 */
export const DOMID_MASK = 0xffff;

/**
 * The largest domid a 16-bit `domid_t` field (a permission entry, a wire argument) can hold.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DOMID_MAX } from "./domid.ts";
 * assert.equal(DOMID_MAX, 65535);
 * ```
 */
export const DOMID_MAX = 0xffff;

/**
 * Whether a domain id, as the hypervisor sees it (its low 16 bits, `domid_t`), is reserved.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isReservedDomid } from "./domid.ts";
 * assert.equal(isReservedDomid(32752), true);
 * assert.equal(isReservedDomid(0xffffffff), true); // "-1" wraps to 65535
 * assert.equal(isReservedDomid(65541), false); // domid_t 5
 * ```
 */
export function isReservedDomid(domid: number): boolean {
  return (domid & DOMID_MASK) >= DOMID_FIRST_RESERVED;
}

/** Options of {@linkcode checkDomid} and {@linkcode parseDomid}. */
export interface CheckDomidOptions {
  /** What the value is, for the error message (`backendDomid`, `target`). @default {"domid"} */
  what?: string;
  /**
   * Accept the reserved ids too (`DOMID_FIRST_RESERVED` to 65535: `DOMID_SELF`, `DOMID_ANY`,
   * ...), as any 16-bit `domid_t` field on the wire does. Without it only a real domain's id
   * (0 to `DOMID_FIRST_RESERVED - 1`) passes.
   * @default {false}
   */
  allowReserved?: boolean;
}

/**
 * Returns `domid` if it is an integer domain id, else throws a `RangeError` naming `what` it
 * was and the value. A real domain's id is 0 to `DOMID_FIRST_RESERVED - 1` (32751); with
 * `allowReserved`, any 16-bit id (0 to 65535).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkDomid, DOMID_SELF } from "./domid.ts";
 * assert.equal(checkDomid(5), 5);
 * assert.throws(() => checkDomid(DOMID_SELF), /domid must be an integer from 0 to 32751, got 32752/);
 * assert.equal(checkDomid(DOMID_SELF, { allowReserved: true }), DOMID_SELF);
 * assert.throws(() => checkDomid(1.5, { what: "backendDomid" }), /^RangeError: backendDomid/);
 * ```
 */
export function checkDomid(domid: number, options: CheckDomidOptions = {}): number {
  const max = options.allowReserved ? DOMID_MAX : DOMID_FIRST_RESERVED - 1;
  if (!Number.isInteger(domid) || domid < 0 || domid > max) {
    throw new RangeError(
      `${options.what ?? "domid"} must be an integer from 0 to ${max}, got ${domid}`,
    );
  }
  return domid;
}

/**
 * Parses a domain id written in decimal (`0`, `7`; no sign, no leading zero) and checks it as
 * {@linkcode checkDomid} does; anything else throws a `RangeError` quoting the text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDomid } from "./domid.ts";
 * assert.equal(parseDomid("7"), 7);
 * assert.throws(() => parseDomid("07"), /domid must be a decimal domain id, got "07"/);
 * assert.throws(() => parseDomid("32752"), /from 0 to 32751/);
 * assert.equal(parseDomid("32752", { allowReserved: true }), 32752);
 * ```
 */
export function parseDomid(text: string, options: CheckDomidOptions = {}): number {
  if (!/^(0|[1-9][0-9]{0,5})$/.test(text)) {
    throw new RangeError(
      `${options.what ?? "domid"} must be a decimal domain id, got ${JSON.stringify(text)}`,
    );
  }
  return checkDomid(Number(text), options);
}
