/**
 * What the sandboxed child and the parent agree on: the start message the parent writes to
 * the child's stdin, the framed report the child writes to its stdout, and how Deno's
 * permission errors are read. Pure; used by both sides.
 *
 * @module
 */

/** The parent's start message, written to the child's stdin (which it then closes). */
export interface StartMessage {
  /** Random hex; only a report line carrying it is believed. */
  nonce: string;
  /** The script's file URL (its real path). */
  script: string;
}

/** The child's outcome, sent back as one framed JSON line. */
export type Report =
  | { kind: "ok"; json: string }
  | { kind: "permission"; permission: string; target?: string; message: string }
  | { kind: "failed"; detail: string; stack?: string }
  | { kind: "output"; path: string; problem: string };

const FRAME = "DXL-SANDBOX-REPORT";

/**
 * The line the child writes once dxl has loaded, before it reads the start message (so
 * before any script code runs): without it, a failed run is dxl's failure, not the script's.
 */
export const READY = "DXL-SANDBOX-READY";

/** The line the child writes for a report (`json` is one line: `JSON.stringify` output). */
export function frameReport(nonce: string, json: string): string {
  return `\n${FRAME} ${nonce} ${json}\n`;
}

/**
 * Finds the report carrying `nonce` in the child's stdout; `undefined` when there is none.
 */
export function findReport(stdout: string, nonce: string): string | undefined {
  const marker = `\n${FRAME} ${nonce} `;
  const at = stdout.lastIndexOf(marker);
  if (at < 0) return undefined;
  const start = at + marker.length;
  const end = stdout.indexOf("\n", start);
  return end < 0 ? undefined : stdout.slice(start, end);
}

/** A permission Deno refused, read from an error message. */
export interface DeniedAccess {
  /** `read`, `write`, `net`, `env`, `run`, `ffi`, `sys` or `import`. */
  permission: string;
  /** What was asked for, when Deno named it. */
  target?: string;
}

const REQUIRES =
  /Requires (read|write|net|env|run|ffi|sys|import) access(?: to "((?:[^"\\]|\\.)*)")?/;
const REMOTE = /A remote specifier was requested: "([^"]*)", but --no-remote is specified/;
const NOT_CACHED = /npm package not found in cache: "([^"]*)"/;
const NPM_LOAD = /Failed loading \S+ for package "([^"]*)"/;
const LOCKFILE = /The lockfile is out of date/;
const NO_NPM = /npm specifiers were requested; but --no-npm is specified/;
const LOCK_CHANGE = /\+\s*"((?:npm|jsr):[^"]+)"/;

/**
 * Reads a refused permission from the text of an error (Deno's `NotCapable` message, a
 * dynamic import's `TypeError`, an uncaught error on stderr); `undefined` if it is not one.
 */
export function parseDenied(message: string): DeniedAccess | undefined {
  // deno-lint-ignore no-control-regex
  const text = message.replace(/\x1b\[[0-9;]*m/g, "");
  const requires = REQUIRES.exec(text);
  if (requires) {
    const permission = requires[1] as string;
    const target = requires[2];
    return target === undefined ? { permission } : { permission, target: unescape(target) };
  }
  const remote = REMOTE.exec(text);
  if (remote) return { permission: "import", target: remote[1] as string };
  const npm = NOT_CACHED.exec(text) ?? NPM_LOAD.exec(text);
  if (npm) return { permission: "import", target: `npm:${npm[1]}` };
  if (NO_NPM.test(text)) return { permission: "import" };
  if (LOCKFILE.test(text)) {
    return { permission: "import", target: LOCK_CHANGE.exec(text)?.[1] ?? "an npm package" };
  }
  return undefined;
}

function unescape(quoted: string): string {
  return quoted.replace(/\\(.)/g, "$1");
}
