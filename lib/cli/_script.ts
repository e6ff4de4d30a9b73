/**
 * What `plan`, `apply` and `destroy` share: the script's permission flags (`--allow-read[=…]`,
 * `--allow-env[=…]`, `--allow-net[=…]`, passed to the sandbox and nothing else), loading the
 * script, and the check that the store can create or destroy the domains a plan needs.
 *
 * @module
 */

import { Option } from "@commander-js/extra-typings";
import { type EvaluateOptions, loadConfig, type NormalizedConfig } from "../config/mod.ts";
import type { Plan } from "../config/mod.ts";
import type { CreatedDomain, DomainBuildRequest, Hypervisor } from "../libxl/mod.ts";
import type { OpenStore } from "./connection.ts";
import { UsageError } from "./errors.ts";

/** The permission flags whose value is optional and given with `=` only. */
export const PERMISSION_FLAGS = ["--allow-read", "--allow-env", "--allow-net"] as const;

/**
 * Rewrites a bare `--allow-read` (and env, net) to `--allow-read=`, so that, as in
 * `deno run`, the flag never swallows the next word (`dxl apply --allow-read web.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bindPermissionFlags } from "./_script.ts";
 * assert.deepEqual(
 *   bindPermissionFlags(["apply", "--allow-read", "web.ts", "--allow-env=SITE"]),
 *   ["apply", "--allow-read=", "web.ts", "--allow-env=SITE"],
 * );
 * ```
 */
export function bindPermissionFlags(args: readonly string[]): string[] {
  const end = args.indexOf("--");
  return args.map((arg, i) =>
    (end === -1 || i < end) && (PERMISSION_FLAGS as readonly string[]).includes(arg)
      ? `${arg}=`
      : arg
  );
}

/** A permission flag's value: `true` for all (bare flag), else the comma-separated list. */
function grant(flag: string) {
  return (value: string): true | string[] => {
    if (value === "") return true;
    const list = value.split(",").map((s) => s.trim());
    if (list.some((s) => s === "")) {
      throw new UsageError(`${flag}="${value}" has an empty entry`);
    }
    return list;
  };
}

/** The options {@linkcode scriptOptions} adds, as commander parses them. */
export interface ScriptFlags {
  /** `--allow-read[=paths]` (commander's `--allow-read [paths]`). */
  allowRead?: true | string[] | undefined;
  /** `--allow-env[=names]`. */
  allowEnv?: true | string[] | undefined;
  /** `--allow-net[=hosts]`. */
  allowNet?: true | string[] | undefined;
  /** `--timeout` for the script, in seconds. */
  scriptTimeout?: string | undefined;
}

/**
 * The options every script command has: the three permission flags and `--script-timeout`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scriptOptions } from "./_script.ts";
 * assert.deepEqual(scriptOptions().map((o) => o.long), [
 *   "--allow-read",
 *   "--allow-env",
 *   "--allow-net",
 *   "--script-timeout",
 * ]);
 * ```
 */
export function scriptOptions(): Option[] {
  return [
    new Option(
      "--allow-read [paths]",
      "let the script read these files or folders (--allow-read=a,b; everything when bare)",
    ).argParser(grant("--allow-read")),
    new Option(
      "--allow-env [names]",
      "let the script read these environment variables (--allow-env=A,B; all when bare)",
    )
      .argParser(grant("--allow-env")),
    new Option(
      "--allow-net [hosts]",
      "let the script connect to these hosts (--allow-net=host:port; any when bare)",
    )
      .argParser(grant("--allow-net")),
    new Option("--script-timeout <seconds>", "time limit for running the script (default 10)"),
  ];
}

/**
 * Loads and validates the script at `file` with only the granted permissions. A missing
 * script is a `UsageError` (exit 2) naming it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadScript } from "./_script.ts";
 * await assert.rejects(loadScript("/nonexistent/site.ts", {}), {
 *   name: "UsageError",
 *   message: 'Script "/nonexistent/site.ts" does not exist',
 * });
 * ```
 */
export async function loadScript(file: string, flags: ScriptFlags): Promise<NormalizedConfig> {
  try {
    const info = await Deno.stat(file);
    if (!info.isFile) throw new UsageError(`Script "${file}" is not a file`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(`Script "${file}" does not exist`, { cause: error });
    }
    throw error;
  }
  const options: EvaluateOptions = {};
  if (flags.allowRead !== undefined) options.allowRead = flags.allowRead;
  if (flags.allowEnv !== undefined) options.allowEnv = flags.allowEnv;
  if (flags.allowNet !== undefined) options.allowNet = flags.allowNet;
  if (flags.scriptTimeout !== undefined) {
    const seconds = Number(flags.scriptTimeout);
    if (!(seconds > 0)) {
      throw new UsageError(`--script-timeout "${flags.scriptTimeout}" is not a positive number`);
    }
    options.timeoutMs = seconds * 1000;
  }
  return await loadConfig(file, options);
}

/**
 * Whether applying `plan` needs a hypervisor (domains created, replaced or removed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { plan, validateConfig } from "../config/mod.ts";
 * import { needsHypervisor } from "./_script.ts";
 * const config = validateConfig({ domains: [{ name: "web", memory: "512M" }] });
 * assert.equal(needsHypervisor(plan(config, { domains: [] })), true);
 * ```
 */
export function needsHypervisor(plan: Plan): boolean {
  return plan.actions.some((a) =>
    a.device === undefined && a.kind !== "noop" && a.kind !== "update"
  );
}

/**
 * The hypervisor for `apply`: the store's, or, when it has none, one that is never called
 * (the plan only changes devices of existing domains). A plan that creates, replaces or
 * removes a domain without a hypervisor stops here, before anything is written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { plan, validateConfig } from "../config/mod.ts";
 * import type { OpenStore } from "./connection.ts";
 * import { hypervisorFor } from "./_script.ts";
 * const config = validateConfig({ domains: [{ name: "web", memory: "512M" }] });
 * const realHost = { hypervisor: undefined, noHypervisorReason: "no binding" } as OpenStore;
 * assert.throws(() => hypervisorFor(realHost, plan(config, { domains: [] })), {
 *   message: "Cannot create web: no binding. Nothing was written.",
 * });
 * ```
 */
export function hypervisorFor(store: OpenStore, plan: Plan): Hypervisor {
  if (store.hypervisor !== undefined) return store.hypervisor;
  if (needsHypervisor(plan)) {
    const domains = plan.actions.filter((a) =>
      a.device === undefined && a.kind !== "noop" &&
      a.kind !== "update"
    ).map((a) => `${a.kind} ${a.domain}`);
    throw new UsageError(
      `Cannot ${domains.join(", ")}: ${
        store.noHypervisorReason ?? "no hypervisor"
      }. Nothing was written.`,
    );
  }
  return new NoHypervisor();
}

class NoHypervisor implements Hypervisor {
  createDomain(request: DomainBuildRequest): Promise<CreatedDomain> {
    return Promise.reject(new Error(`no hypervisor to create domain ${request.name ?? ""}`));
  }
  introduceDomain(domain: CreatedDomain): Promise<void> {
    return Promise.reject(new Error(`no hypervisor to introduce domain ${domain.domid}`));
  }
  destroyDomain(domid: number): Promise<void> {
    return Promise.reject(new Error(`no hypervisor to destroy domain ${domid}`));
  }
}
