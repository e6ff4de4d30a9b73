/**
 * The error classes of dxl's libxl layer.
 *
 * @module
 */

/**
 * A device or domain description had a wrong field; `field` names it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DeviceConfigError } from "./errors.ts";
 * const e = new DeviceConfigError("vif", "mac", '"zz" is not six hex bytes');
 * assert.equal(e.message, "Invalid vif field \"mac\": \"zz\" is not six hex bytes");
 * ```
 */
export class DeviceConfigError extends TypeError {
  /** The device kind (or `domain`) being described. */
  readonly kind: string;
  /** The offending field. */
  readonly field: string;

  /** Builds the error for `field` of a `kind` description, saying what is wrong. */
  constructor(kind: string, field: string, problem: string, options?: ErrorOptions) {
    super(`Invalid ${kind} field "${field}": ${problem}`, options);
    this.name = "DeviceConfigError";
    this.kind = kind;
    this.field = field;
  }
}

/**
 * A device with this kind and devid is already recorded under `/libxl` (libxl's
 * `ERROR_DEVICE_EXISTS`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DeviceExistsError } from "./errors.ts";
 * assert.equal(
 *   new DeviceExistsError("/libxl/1/device/vif/0").message,
 *   "Device already exists: /libxl/1/device/vif/0 is recorded",
 * );
 * ```
 */
export class DeviceExistsError extends Error {
  /** The `/libxl` record that already exists. */
  readonly path: string;

  /** Builds the error for the existing record at `path`. */
  constructor(path: string) {
    super(`Device already exists: ${path} is recorded`);
    this.name = "DeviceExistsError";
    this.path = path;
  }
}

/**
 * No `/libxl` record exists for the device an operation named.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DeviceNotFoundError } from "./errors.ts";
 * assert.equal(
 *   new DeviceNotFoundError("/libxl/1/device/vbd/51712").message,
 *   "No such device: /libxl/1/device/vbd/51712 is not recorded",
 * );
 * ```
 */
export class DeviceNotFoundError extends Error {
  /** The `/libxl` record that is missing. */
  readonly path: string;

  /** Builds the error for the missing record at `path`. */
  constructor(path: string) {
    super(`No such device: ${path} is not recorded`);
    this.name = "DeviceNotFoundError";
    this.path = path;
  }
}

/** Options of {@linkcode XenbusTimeoutError}: what was waited for and what was seen. */
export interface XenbusTimeoutErrorOptions {
  /** The state that was wanted. */
  wanted: number;
  /** The last value read (`undefined` if the node was missing). */
  reached: string | undefined;
  /** How long the wait lasted, in milliseconds. */
  waitedMs: number;
  /**
   * The device waited on, as the message names it (`vbd 51712 of domain 1`).
   * @default {the state node alone}
   */
  device?: string;
  /** The abort reason or other underlying error. @default {undefined} */
  cause?: unknown;
}

/**
 * A XenBus state wait ended (timeout or abort) before the wanted state was reached.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { XenbusTimeoutError } from "./errors.ts";
 * const e = new XenbusTimeoutError("/local/domain/0/backend/vbd/1/51712/state", {
 *   wanted: 6, reached: "5", waitedMs: 10000, device: "vbd 51712 of domain 1",
 * });
 * assert.equal(
 *   e.message,
 *   "vbd 51712 of domain 1: /local/domain/0/backend/vbd/1/51712/state did not reach " +
 *     'XenbusState 6 (Closed) after 10000 ms: state is "5"',
 * );
 * ```
 */
export class XenbusTimeoutError extends Error {
  /** The `state` node that was watched. */
  readonly path: string;
  /** The device waited on, when the caller named it. */
  readonly device: string | undefined;
  /** The state that was wanted. */
  readonly wanted: number;
  /** The last value read (`undefined` if the node was missing). */
  readonly reached: string | undefined;
  /** How long the wait lasted, in milliseconds. */
  readonly waitedMs: number;

  /** Builds the error for a wait on the node `path`. */
  constructor(path: string, options: XenbusTimeoutErrorOptions) {
    const { wanted, reached, waitedMs, device } = options;
    const got = reached === undefined ? "the node is missing" : `state is "${reached}"`;
    const subject = device === undefined ? path : `${device}: ${path}`;
    super(
      `${subject} did not reach XenbusState ${wanted} (${stateLabel(wanted)}) ` +
        `after ${waitedMs} ms: ${got}`,
      { cause: options.cause },
    );
    this.name = "XenbusTimeoutError";
    this.path = path;
    this.device = device;
    this.wanted = wanted;
    this.reached = reached;
    this.waitedMs = waitedMs;
  }
}

const LABELS = [
  "Unknown",
  "Initialising",
  "InitWait",
  "Initialised",
  "Connected",
  "Closing",
  "Closed",
  "Reconfiguring",
  "Reconfigured",
];

function stateLabel(state: number): string {
  return LABELS[state] ?? "not a XenbusState";
}

/**
 * Another domain already has the name a domain was to be given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DomainNameInUseError } from "./errors.ts";
 * assert.equal(
 *   new DomainNameInUseError("web", 3).message,
 *   'Domain name "web" is already used by domain 3',
 * );
 * ```
 */
export class DomainNameInUseError extends Error {
  /** The name asked for. */
  readonly domainName: string;
  /** The domain that has it. */
  readonly holder: number;

  /** Builds the error: `name` is held by domain `holder`. */
  constructor(name: string, holder: number) {
    super(`Domain name "${name}" is already used by domain ${holder}`);
    this.name = "DomainNameInUseError";
    this.domainName = name;
    this.holder = holder;
  }
}

/**
 * A domain's name changed under a rename (libxl's "racing?" case), or the domain is gone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DomainRenameConflictError } from "./errors.ts";
 * assert.equal(
 *   new DomainRenameConflictError(3, "a", "b").message,
 *   'Cannot rename domain 3: expected its name to be "a", found "b"',
 * );
 * ```
 */
export class DomainRenameConflictError extends Error {
  /** The domain being renamed. */
  readonly domid: number;

  /** Builds the error: domain `domid` was expected to be named `expected` but is `actual`. */
  constructor(domid: number, expected: string, actual: string | undefined) {
    super(
      `Cannot rename domain ${domid}: expected its name to be "${expected}", found ${
        actual === undefined ? "no name" : `"${actual}"`
      }`,
    );
    this.name = "DomainRenameConflictError";
    this.domid = domid;
  }
}

/**
 * An xl disk spec (`phy:/dev/vg0/web,xvda,w`, `vdev=xvda,target=/srv/a.img`) that xl would
 * refuse; `part` is the text the complaint is about (xl's "near" text), or the name of the
 * missing parameter (`vdev`, `target`) when one is missing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DiskSpecError } from "./errors.ts";
 * const e = new DiskSpecError("/a,xvda", "xvda", "unknown value for format");
 * assert.equal(e.message, 'Invalid disk spec "/a,xvda": unknown value for format near "xvda"');
 * assert.ok(e instanceof TypeError);
 * ```
 */
export class DiskSpecError extends TypeError {
  /** The whole spec. */
  readonly spec: string;
  /** The offending part of it (or the missing parameter's name). */
  readonly part: string;

  /** Builds the error: `problem` with `part` of `spec`. */
  constructor(spec: string, part: string, problem: string, options?: ErrorOptions) {
    super(
      `Invalid disk spec ${JSON.stringify(spec)}: ${problem} near ${JSON.stringify(part)}`,
      options,
    );
    this.name = "DiskSpecError";
    this.spec = spec;
    this.part = part;
  }
}

/**
 * A nic rate in xl's syntax (`10Mb/s`, `1MB/s@20ms`) that xl would refuse; `part` is the
 * offending half (the rate or the replenishment interval), or the whole text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RateSpecError } from "./errors.ts";
 * const e = new RateSpecError("10Mb/s@x", "x", "invalid replenishment interval");
 * assert.equal(e.message, 'Invalid rate "10Mb/s@x": invalid replenishment interval near "x"');
 * ```
 */
export class RateSpecError extends TypeError {
  /** The whole rate text. */
  readonly rate: string;
  /** The offending part of it. */
  readonly part: string;

  /** Builds the error: `problem` with `part` of `rate`. */
  constructor(rate: string, part: string, problem: string) {
    super(`Invalid rate ${JSON.stringify(rate)}: ${problem} near ${JSON.stringify(part)}`);
    this.name = "RateSpecError";
    this.rate = rate;
    this.part = part;
  }
}

/**
 * No toolstack-made domain (no `/libxl/<domid>` record) has this id or name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DomainNotFoundError } from "./errors.ts";
 * assert.equal(new DomainNotFoundError("web").message, 'No domain "web": no /libxl record has that name');
 * assert.equal(new DomainNotFoundError(7).message, "No domain 7: /libxl/7 does not exist");
 * ```
 */
export class DomainNotFoundError extends Error {
  /** The id or name asked for. */
  readonly domain: string | number;

  /** Builds the error for the domain asked for by `domain` (an id or a name). */
  constructor(domain: string | number) {
    super(
      typeof domain === "number"
        ? `No domain ${domain}: /libxl/${domain} does not exist`
        : `No domain ${JSON.stringify(domain)}: no /libxl record has that name`,
    );
    this.name = "DomainNotFoundError";
    this.domain = domain;
  }
}

/**
 * The guest has no PV control interface for a request (libxl's `ERROR_NOPARAVIRT`: an HVM
 * guest without PV drivers; xl then suggests `-F`, the ACPI fallback).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NoParavirtError } from "./errors.ts";
 * const e = new NoParavirtError(3, "poweroff", "control/feature-poweroff is not 1");
 * assert.equal(e.domid, 3);
 * assert.match(e.message, /PV control interface not available/);
 * ```
 */
export class NoParavirtError extends Error {
  /** The guest. */
  readonly domid: number;
  /** The request that could not be sent (`poweroff`, `reboot`, ...). */
  readonly request: string;

  /** Builds the error: `request` cannot be sent to `domid`, because `why`. */
  constructor(domid: number, request: string, why: string) {
    super(`Cannot send ${request} to domain ${domid}: PV control interface not available (${why})`);
    this.name = "NoParavirtError";
    this.domid = domid;
    this.request = request;
  }
}

/**
 * The guest did not acknowledge a `control/shutdown` request in time (libxl: "guest didn't
 * acknowledge control request", `ERROR_TIMEDOUT`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ControlTimeoutError } from "./errors.ts";
 * const e = new ControlTimeoutError(3, "reboot", { waitedMs: 60000, value: "reboot" });
 * assert.match(e.message, /did not acknowledge reboot/);
 * ```
 */
export class ControlTimeoutError extends Error {
  /** The guest. */
  readonly domid: number;
  /** The request (`poweroff`, `reboot`, `suspend`, `halt`). */
  readonly request: string;
  /** How long the wait lasted, in milliseconds. */
  readonly waitedMs: number;
  /** `control/shutdown` as last read (`undefined`: missing). */
  readonly value: string | undefined;

  /** Builds the error for `request` to `domid`, with what the wait saw. */
  constructor(
    domid: number,
    request: string,
    seen: { waitedMs: number; value: string | undefined; cause?: unknown },
  ) {
    super(
      `Domain ${domid} did not acknowledge ${request} within ${seen.waitedMs} ms: ` +
        `control/shutdown is ${seen.value === undefined ? "missing" : JSON.stringify(seen.value)}`,
      { cause: seen.cause },
    );
    this.name = "ControlTimeoutError";
    this.domid = domid;
    this.request = request;
    this.waitedMs = seen.waitedMs;
    this.value = seen.value;
  }
}
