/**
 * What every `dxl` subcommand shares: the program with its global options, the typed
 * options, help examples, and {@linkcode withStore}.
 *
 * @module
 */

import { Command, Option } from "@commander-js/extra-typings";
import denoJson from "../../deno.json" with { type: "json" };
import { type HypervisorKind, type OpenStore, openStore } from "./connection.ts";
import { err } from "./output.ts";

/** dxl's version (from deno.json). */
export const VERSION: string = denoJson.version;

/**
 * The root `dxl` command with its global options. `exitOverride()` comes first so that
 * every subcommand inherits it: commander throws instead of exiting, and `main()` maps
 * its errors to exit codes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProgram } from "./context.ts";
 * const program = createProgram();
 * assert.equal(program.name(), "dxl");
 * ```
 */
export function createProgram(): Program {
  return new Command("dxl")
    .exitOverride()
    .description(
      "Xen toolstack on xenstore: apply domain scripts (plan/apply/destroy), xl's " +
        "xenstore-facing commands, and xenstore-utils (ls/read/write/rm/mkdir/chmod/watch).",
    )
    .version(VERSION, "-V, --version", "print dxl's version")
    .helpOption("-h, --help", "show help (every command has its own, with examples)")
    .option(
      "--xenstore <path>",
      "xenstored socket to use (else $XENSTORED_PATH, the standard paths, dxl serve, the embedded store)",
    )
    .option(
      "--embedded",
      "use dxl's embedded store ($XDG_STATE_HOME/dxl) even where a xenstored answers",
    )
    .option("-q, --quiet", "do not say on stderr which xenstore is used")
    .addOption(
      new Option("--hypervisor <kind>", "who creates domains: simulated or xen")
        .choices(["simulated", "xen"] as const),
    )
    .addOption(
      new Option(
        "--domain-control <socket>",
        "a fake hypervisor's control socket for simulated domains (../shared/refxs: tests)",
      ).hideHelp(),
    )
    .showSuggestionAfterError(true)
    .addHelpText(
      "after",
      `
Exit codes: 0 ok, 1 error, 2 bad usage or input, 3 changes pending (plan --detailed-exitcode).

Examples:
  $ dxl plan scripts/examples/web.ts
  $ dxl apply scripts/examples/web.ts --yes
  $ dxl list
  $ dxl ls /local/domain/0
  $ dxl --xenstore /run/xenstored/socket read /local/domain/0/name`,
    );
}

/** The root command's type (subcommands are registered on it; they see its options). */
// deno-lint-ignore ban-types
export type Program = Command<[], ProgramOptions, {}>;

/** The global options as commander parses them. */
export type ProgramOptions = {
  /** `--xenstore PATH`. */
  xenstore?: string | undefined;
  /** `--embedded`. */
  embedded?: true | undefined;
  /** `--quiet`. */
  quiet?: true | undefined;
  /** `--hypervisor simulated|xen`. */
  hypervisor?: HypervisorKind | undefined;
  /** `--domain-control SOCKET` (hidden; tests against the reference daemons). */
  domainControl?: string | undefined;
};

/** The global options as a subcommand sees them (`cmd.optsWithGlobals()`). */
export interface GlobalOptions {
  /** `--xenstore PATH`. */
  xenstore?: string | undefined;
  /** `--embedded`. */
  embedded?: boolean | undefined;
  /** `--quiet`. */
  quiet?: boolean | undefined;
  /** `--hypervisor simulated|xen`. */
  hypervisor?: HypervisorKind | undefined;
  /** `--domain-control SOCKET` (hidden; tests against the reference daemons). */
  domainControl?: string | undefined;
}

/**
 * Adds an "Examples:" section to a command's `--help`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Command } from "@commander-js/extra-typings";
 * import { examples } from "./context.ts";
 * const cmd = examples(new Command("ls"), ["dxl ls /local"]);
 * assert.match(cmd.helpInformation() + "", /Usage: ls/);
 * ```
 */
export function examples<C extends { addHelpText(position: "after", text: string): unknown }>(
  command: C,
  lines: readonly string[],
): C {
  command.addHelpText("after", "\nExamples:\n" + lines.map((l) => `  $ ${l}`).join("\n"));
  return command;
}

let exitCode = 0;

/**
 * Sets the exit code `dxl` ends with when the command returns normally (e.g. 3 for
 * `plan --detailed-exitcode` with changes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pendingExitCode, setExitCode } from "./context.ts";
 * setExitCode(3);
 * assert.equal(pendingExitCode(), 3);
 * setExitCode(0);
 * ```
 */
export function setExitCode(code: number): void {
  exitCode = code;
}

/**
 * The exit code set by {@linkcode setExitCode}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pendingExitCode } from "./context.ts";
 * assert.equal(typeof pendingExitCode(), "number");
 * ```
 */
export function pendingExitCode(): number {
  return exitCode;
}

/**
 * Opens the xenstore selected by the global options (see `connection.ts`), says on stderr
 * which one it is (unless `--quiet`), runs `fn`, and closes it (stopping the embedded store,
 * whose state stays in its SQLite file).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withStore } from "./context.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * const name = await withStore(
 *   { quiet: true, embedded: true },
 *   (store) => store.xs.read("/local/domain/0/name"),
 *   { env: { XDG_STATE_HOME: dir } },
 * );
 * assert.equal(name, "Domain-0");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function withStore<T>(
  globals: GlobalOptions,
  fn: (store: OpenStore) => Promise<T>,
  options: { env?: Readonly<Record<string, string | undefined>> } = {},
): Promise<T> {
  await using store = await openStore({
    xenstore: globals.xenstore,
    hypervisor: globals.hypervisor,
    domainControl: globals.domainControl,
    embedded: globals.embedded,
    ...options,
  });
  if (!globals.quiet) err(store.describe());
  return await fn(store);
}
