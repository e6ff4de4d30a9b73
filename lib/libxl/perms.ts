/**
 * The permission lists libxl writes (`libxl__domain_make`, `libxl__device_generic_add`).
 *
 * @module
 */

import type { Permission } from "../protocol/perms.ts";
import { checkDomid } from "./paths.ts";

/**
 * `noperm`: `n0`, dom0 only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPermissions } from "../protocol/perms.ts";
 * import { noperm } from "./perms.ts";
 * assert.equal(formatPermissions(noperm()), "n0");
 * ```
 */
export function noperm(): Permission[] {
  return [{ domid: 0, access: "none" }];
}

/**
 * `roperm`: `n0,r<domid>`, the guest may read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPermissions } from "../protocol/perms.ts";
 * import { roperm } from "./perms.ts";
 * assert.equal(formatPermissions(roperm(3)), "n0,r3");
 * ```
 */
export function roperm(domid: number): Permission[] {
  return [{ domid: 0, access: "none" }, { domid: checkDomid(domid), access: "read" }];
}

/**
 * `rwperm`: `n<domid>`, the guest owns it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPermissions } from "../protocol/perms.ts";
 * import { rwperm } from "./perms.ts";
 * assert.equal(formatPermissions(rwperm(3)), "n3");
 * ```
 */
export function rwperm(domid: number): Permission[] {
  return [{ domid: checkDomid(domid), access: "none" }];
}

/**
 * Frontend permissions `n<domid>,r<backendDomid>`: the guest owns it, the backend reads.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPermissions } from "../protocol/perms.ts";
 * import { frontendPerms } from "./perms.ts";
 * assert.equal(formatPermissions(frontendPerms(1, 0)), "n1,r0");
 * ```
 */
export function frontendPerms(domid: number, backendDomid: number): Permission[] {
  return [
    { domid: checkDomid(domid), access: "none" },
    { domid: checkDomid(backendDomid, { what: "backendDomid" }), access: "read" },
  ];
}

/**
 * Read-only frontend permissions `n<backendDomid>,r<domid>`: the backend owns it, the guest
 * reads. Also the permissions of console 0's and vuart's frontend directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPermissions } from "../protocol/perms.ts";
 * import { roFrontendPerms } from "./perms.ts";
 * assert.equal(formatPermissions(roFrontendPerms(1, 0)), "n0,r1");
 * ```
 */
export function roFrontendPerms(domid: number, backendDomid: number): Permission[] {
  return [
    { domid: checkDomid(backendDomid, { what: "backendDomid" }), access: "none" },
    { domid: checkDomid(domid), access: "read" },
  ];
}

/**
 * Backend permissions `n<backendDomid>,r<domid>` (the same list as
 * {@linkcode roFrontendPerms}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPermissions } from "../protocol/perms.ts";
 * import { backendPerms } from "./perms.ts";
 * assert.equal(formatPermissions(backendPerms(1, 0)), "n0,r1");
 * ```
 */
export function backendPerms(domid: number, backendDomid: number): Permission[] {
  return roFrontendPerms(domid, backendDomid);
}
