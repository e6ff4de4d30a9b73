// deno-lint-ignore-file no-console
/**
 * The embedded xenstored in a process of its own, for `config.ts` (as `dxl serve` runs it:
 * client and server do not share an event loop). Prints its socket path, serves until
 * SIGTERM.
 *
 * Run: `deno run -A scripts/bench/config_server.ts DIR`.
 *
 * @module
 */

import { startXenstored } from "../../lib/xenstored/mod.ts";

const xsd = await startXenstored({ dir: Deno.args[0]! });
const stop = Promise.withResolvers<void>();
Deno.addSignalListener("SIGTERM", () => stop.resolve());
console.log(xsd.socket);
await stop.promise;
await xsd.close();
