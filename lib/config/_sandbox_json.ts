/**
 * The sandboxed child's conversion of a script's value into JSON text, and of what it threw
 * into a report. Its own walker, not `JSON.stringify` on the value: no `toJSON` or getter
 * runs twice, and every problem is named by its path in the value. Every built-in it uses
 * is captured when this module loads, before any script code runs (a script may replace
 * globals and prototypes).
 *
 * @module
 */

import { parseDenied, type Report } from "./_sandbox_protocol.ts";

// Captured before any script code runs: a script may replace globals and prototypes.
const ReflectApply = Reflect.apply;
const ReflectGet = Reflect.get;
const ReflectOwnKeys = Reflect.ownKeys;
const ReflectGetPrototypeOf = Reflect.getPrototypeOf;
const ReflectGetOwnPropertyDescriptor = Reflect.getOwnPropertyDescriptor;
const ArrayIsArray = Array.isArray;
const ArrayPrototypeJoin = Array.prototype.join;
const ObjectPrototype = Object.prototype;
const JSONStringify = JSON.stringify;
const NumberIsFinite = Number.isFinite;
const StringCtor = String;
const SymbolPrototypeToString = Symbol.prototype.toString;
const RegExpPrototypeExec = RegExp.prototype.exec;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const MAX_DEPTH = 1000;

/** `read()`, or `fallback` when a getter or trap of the script's throws. */
export function safe<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/** `Name: message` (and the stack) of something a script threw, read defensively. */
export function describeError(error: unknown): { detail: string; stack?: string; text: string } {
  if (typeof error !== "object" || error === null) {
    const detail = `${typeof error === "string" ? "" : "threw "}${
      safe(() => StringCtor(error), "?")
    }`;
    return { detail, text: detail };
  }
  const name = safe(() => StringCtor(ReflectGet(error, "name") ?? "Error"), "Error");
  const message = safe(() => StringCtor(ReflectGet(error, "message") ?? ""), "");
  const stack = safe(() => ReflectGet(error, "stack"), undefined);
  const detail = message === "" ? name : `${name}: ${message}`;
  return typeof stack === "string" ? { detail, stack, text: detail } : { detail, text: detail };
}

/** Turns what the script threw into a report: a refused permission, or a failure. */
export function failure(error: unknown): Report {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    const { text } = describeError(current);
    const denied = parseDenied(text);
    if (denied) return { kind: "permission", ...denied, message: text };
    current = typeof current === "object"
      ? safe(() => ReflectGet(current as object, "cause"), undefined)
      : undefined;
  }
  const { detail, stack } = describeError(error);
  return stack === undefined ? { kind: "failed", detail } : { kind: "failed", detail, stack };
}

class OutputProblem {
  constructor(readonly path: string, readonly problem: string) {}
}

function keyPath(path: string, key: string): string {
  if (ReflectApply(RegExpPrototypeExec, IDENTIFIER, [key]) !== null) {
    return path === "" ? key : `${path}.${key}`;
  }
  return `${path}[${JSONStringify(key)}]`;
}

function read(container: object, key: string | number, path: string): unknown {
  try {
    return ReflectGet(container, key);
  } catch (error) {
    throw new OutputProblem(path, `could not be read: ${describeError(error).detail}`);
  }
}

/** The JSON text of `value`, or an {@linkcode OutputProblem} naming where it is not data. */
function toJson(value: unknown, path: string, ancestors: Map<object, string>): string {
  switch (typeof value) {
    case "string":
      return JSONStringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!NumberIsFinite(value)) throw new OutputProblem(path, `is ${value}, not a finite number`);
      return `${value}`;
    case "bigint":
      throw new OutputProblem(path, `is a BigInt (${value}n)`);
    case "symbol":
      throw new OutputProblem(
        path,
        `is a Symbol (${ReflectApply(SymbolPrototypeToString, value, [])})`,
      );
    case "function":
      throw new OutputProblem(path, "is a function");
    case "undefined":
      throw new OutputProblem(path, "is undefined");
  }
  if (value === null) return "null";
  const object = value as object;
  const seen = ancestors.get(object);
  if (seen !== undefined) {
    throw new OutputProblem(path, `is a cycle back to ${seen === "" ? "the value itself" : seen}`);
  }
  if (ancestors.size >= MAX_DEPTH) {
    throw new OutputProblem(path, `is nested more than ${MAX_DEPTH} levels deep`);
  }
  ancestors.set(object, path);
  const parts: string[] = [];
  let isArray: boolean;
  try {
    isArray = ArrayIsArray(object);
  } catch (error) {
    throw new OutputProblem(path, `could not be read: ${describeError(error).detail}`);
  }
  if (isArray) {
    const length = read(object, "length", path) as number;
    for (let i = 0; i < length; i++) {
      const itemPath = `${path}[${i}]`;
      const item = read(object, i, itemPath);
      if (item === undefined) {
        throw new OutputProblem(itemPath, "is undefined (an array cannot hold it)");
      }
      parts[i] = toJson(item, itemPath, ancestors);
    }
    ancestors.delete(object);
    return `[${ReflectApply(ArrayPrototypeJoin, parts, [","])}]`;
  }
  let keys: (string | symbol)[];
  try {
    const proto = ReflectGetPrototypeOf(object);
    if (proto !== ObjectPrototype && proto !== null) {
      const name = safe(() => StringCtor(ReflectGet(proto, "constructor")?.name ?? ""), "");
      throw new OutputProblem(
        path,
        `is ${
          name === "" ? "an object with a prototype" : `a ${name} object`
        }, not a plain object or array`,
      );
    }
    keys = ReflectOwnKeys(object);
  } catch (error) {
    if (error instanceof OutputProblem) throw error;
    throw new OutputProblem(path, `could not be read: ${describeError(error).detail}`);
  }
  let n = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (typeof key !== "string") continue;
    const fieldPath = keyPath(path, key);
    let descriptor: PropertyDescriptor | undefined;
    try {
      descriptor = ReflectGetOwnPropertyDescriptor(object, key);
    } catch (error) {
      throw new OutputProblem(fieldPath, `could not be read: ${describeError(error).detail}`);
    }
    if (descriptor === undefined || !descriptor.enumerable) continue;
    const field = "get" in descriptor || "set" in descriptor
      ? read(object, key, fieldPath)
      : descriptor.value;
    if (field === undefined) continue; // an absent optional field, as JSON has it
    parts[n++] = `${JSONStringify(key)}:${toJson(field, fieldPath, ancestors)}`;
  }
  ancestors.delete(object);
  return `{${ReflectApply(ArrayPrototypeJoin, parts, [","])}}`;
}

/** The report for a script's value: its JSON text, or where and why it is not data. */
export function serialize(value: unknown): Report {
  try {
    return { kind: "ok", json: toJson(value, "", new Map()) };
  } catch (error) {
    if (error instanceof OutputProblem) {
      return { kind: "output", path: error.path, problem: error.problem };
    }
    if (error instanceof RangeError) {
      return { kind: "output", path: "", problem: "is nested too deeply" };
    }
    return failure(error);
  }
}
