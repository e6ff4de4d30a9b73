/**
 * The error classes of dxl's real-host layer (the FFI hypervisor, hotplug scripts and
 * libxl's domain config file).
 *
 * @module
 */

/** Linux errno names for the numbers libxenctrl leaves in `errno`. */
const ERRNO: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  3: "ESRCH",
  5: "EIO",
  7: "E2BIG",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  16: "EBUSY",
  17: "EEXIST",
  19: "ENODEV",
  22: "EINVAL",
  28: "ENOSPC",
  38: "ENOSYS",
  95: "EOPNOTSUPP",
};

/**
 * The name of a Linux errno number (`"errno 99"` when it has none here).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errnoName } from "./errors.ts";
 * assert.equal(errnoName(38), "ENOSYS");
 * assert.equal(errnoName(200), "errno 200");
 * ```
 */
export function errnoName(errno: number): string {
  return ERRNO[errno] ?? `errno ${errno}`;
}

/** What is missing for the real hypervisor. */
export type XenMissing = "device" | "library" | "privilege";

/**
 * The real hypervisor cannot be used here: no `/dev/xen/privcmd` (not a Xen dom0), the
 * libraries are not installed, or the process may not open the hypervisor interface.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { XenUnavailableError } from "./errors.ts";
 * const e = new XenUnavailableError("no /dev/xen/privcmd", { missing: "device" });
 * assert.equal(e.missing, "device");
 * assert.equal(e.name, "XenUnavailableError");
 * ```
 */
export class XenUnavailableError extends Error {
  /** Which prerequisite is missing. */
  readonly missing: XenMissing;

  /** Builds the error; the message names what is missing and how to get it. */
  constructor(message: string, options: { missing: XenMissing; cause?: unknown }) {
    super(`Xen hypervisor unavailable: ${message}`, { cause: options.cause });
    this.name = "XenUnavailableError";
    this.missing = options.missing;
  }
}

/**
 * A libxenctrl / libxenguest call failed; `step` names the function (libxl's step), `errno`
 * what it left in `errno`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { XenCallError } from "./errors.ts";
 * const e = new XenCallError("xc_dom_boot_xen_init", 38, { domid: 3 });
 * assert.equal(e.message, "xc_dom_boot_xen_init failed for domain 3: ENOSYS");
 * ```
 */
export class XenCallError extends Error {
  /** The failing call. */
  readonly step: string;
  /** `errno` after it (0 when the library left none). */
  readonly errno: number;
  /** The domain it acted on, when there was one. */
  readonly domid: number | undefined;

  /** Builds the error for `step`, which left `errno`. */
  constructor(step: string, errno: number, options: { domid?: number; cause?: unknown } = {}) {
    const on = options.domid === undefined ? "" : ` for domain ${options.domid}`;
    const why = errno === 0 ? "" : `: ${errnoName(errno)}`;
    super(`${step} failed${on}${why}`, { cause: options.cause });
    this.name = "XenCallError";
    this.step = step;
    this.errno = errno;
    this.domid = options.domid;
  }
}

/**
 * A domain build request the real hypervisor cannot act on (refused before any hypercall);
 * `field` names the request field, `value` is what it held.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { XenBuildRequestError } from "./errors.ts";
 * const e = new XenBuildRequestError("kernel", "/nope", "no such file");
 * assert.equal(e.message, 'Cannot build domain: kernel "/nope": no such file');
 * assert.ok(e instanceof TypeError);
 * ```
 */
export class XenBuildRequestError extends TypeError {
  /** The request field. */
  readonly field: string;
  /** Its value. */
  readonly value: unknown;

  /** Builds the error for `field` holding `value`. */
  constructor(field: string, value: unknown, problem: string, options?: ErrorOptions) {
    const shown = value === undefined ? "" : ` ${JSON.stringify(value)}`;
    super(`Cannot build domain: ${field}${shown}: ${problem}`, options);
    this.name = "XenBuildRequestError";
    this.field = field;
    this.value = value;
  }
}

/**
 * A hotplug script failed (non-zero exit, killed after the timeout, or `hotplug-status`
 * `error`); the message carries what libxl reports: the backend's `hotplug-error`, and the
 * script's own output.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HotplugError } from "./errors.ts";
 * const e = new HotplugError("/etc/xen/scripts/block", "add", "exit 1", {
 *   backendPath: "/local/domain/0/backend/vbd/1/51712",
 *   hotplugError: "/dev/nope does not exist.",
 *   output: "",
 * });
 * assert.match(e.message, /script: \/dev\/nope does not exist\./);
 * ```
 */
export class HotplugError extends Error {
  /** The script that ran. */
  readonly script: string;
  /** Its action argument (`add`, `remove`, `online`, `offline`). */
  readonly action: string;
  /** The device's backend path. */
  readonly backendPath: string;
  /** The backend's `hotplug-error` node, if the script wrote one. */
  readonly hotplugError: string | undefined;
  /** What the script printed (stdout and stderr). */
  readonly output: string;

  /** Builds the error; `how` says how the script failed (`exit 1`, `timed out after 40 s`). */
  constructor(
    script: string,
    action: string,
    how: string,
    details: { backendPath: string; hotplugError?: string | undefined; output: string },
    options?: ErrorOptions,
  ) {
    const parts = [`Hotplug script ${script} ${action} failed (${how}) for ${details.backendPath}`];
    if (details.hotplugError !== undefined) parts.push(`script: ${details.hotplugError}`);
    if (details.output.trim() !== "") parts.push(`output: ${details.output.trim()}`);
    super(parts.join("; "), options);
    this.name = "HotplugError";
    this.script = script;
    this.action = action;
    this.backendPath = details.backendPath;
    this.hotplugError = details.hotplugError;
    this.output = details.output;
  }
}

/**
 * libxl's domain config file could not be used: unreadable, not JSON, or the domain vanished
 * while its lock was being taken (`libxl__lock_domain_userdata`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DomainUserdataError } from "./errors.ts";
 * const e = new DomainUserdataError("/var/lib/xen/userdata-d.1.x.libxl-json", "not JSON");
 * assert.match(e.message, /not JSON/);
 * ```
 */
export class DomainUserdataError extends Error {
  /** The file. */
  readonly path: string;

  /** Builds the error for `path`. */
  constructor(path: string, problem: string, options?: ErrorOptions) {
    super(`libxl domain config ${path}: ${problem}`, options);
    this.name = "DomainUserdataError";
    this.path = path;
  }
}

/**
 * libxl's domid history (`/var/run/xen/domid-history`) could not be read or updated, or its
 * lock file could not be opened; a destroy that cannot record the domid does not happen
 * (libxl's rule).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DomidHistoryError } from "./errors.ts";
 * const e = new DomidHistoryError("/var/run/xen/domid-history", "cannot update it: EROFS");
 * assert.equal(e.message, "libxl domid history /var/run/xen/domid-history: cannot update it: EROFS");
 * ```
 */
export class DomidHistoryError extends Error {
  /** The history file. */
  readonly path: string;

  /** Builds the error for `path`. */
  constructor(path: string, problem: string, options?: ErrorOptions) {
    super(`libxl domid history ${path}: ${problem}`, options);
    this.name = "DomidHistoryError";
    this.path = path;
  }
}

/**
 * xl's "failed to free memory for the domain": the host has less free memory than the new
 * domain needs and autoballooning dom0 did not free enough.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InsufficientMemoryError } from "./errors.ts";
 * const e = new InsufficientMemoryError(2097152, 1048576, "dom0 did not get down to its target");
 * assert.equal(e.needKb, 2097152);
 * assert.match(e.message, /^failed to free memory for the domain: it needs 2097152 KiB, 1048576 KiB are free/);
 * ```
 */
export class InsufficientMemoryError extends Error {
  /** What the domain needs, in KiB (`libxl_domain_need_memory`). */
  readonly needKb: number;
  /** What the host had free, in KiB. */
  readonly freeKb: number;

  /** Builds the error; `why` says what stopped the ballooning. */
  constructor(needKb: number, freeKb: number, why: string, options?: ErrorOptions) {
    super(
      `failed to free memory for the domain: it needs ${needKb} KiB, ${freeKb} KiB are free (${why})`,
      options,
    );
    this.name = "InsufficientMemoryError";
    this.needKb = needKb;
    this.freeKb = freeKb;
  }
}
