/**
 * The main module of a sandboxed script run (started by `evaluateScript`, never imported).
 *
 * It loads dxl's own modules statically (so a script's `import "dxl"` finds them loaded and
 * needs no permission for them), reads the parent's start message from stdin, then imports
 * the script dynamically: Deno checks every module of a dynamically imported graph against
 * the read permission, so a script reaches no module outside what was granted. It awaits
 * the default export (calling it if it is a function), turns the value into JSON text with
 * its own walker (no `toJSON`, no getters run twice, every problem named by its path), and
 * writes one report line carrying the parent's nonce to stdout, then exits.
 *
 * @module
 */

import "../../mod.ts";
import { frameReport, parseDenied, type Report, type StartMessage } from "./_sandbox_protocol.ts";

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
const JSONParse = JSON.parse;
const NumberIsFinite = Number.isFinite;
const StringCtor = String;
const SymbolPrototypeToString = Symbol.prototype.toString;
const RegExpPrototypeExec = RegExp.prototype.exec;
const Uint8ArraySubarray = Uint8Array.prototype.subarray;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const encoder = new TextEncoder();
const encode = encoder.encode.bind(encoder);
const stdoutWriteSync = Deno.stdout.writeSync.bind(Deno.stdout);
const exit: (code?: number) => never = Deno.exit;
const NotCapable = Deno.errors.NotCapable;
const MAX_DEPTH = 1000;

const start = await readStart();

function send(report: Report): never {
  const bytes = encode(frameReport(start.nonce, JSONStringify(report)));
  let written = 0;
  while (written < bytes.length) {
    written += stdoutWriteSync(ReflectApply(Uint8ArraySubarray, bytes, [written]));
  }
  exit(0);
}

async function readStart(): Promise<StartMessage> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(4096);
  for (;;) {
    const n = await Deno.stdin.read(buffer);
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
  }
  try {
    Deno.stdin.close();
  } catch { /* already closed */ }
  const text = new TextDecoder().decode(await new Blob(chunks as BlobPart[]).arrayBuffer());
  return JSONParse(text) as StartMessage;
}

/** Reads `key` of a value the script made, without letting its getters or traps escape. */
function safe<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

function describeError(error: unknown): { detail: string; stack?: string; text: string } {
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
function failure(error: unknown): Report {
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

function serialize(value: unknown): Report {
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

// Errors nobody caught (a timer, a worker's error event) end the run with a report.
globalThis.addEventListener("error", (event) => {
  event.preventDefault();
  send(failure(event.error ?? event.message));
});
globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  send(failure(event.reason));
});

// Origin storage would outlive the run; the parent also gives each run its own origin.
for (const name of ["localStorage", "sessionStorage", "caches"]) {
  delete (globalThis as Record<string, unknown>)[name];
}

// A worker asking for more than this process has fails; name the permission it asked for.
const OriginalWorker = globalThis.Worker;
const ESCALATION_ORDER = ["run", "ffi", "write", "sys", "import", "net", "env", "read"];
globalThis.Worker = new Proxy(OriginalWorker, {
  construct(target, args, newTarget) {
    try {
      return Reflect.construct(target, args, newTarget);
    } catch (error) {
      const options = args[1] as { deno?: { permissions?: unknown } } | undefined;
      const wanted = safe(() => options?.deno?.permissions, undefined);
      if (error instanceof NotCapable && typeof wanted === "object" && wanted !== null) {
        for (const permission of ESCALATION_ORDER) {
          const asked = safe(() => ReflectGet(wanted, permission), undefined);
          if (asked === true || (ArrayIsArray(asked) && asked.length > 0)) {
            const target = ArrayIsArray(asked) ? ` to "${StringCtor(asked[0])}"` : "";
            throw new NotCapable(
              `Requires ${permission} access${target}, run again with the --allow-${permission} flag (a worker cannot have more permissions than its script)`,
              { cause: error },
            );
          }
        }
      }
      throw error;
    }
  },
});

let namespace: Record<string, unknown>;
try {
  namespace = await import(start.script);
} catch (error) {
  send(failure(error));
}
if (!("default" in namespace)) {
  send({ kind: "output", path: "", problem: "is missing: the script has no default export" });
}
let value: unknown;
try {
  value = namespace.default;
  value = typeof value === "function" ? await value() : await value;
} catch (error) {
  send(failure(error));
}
send(serialize(value));
