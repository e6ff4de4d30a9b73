/**
 * Runs the embedded xenstored in the foreground with an in-memory tree and no simulated
 * backends (what the benchmarks measure): `dxl serve --no-state --no-backend`. Prints the dom0
 * socket path, serves until SIGINT or SIGTERM.
 *
 * Usage: `deno task serve [--dir DIR] [--state FILE] [--quota name=value ...]`
 * (`deno task dxl serve --help` for every option).
 *
 * @module
 */

import { main } from "../lib/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(["serve", "--no-state", "--no-backend", ...Deno.args]));
}
