/**
 * Where xenstored's Unix socket is: the same search order as libxenstore's
 * `xs_daemon_socket()`, extended with the modern `/run` location.
 *
 * @module
 */

/** The compiled-in default socket of current distributions. */
export const RUN_SOCKET = "/run/xenstored/socket";
/** The historical default socket (`/var/run` is usually a link to `/run`). */
export const VAR_RUN_SOCKET = "/var/run/xenstored/socket";

/**
 * The socket paths to try, in order: `$XENSTORED_PATH`, then `$XENSTORED_RUNDIR/socket`,
 * then {@linkcode RUN_SOCKET}, then {@linkcode VAR_RUN_SOCKET}. Unset (or unreadable)
 * variables are skipped; duplicates are dropped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketPaths } from "./socket_path.ts";
 * assert.deepEqual(socketPaths({ XENSTORED_RUNDIR: "/tmp/xs" }), [
 *   "/tmp/xs/socket",
 *   "/run/xenstored/socket",
 *   "/var/run/xenstored/socket",
 * ]);
 * ```
 */
export function socketPaths(
  env: Readonly<Record<string, string | undefined>> = readEnv(),
): string[] {
  const out: string[] = [];
  const path = env["XENSTORED_PATH"];
  if (path) out.push(path);
  const rundir = env["XENSTORED_RUNDIR"];
  if (rundir) out.push(`${rundir.replace(/\/+$/, "")}/socket`);
  out.push(RUN_SOCKET, VAR_RUN_SOCKET);
  return [...new Set(out)];
}

function readEnv(): Record<string, string | undefined> {
  const get = (name: string): string | undefined => {
    try {
      return Deno.env.get(name);
    } catch {
      // Without --allow-env the variable simply does not count.
      return undefined;
    }
  };
  return { XENSTORED_PATH: get("XENSTORED_PATH"), XENSTORED_RUNDIR: get("XENSTORED_RUNDIR") };
}
