/**
 * `dxl serve`: the embedded xenstored in the foreground, for other clients (other `dxl`
 * commands find it; `xenstore-*` tools with `XENSTORED_PATH=<socket>`). By default it serves
 * dxl's own store (the tree in `<state dir>/xenstore.db`, the socket `<state dir>/run/socket`)
 * with simulated backend drivers, so `dxl apply` from another shell creates domains in it.
 * Prints the socket path as its first stdout line; SIGINT or SIGTERM stops it.
 *
 * @module
 */

import { connect } from "../client/mod.ts";
import { DEFAULT_QUOTAS, type Quotas, startXenstored } from "../xenstored/mod.ts";
import { lockState, stateDir, stateFiles } from "./connection.ts";
import { examples, type GlobalOptions, type Program } from "./context.ts";
import { UsageError } from "./errors.ts";
import { SimulatedDrivers } from "./_drivers.ts";
import { err, out } from "./output.ts";

/**
 * Registers `dxl serve` on the program.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProgram } from "./context.ts";
 * import { register } from "./serve.ts";
 * const program = createProgram();
 * register(program);
 * assert.match(program.commands[0]!.helpInformation(), /^Usage: dxl serve /);
 * ```
 */
export function register(program: Program): void {
  const cmd = program
    .command("serve")
    .description(
      "run the embedded xenstored in the foreground (dxl's store: other dxl commands use " +
        "it); prints its socket path; Ctrl-C stops it",
    )
    .option("--dir <dir>", "run directory for the sockets (default: <state dir>/run)")
    .option("--state <file>", "SQLite file keeping the tree (default: <state dir>/xenstore.db)")
    .option("--no-state", "keep the tree in memory only (lost on exit)")
    .option("--no-backend", "do not run the simulated backend drivers")
    .option(
      "--quota <name=value>",
      `override a quota (repeatable; 0 disables): ${Object.keys(DEFAULT_QUOTAS).join(", ")}`,
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .action(async (opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      if (globals.xenstore !== undefined) {
        throw new UsageError("serve runs its own xenstored: --xenstore does not apply");
      }
      const quotas = parseQuotas(opts.quota ?? []);
      const files = stateFiles(stateDir());
      // commander gives false for --no-state, the file for --state, nothing for neither.
      const stateOption = opts.state as string | false | undefined;
      const statePath = stateOption === false ? undefined : stateOption ?? files.db;
      // Whoever opens dxl's own state file holds its lock (another dxl waits, then finds us).
      const lock = statePath === files.db ? await lockState(files) : undefined;
      try {
        const dir = opts.dir ?? files.run;
        await using xsd = await startXenstored({ dir, state: statePath, quotas, initDom0: true });
        await using xs = await connect({ path: xsd.socket });
        await using _drivers = opts.backend ? await SimulatedDrivers.start(xs) : undefined;
        out(xsd.socket + "\n");
        if (!globals.quiet) {
          err(
            `dxl: serving ${statePath === undefined ? "an in-memory store" : statePath} on ` +
              `${xsd.socket}${opts.backend ? " with simulated backends" : ""} (Ctrl-C stops)`,
          );
        }
        await untilSignal();
      } finally {
        lock?.close();
      }
    });
  examples(cmd, [
    "dxl serve &   # then, in another shell: dxl apply scripts/examples/web.ts --yes",
    "dxl serve --no-state --dir /tmp/xs --quota nodes=10000",
    "dxl serve --no-state --dir /tmp/xs &   # then: XENSTORED_PATH=/tmp/xs/socket xenstore-ls",
  ]);
}

function parseQuotas(words: readonly string[]): Partial<Quotas> {
  const quotas: Record<string, number> = {};
  for (const word of words) {
    const match = /^([a-z-]+)=([0-9]+)$/i.exec(word);
    const name = match?.[1];
    if (match === null || name === undefined || !(name in DEFAULT_QUOTAS)) {
      throw new UsageError(
        `Bad --quota "${word}": use name=value with name one of ${
          Object.keys(DEFAULT_QUOTAS).join(", ")
        }`,
      );
    }
    quotas[name] = Number(match[2]);
  }
  return quotas as Partial<Quotas>;
}

function untilSignal(): Promise<void> {
  const { promise, resolve } = Promise.withResolvers<void>();
  const onSignal = () => {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    resolve();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  return promise;
}
