/**
 * The `dxl` command's exit codes and the errors that choose them.
 *
 * @module
 */

/** Exit codes of `dxl` (documented in `dxl --help`). */
export const ExitCode = {
  /** Success; for `plan --detailed-exitcode`, success with no changes. */
  Ok: 0,
  /** The command failed (xenstore refused, a backend never connected, ...). */
  Error: 1,
  /** Bad input: unknown command or flag, a missing domain, a bad spec, a missing script. */
  Usage: 2,
  /** `plan --detailed-exitcode` only: the plan has changes. */
  ChangesPending: 3,
} as const;

/** One of {@linkcode ExitCode}'s values. */
export type ExitCode = typeof ExitCode[keyof typeof ExitCode];

/**
 * Bad input on the command line (exit code 2). The message is printed as one line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UsageError } from "./errors.ts";
 * const error = new UsageError('Bad permission "x7": use n, r, w or b followed by a domid');
 * assert.equal(error.name, "UsageError");
 * ```
 */
export class UsageError extends Error {
  /** Makes a usage error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** Names of library errors that mean "the caller gave bad input" (exit code 2). */
const USAGE_ERROR_NAMES = new Set([
  "UsageError",
  "DomainNotFoundError",
  "DiskSpecError",
  "InvalidPathError",
  "InvalidPermissionError",
  "ConfigValidationError",
  "ScriptNotFoundError",
  "ScriptPermissionError",
]);

/**
 * The exit code for an error thrown by a command: 2 for bad input (a {@linkcode UsageError},
 * a missing domain, a bad disk spec or path, an invalid script; also any subclass of
 * `TypeError`/`RangeError`, the house style's caller-mistake errors), 1 for anything else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exitCodeOf, UsageError } from "./errors.ts";
 * assert.equal(exitCodeOf(new UsageError("no such command")), 2);
 * assert.equal(exitCodeOf(new Error("EACCES")), 1);
 * ```
 */
export function exitCodeOf(error: unknown): ExitCode {
  if (!(error instanceof Error)) return ExitCode.Error;
  if (USAGE_ERROR_NAMES.has(error.name)) return ExitCode.Usage;
  const isSubclassOf = (base: ErrorConstructor) =>
    error instanceof base && error.constructor !== base;
  if (isSubclassOf(TypeError) || isSubclassOf(RangeError)) return ExitCode.Usage;
  return ExitCode.Error;
}
