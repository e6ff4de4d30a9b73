/**
 * Permissioned evaluation of a domain script: {@linkcode evaluateScript}.
 *
 * How "not granted" holds by every route:
 * - The script runs in its own `deno run --no-prompt` process with `--allow-read` for its
 *   own folder and `allowRead` only (plus `allowEnv`/`allowNet` when given); write, run,
 *   ffi, sys and import are never granted. `--no-config`, `--no-remote`, and an import map
 *   given as a `data:` URL: `"dxl"` is this package's mod.ts, and dxl's own bare imports
 *   resolve inside dxl only. The npm package dxl uses (zod) is mapped to its files in
 *   Deno's npm cache, at the version deno.lock pins, so the child runs with `--no-npm`: no
 *   `npm:` specifier resolves there at all. (If a package cannot be mapped, npm stays on,
 *   limited by `--cached-only` and dxl's deno.lock with `--frozen-lockfile`.)
 * - Deno checks a path as written, so every granted folder is walked first: each symlink
 *   that leads out of everything granted (or dangles), and each link into a folder holding
 *   such a link, is passed to `--deny-read` under every name the script could use.
 * - Module loading: the child imports the script dynamically, after loading dxl
 *   statically, so Deno checks every module of the script's graph (static JSON imports
 *   included) against the read permission. Before the run, `deno info` refuses any npm,
 *   jsr or remote import in the script's graph, naming it.
 * - Workers get at most the script's permissions; origin storage (localStorage, caches)
 *   is removed and each run has an origin of its own, deleted afterwards.
 * - Limits: a timer (SIGKILL), `--max-old-space-size`, the process's resident memory
 *   polled from `/proc` (or `ps` without `--allow-all`), a CPU-time limit (`ulimit -t`) and
 *   a stdin that ends when the caller dies, so no script outlives its caller.
 * - The value comes back as JSON text in one stdout line carrying a per-run random nonce
 *   (the script's own output cannot forge or split it), parsed with `JSON.parse`.
 *
 * @module
 */

import {
  ScriptError,
  ScriptFailedError,
  ScriptMemoryError,
  ScriptOutputError,
  type ScriptPermission,
  ScriptPermissionError,
  ScriptTimeoutError,
} from "./errors.ts";
import {
  findReport,
  parseDenied,
  READY,
  type Report,
  type StartMessage,
} from "./_sandbox_protocol.ts";
import {
  absolutePath,
  checkList,
  deniedLinkOf,
  planReads,
  type ReadPlan,
} from "./_sandbox_grants.ts";
import { checkModuleGraph, importMapUrl, packageGraph, packageImports } from "./_sandbox_graph.ts";
import { localNpmImports } from "./_sandbox_npm.ts";
import {
  forgetOrigin,
  readAll,
  readTail,
  spawnChild,
  stripAnsi,
  watchMemory,
} from "./_sandbox_process.ts";

/** What a script may do, and its limits. */
export interface EvaluateOptions {
  /**
   * Paths the script may read (files or folders, relative to the working directory), or
   * `true` for all. The script's own folder is always readable. A symlink in a granted
   * folder that leads out of everything granted is not followed.
   *
   * @default {false}
   */
  allowRead?: boolean | string[];
  /**
   * Environment variables the script may read, or `true` for all.
   *
   * @default {false}
   */
  allowEnv?: boolean | string[];
  /**
   * Hosts (`host` or `host:port`) the script may connect to, or `true` for all.
   *
   * @default {false}
   */
  allowNet?: boolean | string[];
  /**
   * Time limit for the whole run, in milliseconds; the process is killed after it.
   *
   * @default {10000}
   */
  timeoutMs?: number;
  /**
   * Memory limit in MiB: the V8 heap, and the whole process at this plus a fixed allowance
   * for Deno itself ({@linkcode PROCESS_OVERHEAD_MB}).
   *
   * @default {256}
   */
  memoryMb?: number;
  /**
   * Aborts the run: the process is killed and the promise rejects with the signal's reason.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/** MiB a sandboxed Deno process may use beyond `memoryMb` (runtime, code, buffers). */
export const PROCESS_OVERHEAD_MB = 128;

const MAX_STDOUT_BYTES = 64 * 1024 * 1024;
const MAX_STDERR_CHARS = 64 * 1024;
const OOM =
  /Fatal JavaScript out of memory|Reached heap limit|JavaScript heap out of memory|Fatal process out of memory/;
const PACKAGE_ROOT = new URL("../../", import.meta.url);
const CHILD_URL = new URL("./_sandbox_child.ts", import.meta.url);
const LOCK_URL = new URL("../../deno.lock", import.meta.url);

/**
 * Runs the domain script at `path` in a separate `deno run --no-prompt` process that has
 * no permission but those granted, and returns its default export as JSON data: a config
 * object, or what the default-exported (sync or async) function returns.
 *
 * The script may import `"dxl"` (this package), `node:` built-ins and local modules it may
 * read (its own folder, `allowRead`); remote, npm and jsr imports are refused. Whatever
 * it tries beyond its grants rejects with a {@linkcode ScriptPermissionError} naming the
 * permission and how to grant it (or that dxl never grants it); an endless loop with a
 * {@linkcode ScriptTimeoutError}, a memory bomb with a {@linkcode ScriptMemoryError}, a
 * throw with a {@linkcode ScriptFailedError}, a value that is not JSON data with a
 * {@linkcode ScriptOutputError} naming where in the value; a run where dxl itself cannot
 * start rejects with a plain {@linkcode ScriptError}.
 *
 * The caller needs `--allow-run` (for `deno`, and `sh` for the CPU-time limit),
 * `--allow-read` (the script, the granted folders it walks for symlinks, `/proc`) and
 * `--allow-write` for Deno's origin-storage folder, which it cleans up after each run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { evaluateScript } from "./evaluate.ts";
 * import { ScriptPermissionError } from "./errors.ts";
 *
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-" });
 * await Deno.writeTextFile(
 *   `${dir}/web.ts`,
 *   `export default async () => ({ domains: [{ name: "web", site: Deno.env.get("SITE") }] });`,
 * );
 * Deno.env.set("SITE", "fra1");
 * await assert.rejects(evaluateScript(`${dir}/web.ts`), ScriptPermissionError);
 * const config = await evaluateScript(`${dir}/web.ts`, { allowEnv: ["SITE"] });
 * assert.deepEqual(config, { domains: [{ name: "web", site: "fra1" }] });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function evaluateScript(
  path: string,
  options: EvaluateOptions = {},
): Promise<unknown> {
  const { timeoutMs = 10_000, memoryMb = 256, signal } = options;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(`Invalid timeoutMs ${timeoutMs}: it must be a positive number`);
  }
  if (!Number.isInteger(memoryMb) || memoryMb < 16) {
    throw new RangeError(`Invalid memoryMb ${memoryMb}: it must be an integer of at least 16`);
  }
  const env = grantList("allowEnv", options.allowEnv);
  const net = grantList("allowNet", options.allowNet);
  signal?.throwIfAborted();
  if (CHILD_URL.protocol !== "file:") {
    throw new ScriptError(
      path,
      `${path}: cannot evaluate: dxl must be loaded from local files to run scripts (it is at ${PACKAGE_ROOT.href})`,
    );
  }

  const cwd = Deno.cwd();
  const given = absolutePath(path, cwd);
  let real: string;
  try {
    real = await Deno.realPath(given);
    if (!(await Deno.stat(real)).isFile) throw new Deno.errors.IsADirectory(real);
  } catch (error) {
    throw new ScriptError(path, `${path}: cannot open "${given}": ${(error as Error).message}`, {
      cause: error,
    });
  }
  const dirs = [...new Set([dirname(real), dirname(given)])];
  const importMap = importMapUrl(packageImports());
  // The graph check runs while the child starts (loading dxl takes most of its time); the
  // child runs nothing of the script before it is sent the start message.
  const graphChecked = checkModuleGraph(path, real, importMap).then(() => undefined, (e) => e);
  let reads: ReadPlan;
  try {
    reads = await planReads(path, dirs, options.allowRead, cwd);
  } catch (error) {
    await graphChecked;
    throw error;
  }

  // With dxl's npm packages mapped to files, the child resolves no npm: specifier at all.
  const local = await localNpmImports(packageImports(), (await packageGraph(importMap)).npm);
  const resolution = local === undefined
    ? [
      `--import-map=${importMap}`,
      "--cached-only",
      ...(await exists(LOCK_URL)
        ? [`--lock=${LOCK_URL.pathname}`, "--frozen-lockfile"]
        : ["--no-lock"]),
    ]
    : [`--import-map=${importMapUrl(local)}`, "--no-npm"];
  const nonce = crypto.randomUUID().replaceAll("-", "");
  // Its own origin, so origin storage (localStorage, caches) cannot outlive the run.
  const origin = `http://${crypto.randomUUID()}.dxl.invalid`;
  const args = [
    "run",
    "--no-prompt",
    "--no-config",
    ...resolution,
    "--no-remote",
    `--location=${origin}/`,
    "--unstable-worker-options",
    `--v8-flags=--max-old-space-size=${memoryMb}`,
    ...readFlags(reads),
    ...(env === undefined ? [] : [env === true ? "--allow-env" : `--allow-env=${env.join(",")}`]),
    ...(net === undefined ? [] : [net === true ? "--allow-net" : `--allow-net=${net.join(",")}`]),
    CHILD_URL.pathname,
  ];
  let child: Deno.ChildProcess;
  try {
    child = spawnChild(args, Math.ceil(timeoutMs / 1000) * 2 + 5);
  } catch (error) {
    throw new ScriptError(path, `${path}: cannot start deno: ${(error as Error).message}`, {
      cause: error,
    });
  }

  let stoppedFor: "timeout" | "abort" | "memory" | "stdout" | "refused" | undefined;
  const stop = (why: typeof stoppedFor) => {
    stoppedFor ??= why;
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
  };
  const timer = setTimeout(() => stop("timeout"), timeoutMs);
  const onAbort = () => stop("abort");
  signal?.addEventListener("abort", onAbort, { once: true });
  const watchdog = watchMemory(child.pid, memoryMb + PROCESS_OVERHEAD_MB, () => stop("memory"));
  let stdout = "";
  let stderr = "";
  let refused: unknown;
  let exit = "";
  try {
    const output = Promise.all([
      readAll(child.stdout, MAX_STDOUT_BYTES, () => stop("stdout")),
      readTail(child.stderr, MAX_STDERR_CHARS),
    ]);
    refused = await graphChecked;
    // stdin stays open while the child runs: when it ends, the child knows the parent is gone.
    const writer = child.stdin.getWriter();
    if (refused === undefined) {
      const start: StartMessage = { nonce, script: toFileUrl(real) };
      await writer.write(new TextEncoder().encode(`${JSON.stringify(start)}\n`)).catch(() => {});
    } else {
      stop("refused");
    }
    [stdout, stderr] = await output;
    const status = await child.status;
    exit = status.signal === null ? `code ${status.code}` : `signal ${status.signal}`;
    await writer.close().catch(() => {});
  } finally {
    clearTimeout(timer);
    clearInterval(watchdog);
    signal?.removeEventListener("abort", onAbort);
    await forgetOrigin(origin);
  }

  if (refused !== undefined) throw refused;
  if (stoppedFor === "abort") throw signal?.reason;
  const line = findReport(stdout, nonce);
  if (line !== undefined) {
    let report: Report;
    try {
      report = JSON.parse(line) as Report;
    } catch (error) {
      throw new ScriptFailedError(
        path,
        "its result was garbled (something else wrote to stdout at the same time)",
        { cause: error },
      );
    }
    return fromReport(path, report, reads);
  }
  if (stoppedFor === "timeout") throw new ScriptTimeoutError(path, timeoutMs);
  if (stoppedFor === "memory" || OOM.test(stderr)) throw new ScriptMemoryError(path, memoryMb);
  if (stoppedFor === "stdout") {
    throw new ScriptFailedError(
      path,
      `it wrote more than ${MAX_STDOUT_BYTES / 1024 / 1024} MB to stdout`,
    );
  }
  const clean = stripAnsi(stderr);
  if (!stdout.startsWith(`${READY}\n`)) {
    // nothing of the script ran: dxl itself (or deno) failed in the child
    const why = /^error: (.*)$/m.exec(clean)?.[1] ?? clean.trim().split("\n").at(-1) ?? "";
    throw new ScriptError(path, `${path}: cannot run: dxl failed to start in the sandbox: ${why}`);
  }
  const denied = parseDenied(clean);
  if (denied) return fromReport(path, { kind: "permission", ...denied, message: clean }, reads);
  const errorLine = /^error: (.*)$/m.exec(clean)?.[1];
  throw new ScriptFailedError(
    path,
    errorLine ?? `it exited (${exit}) before returning a value`,
    { stack: clean },
  );
}

function grantList(
  option: string,
  value: boolean | string[] | undefined,
): true | string[] | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return true;
  if (!Array.isArray(value)) {
    throw new TypeError(`Invalid ${option} ${JSON.stringify(value)}: expected a boolean or a list`);
  }
  return value.length === 0 ? undefined : checkList(option, value);
}

function readFlags(reads: ReadPlan): string[] {
  const flags = [reads.allow === true ? "--allow-read" : `--allow-read=${reads.allow.join(",")}`];
  if (reads.deny.length > 0) flags.push(`--deny-read=${reads.deny.map((d) => d.name).join(",")}`);
  return flags;
}

function fromReport(path: string, report: Report, reads: ReadPlan): unknown {
  switch (report.kind) {
    case "ok":
      return JSON.parse(report.json);
    case "output":
      throw new ScriptOutputError(path, report.path, report.problem);
    case "failed":
      throw new ScriptFailedError(path, report.detail, { stack: report.stack });
    case "permission": {
      const permission = report.permission as ScriptPermission;
      const target = report.target;
      let advice: string | undefined;
      if (permission === "read" && target !== undefined) {
        const link = deniedLinkOf(target, reads.deny);
        if (link) {
          advice = link.target === undefined
            ? `"${link.name}" is a dangling symlink, which a script may not follow`
            : `"${link.name}" is a symlink that leads out of the granted paths, to "${link.target}"; grant that with --allow-read=${link.target}`;
        }
      } else if (permission === "import") {
        advice =
          `a script may import only "dxl", node: built-ins and local files it may read; remote, npm and jsr modules cannot be granted`;
      } else if (permission === "net" && target !== undefined && target.startsWith("unix:")) {
        advice = `dxl never grants access to Unix sockets`;
      }
      throw new ScriptPermissionError(path, permission, target, {
        ...(advice === undefined ? {} : { advice }),
        cause: new Error(report.message),
      });
    }
  }
}

function dirname(path: string): string {
  const at = path.lastIndexOf("/");
  return at <= 0 ? "/" : path.slice(0, at);
}

function toFileUrl(path: string): string {
  const url = new URL("file:///");
  url.pathname = path;
  return url.href;
}

async function exists(url: URL): Promise<boolean> {
  try {
    await Deno.stat(url);
    return true;
  } catch {
    return false;
  }
}
