/**
 * The error classes of dxl's config layer: evaluating a domain script, then validating,
 * planning and applying its config.
 *
 * @module
 */

/**
 * The permissions a script can lack. dxl grants only `read`, `env` and `net`; the others
 * (`write`, `run`, `ffi`, `sys`, remote or npm `import`) are never granted to a script.
 */
export type ScriptPermission = "read" | "write" | "net" | "env" | "run" | "ffi" | "sys" | "import";

/** The permissions a caller may grant a script (`allowRead`, `allowEnv`, `allowNet`). */
export const GRANTABLE_PERMISSIONS: readonly ScriptPermission[] = ["read", "env", "net"];

/** Options shared by the script error constructors. */
export interface ScriptErrorOptions {
  /** The underlying error. */
  cause?: unknown;
}

/**
 * A domain script could not be evaluated; `script` is its path as the caller gave it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ScriptError } from "./errors.ts";
 * const e = new ScriptError("web.ts", 'web.ts: cannot open "web.ts": not found');
 * assert.equal(e.script, "web.ts");
 * assert.equal(e.name, "ScriptError");
 * ```
 */
export class ScriptError extends Error {
  /** The script's path as given to the evaluator. */
  readonly script: string;

  /** Builds the error for `script`; `message` should start with the script's name. */
  constructor(script: string, message: string, options: ScriptErrorOptions = {}) {
    super(message, options);
    this.name = "ScriptError";
    this.script = script;
  }
}

/** Options of {@linkcode ScriptPermissionError}. */
export interface ScriptPermissionErrorOptions extends ScriptErrorOptions {
  /**
   * Replaces the default advice ("grant it with --allow-read=…" or "dxl never grants …"),
   * e.g. to explain that a path is a symlink leading out of the granted folders.
   */
  advice?: string;
}

/**
 * A script tried something it was not granted (a file, the network, an environment
 * variable, a subprocess, FFI, system information, writing, or a remote/npm import). The
 * message names the script, what it attempted, and how to grant it or that it cannot be.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ScriptPermissionError } from "./errors.ts";
 * const e = new ScriptPermissionError("web.ts", "read", "/etc/passwd");
 * assert.equal(
 *   e.message,
 *   'web.ts: needs read access to "/etc/passwd"; grant it with --allow-read=/etc/passwd',
 * );
 * const run = new ScriptPermissionError("web.ts", "run", "ls");
 * assert.equal(run.message, 'web.ts: needs run access to "ls"; dxl never grants run access to a script');
 * ```
 */
export class ScriptPermissionError extends ScriptError {
  /** The permission the script lacked. */
  readonly permission: ScriptPermission;
  /** What it tried to reach (a path, host:port, variable, program, API name, specifier). */
  readonly target: string | undefined;

  /** Builds the error for `script` lacking `permission` for `target`. */
  constructor(
    script: string,
    permission: ScriptPermission,
    target?: string,
    options: ScriptPermissionErrorOptions = {},
  ) {
    const what = target === undefined
      ? `needs ${permission} access`
      : `needs ${permission} access to "${target}"`;
    const advice = options.advice ??
      (!GRANTABLE_PERMISSIONS.includes(permission)
        ? `dxl never grants ${permission} access to a script`
        : target === undefined
        ? `grant it with --allow-${permission}`
        : `grant it with --allow-${permission}=${target}`);
    super(script, `${script}: ${what}; ${advice}`, options);
    this.name = "ScriptPermissionError";
    this.permission = permission;
    this.target = target;
  }
}

/**
 * A script ran past its time limit and was killed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ScriptTimeoutError } from "./errors.ts";
 * const e = new ScriptTimeoutError("loop.ts", 2000);
 * assert.equal(e.message, "loop.ts: did not finish within 2000 ms and was stopped");
 * assert.equal(e.timeoutMs, 2000);
 * ```
 */
export class ScriptTimeoutError extends ScriptError {
  /** The time limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number;

  /** Builds the error for `script` stopped after `timeoutMs`. */
  constructor(script: string, timeoutMs: number, options: ScriptErrorOptions = {}) {
    super(script, `${script}: did not finish within ${timeoutMs} ms and was stopped`, options);
    this.name = "ScriptTimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A script exceeded its memory limit (the V8 heap) and was stopped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ScriptMemoryError } from "./errors.ts";
 * const e = new ScriptMemoryError("bomb.ts", 64);
 * assert.equal(e.message, "bomb.ts: ran out of memory (limit 64 MB) and was stopped");
 * ```
 */
export class ScriptMemoryError extends ScriptError {
  /** The heap limit that was exceeded, in MiB. */
  readonly memoryMb: number;

  /** Builds the error for `script` stopped at `memoryMb`. */
  constructor(script: string, memoryMb: number, options: ScriptErrorOptions = {}) {
    super(script, `${script}: ran out of memory (limit ${memoryMb} MB) and was stopped`, options);
    this.name = "ScriptMemoryError";
    this.memoryMb = memoryMb;
  }
}

/** Options of {@linkcode ScriptFailedError}. */
export interface ScriptFailedErrorOptions extends ScriptErrorOptions {
  /** The stack trace the script's error carried, as text. */
  stack?: string | undefined;
}

/**
 * A script threw (while loading, or in its default-exported function), failed to compile, or
 * exited without producing a value. `detail` is its error's `Name: message`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ScriptFailedError } from "./errors.ts";
 * const e = new ScriptFailedError("web.ts", "Error: no site given", { stack: "Error: no site given\n    at file:///web.ts:3:9" });
 * assert.equal(e.message, "web.ts: failed: Error: no site given");
 * assert.match(e.scriptStack ?? "", /web\.ts:3:9/);
 * ```
 */
export class ScriptFailedError extends ScriptError {
  /** The script's error as `Name: message` (or what went wrong, when it did not throw). */
  readonly detail: string;
  /** The stack of the script's error, when it had one. */
  readonly scriptStack: string | undefined;

  /** Builds the error for `script` failing with `detail`. */
  constructor(script: string, detail: string, options: ScriptFailedErrorOptions = {}) {
    super(script, `${script}: failed: ${detail}`, options);
    this.name = "ScriptFailedError";
    this.detail = detail;
    this.scriptStack = options.stack;
  }
}

/**
 * A script's default export (or what its function returned) is not JSON data: a function,
 * Symbol, BigInt, non-finite number, class instance, cycle, `undefined` in an array, or a
 * getter that threw. `path` says where in the value (`domains[0].memory`; empty for the
 * value itself).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ScriptOutputError } from "./errors.ts";
 * const e = new ScriptOutputError("web.ts", "domains[0].memory", "is a BigInt (512n)");
 * assert.equal(e.message, "web.ts: the exported value at domains[0].memory is a BigInt (512n); a config must be JSON data");
 * assert.equal(e.path, "domains[0].memory");
 * ```
 */
export class ScriptOutputError extends ScriptError {
  /** Where in the exported value the problem is (`a.b[2]`), empty for the value itself. */
  readonly path: string;
  /** What is wrong there. */
  readonly problem: string;

  /** Builds the error for `script` whose value at `path` has `problem`. */
  constructor(script: string, path: string, problem: string, options: ScriptErrorOptions = {}) {
    const where = path === "" ? "the exported value" : `the exported value at ${path}`;
    super(script, `${script}: ${where} ${problem}; a config must be JSON data`, options);
    this.name = "ScriptOutputError";
    this.path = path;
    this.problem = problem;
  }
}

/** One problem found in a config: where (`domains["web"].disks[1].vdev`) and what. */
export interface ConfigIssue {
  /** The field, from the config's root: `domains["web"].disks[1].vdev`. */
  path: string;
  /** What is wrong there, quoting the value. */
  message: string;
}

/**
 * A config is not valid; `issues` lists every problem (all at once), and the message has one
 * line per issue: `web.ts: domains["web"].disks[1].vdev: "xvd9" is not a valid virtual disk`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigValidationError } from "./errors.ts";
 * const e = new ConfigValidationError("web.ts", [
 *   { path: 'domains["web"].memory', message: '"lots" is not a memory size' },
 * ]);
 * assert.equal(e.message, 'web.ts: domains["web"].memory: "lots" is not a memory size');
 * assert.equal(e.name, "ConfigValidationError");
 * ```
 */
export class ConfigValidationError extends TypeError {
  /** The script the config came from (as given), or `"config"` for a value. */
  readonly script: string;
  /** Every problem found. */
  readonly issues: readonly ConfigIssue[];

  /** Builds the error for `script` with its `issues`. */
  constructor(script: string, issues: readonly ConfigIssue[], options: { cause?: unknown } = {}) {
    super(issues.map((i) => `${script}: ${i.path}: ${i.message}`).join("\n"), options);
    this.name = "ConfigValidationError";
    this.script = script;
    this.issues = issues;
  }
}

/**
 * The live store has something the plan cannot act on: a domain of the config's name that dxl
 * did not create (it is never touched), or a fixed domid held by another domain.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PlanConflictError } from "./errors.ts";
 * const e = new PlanConflictError("web", 'domain "web" (domid 3) exists and was not created by dxl');
 * assert.equal(e.domain, "web");
 * ```
 */
export class PlanConflictError extends Error {
  /** The domain of the config concerned. */
  readonly domain: string;

  /** Builds the error for `domain`. */
  constructor(domain: string, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "PlanConflictError";
    this.domain = domain;
  }
}

/**
 * Apply gave up: its transaction met EAGAIN (another writer) on every one of `attempts`
 * attempts, re-reading and re-planning each time. Nothing was applied.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ApplyConflictError } from "./errors.ts";
 * const e = new ApplyConflictError(8);
 * assert.match(e.message, /8 attempts/);
 * ```
 */
export class ApplyConflictError extends Error {
  /** How many times the transaction was tried. */
  readonly attempts: number;

  /** Builds the error after `attempts` conflicting attempts. */
  constructor(attempts: number, options: { cause?: unknown } = {}) {
    super(
      `apply: the store changed under every one of ${attempts} attempts (EAGAIN each time); ` +
        "nothing was applied — retry, or raise attempts",
      options,
    );
    this.name = "ApplyConflictError";
    this.attempts = attempts;
  }
}

/**
 * The plan given to apply no longer matches the store (someone changed it since the plan was
 * made); nothing was applied. Plan again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StalePlanError } from "./errors.ts";
 * assert.match(new StalePlanError(["create domain web"]).message, /create domain web/);
 * ```
 */
export class StalePlanError extends Error {
  /** The actions the plan would now take, as one-line summaries. */
  readonly actions: readonly string[];

  /** Builds the error listing what a fresh plan would do. */
  constructor(actions: readonly string[], options: { cause?: unknown } = {}) {
    super(
      `apply: the store changed since the plan was made; a fresh plan would: ${
        actions.length === 0 ? "nothing" : actions.join("; ")
      }. Nothing was applied`,
      options,
    );
    this.name = "StalePlanError";
    this.actions = actions;
  }
}

/** A device that did not reach the XenBus state apply waited for. */
export interface UnsettledDevice {
  /** The domain's name. */
  domain: string;
  /** `vbd 51712 of domain 3`. */
  device: string;
  /** What it should have reached: `connected` (InitWait or later) or `closed`. */
  wanted: "connected" | "closed";
  /** The backend state it was in when the time ran out (`undefined`: no state node). */
  state: string | undefined;
}

/**
 * The transaction committed, but some backends did not connect, or close, within the one
 * timeout; each is named. (Removed devices are cleaned up regardless, as libxl's forced
 * removal does.)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DeviceWaitTimeoutError } from "./errors.ts";
 * const e = new DeviceWaitTimeoutError(
 *   [{ domain: "web", device: "vif 0 of domain 3", wanted: "connected", state: "1" }],
 *   5000,
 * );
 * assert.match(e.message, /vif 0 of domain 3 \(web\) did not get connected: backend state 1/);
 * ```
 */
export class DeviceWaitTimeoutError extends Error {
  /** The devices that did not get there. */
  readonly devices: readonly UnsettledDevice[];
  /** The timeout, in milliseconds. */
  readonly timeoutMs: number;

  /** Builds the error for `devices` after `timeoutMs`. */
  constructor(devices: readonly UnsettledDevice[], timeoutMs: number) {
    const list = devices.map((d) =>
      `${d.device} (${d.domain}) did not get ${d.wanted}: backend state ${d.state ?? "missing"}`
    );
    super(`apply committed, but within ${timeoutMs} ms ${list.join("; ")}`);
    this.name = "DeviceWaitTimeoutError";
    this.devices = devices;
    this.timeoutMs = timeoutMs;
  }
}
