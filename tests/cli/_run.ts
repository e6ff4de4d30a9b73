/**
 * Runs `dxl` through its real entry point as a subprocess, and the real xenstore-utils
 * (from `../shared/refxs`) for comparison.
 *
 * @module
 */

import { REFXS_DIR, refxsUnavailable } from "../_helpers/servers.ts";
import { fromFileUrl, joinPosix } from "../_helpers/paths.ts";

/** The entry point under test. */
export const MAIN: string = fromFileUrl(new URL("../../lib/cli/main.ts", import.meta.url));

/** What a `dxl` run gave. */
export interface RunResult {
  /** Exit code. */
  code: number;
  /** Stdout as bytes. */
  bytes: Uint8Array;
  /** Stdout as text. */
  stdout: string;
  /** Stderr as text. */
  stderr: string;
}

/** Options of {@linkcode runDxl}. */
export interface RunDxlOptions {
  /** `XDG_STATE_HOME` for the run (the embedded store's home). Required: never the user's. */
  stateHome: string;
  /** More environment (e.g. `NO_COLOR`). @default {{}} */
  env?: Record<string, string>;
  /** Text on stdin; stdin is closed (`null`) when absent. @default {undefined} */
  stdin?: string;
  /** Kill the run after this long. @default {60000} */
  timeoutMs?: number;
}

/** The environment a run starts from: no xenstore selection leaks in from the caller. */
function baseEnv(stateHome: string): Record<string, string> {
  const env = Deno.env.toObject();
  delete env["XENSTORED_PATH"];
  delete env["XENSTORED_RUNDIR"];
  delete env["NO_COLOR"];
  delete env["INIT_CWD"]; // set by `deno task`; dxl would run from there
  env["XDG_STATE_HOME"] = stateHome;
  return env;
}

/** Runs `deno run -A lib/cli/main.ts ...args`. */
export async function runDxl(args: readonly string[], options: RunDxlOptions): Promise<RunResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    env: { ...baseEnv(options.stateHome), ...options.env },
    clearEnv: true,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(options.timeoutMs ?? 60000),
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    bytes: out.stdout,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/**
 * Runs a real xenstore-utils tool (`xenstore-ls`, ...) against `socket` and returns its
 * stdout bytes, or `undefined` when the reference tools are not set up here.
 */
export async function realTool(
  tool: string,
  args: readonly string[],
  socket: string,
): Promise<Uint8Array | undefined> {
  if (await refxsUnavailable() !== undefined) return undefined;
  const home = Deno.env.get("REFXS_HOME") ?? joinPosix(REFXS_DIR, ".work");
  const quoted = args.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  const out = await new Deno.Command("bash", {
    args: ["-c", `. ${home}/env.sh && XENSTORED_PATH=${socket} ${tool} ${quoted}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`${tool} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return out.stdout;
}

/** A fresh temporary directory for one test's state (removed by disposing). */
export async function tempHome(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "dxl-cli-", dir: "/tmp" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
    },
  };
}
