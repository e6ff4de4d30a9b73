/**
 * Input checks shared by the device builders; each failure names the kind and the field.
 *
 * @module
 */

import { DeviceConfigError } from "../errors.ts";
import { checkDomid } from "../paths.ts";

const PRINTABLE = /^[\x20-\x7e]*$/;

/** A required text field: printable ASCII (what xenstore values carry by convention). */
export function text(kind: string, field: string, value: unknown): string {
  if (typeof value !== "string") {
    throw new DeviceConfigError(kind, field, `expected a string, got ${describe(value)}`);
  }
  if (!PRINTABLE.test(value)) {
    throw new DeviceConfigError(
      kind,
      field,
      `${JSON.stringify(value)} contains a character outside printable ASCII`,
    );
  }
  if (value.length > 2048) {
    throw new DeviceConfigError(kind, field, `${value.length} bytes is over the 2048-byte limit`);
  }
  return value;
}

/** An optional text field: `undefined` passes through. */
export function optText(kind: string, field: string, value: unknown): string | undefined {
  return value === undefined ? undefined : text(kind, field, value);
}

/** A required non-empty text field. */
export function nonEmpty(kind: string, field: string, value: unknown): string {
  const s = text(kind, field, value);
  if (s === "") throw new DeviceConfigError(kind, field, "must not be empty");
  return s;
}

/** An integer field within `[min, max]`; `fallback` when `undefined` (required if none). */
export function int(
  kind: string,
  field: string,
  value: unknown,
  range: { min: number; max: number; fallback?: number },
): number {
  if (value === undefined && range.fallback !== undefined) return range.fallback;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new DeviceConfigError(kind, field, `expected an integer, got ${describe(value)}`);
  }
  if (value < range.min || value > range.max) {
    throw new DeviceConfigError(
      kind,
      field,
      `${value} is outside ${range.min}..${range.max}`,
    );
  }
  return value;
}

/** A boolean field with a default. */
export function flag(kind: string, field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw new DeviceConfigError(kind, field, `expected true or false, got ${describe(value)}`);
  }
  return value;
}

/** One of a fixed set of strings, with a default. */
export function choice<T extends string>(
  kind: string,
  field: string,
  value: unknown,
  choices: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
    throw new DeviceConfigError(
      kind,
      field,
      `expected one of ${choices.map((c) => JSON.stringify(c)).join(", ")}, got ${describe(value)}`,
    );
  }
  return value as T;
}

/** Rejects a field that is set when it must not be, saying why. */
export function forbid(kind: string, field: string, value: unknown, why: string): void {
  if (value !== undefined) throw new DeviceConfigError(kind, field, why);
}

/** Throws unless `input` is a plain object. */
export function object(kind: string, input: unknown): Record<string, unknown> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new DeviceConfigError(kind, "(options)", `expected an object, got ${describe(input)}`);
  }
  return input as Record<string, unknown>;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value === null) return "null";
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}

/** What every builder starts from: its options as an object, `domid` and `backendDomid`. */
export function base(
  kind: string,
  options: unknown,
): { o: Record<string, unknown>; domid: number; backendDomid: number } {
  const o = object(kind, options);
  const domid = checkDomid(o.domid as number);
  const backendDomid = checkDomid((o.backendDomid as number | undefined) ?? 0, {
    what: "backendDomid",
  });
  return { o, domid, backendDomid };
}

/** The `devid` field: 0..2^31-1, `fallback` when absent (required if none). */
export function devidOf(kind: string, o: Record<string, unknown>, fallback?: number): number {
  const range = { min: 0, max: 0x7fffffff };
  return int(kind, "devid", o.devid, fallback === undefined ? range : { ...range, fallback });
}
