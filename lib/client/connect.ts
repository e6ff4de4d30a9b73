/**
 * `connect()`: find xenstored's socket and open a {@linkcode XenstoreClient} on it.
 *
 * @module
 */

import { ConnectionClosedError } from "../protocol/mod.ts";
import { type ClientOptions, XenstoreClient } from "./client.ts";
import { socketPaths } from "./socket_path.ts";

/** Options of {@linkcode connect}. */
export interface ConnectOptions extends ClientOptions {
  /**
   * The socket to use. Omitted, the first that answers of `$XENSTORED_PATH`,
   * `$XENSTORED_RUNDIR/socket`, `/run/xenstored/socket`, `/var/run/xenstored/socket`.
   * @default {the search above}
   */
  path?: string;
  /** Abandons connecting (rejects with the signal's reason). */
  signal?: AbortSignal;
}

/**
 * Connects to xenstored. Rejects with `ConnectionClosedError` naming every socket path tried
 * (and why each failed) when none answers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "./connect.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * assert.equal(await xs.getDomainPath(0), "/local/domain/0");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function connect(options: ConnectOptions = {}): Promise<XenstoreClient> {
  const signal = options.signal;
  signal?.throwIfAborted();
  const paths = options.path === undefined ? socketPaths() : [options.path];
  const failures: string[] = [];
  const errors: unknown[] = [];
  for (const path of paths) {
    let client: XenstoreClient;
    try {
      client = await XenstoreClient.open(path, options);
    } catch (error) {
      errors.push(error);
      failures.push(`${path} (${error instanceof Error ? error.message : String(error)})`);
      signal?.throwIfAborted();
      continue;
    }
    if (signal?.aborted) {
      await client.close();
      throw signal.reason;
    }
    return client;
  }
  throw new ConnectionClosedError(
    `Cannot connect to xenstored; tried ${failures.join(", ")}`,
    { cause: new AggregateError(errors, "every socket path failed") },
  );
}
