/**
 * The flow `apply` and `destroy` share: load the script, plan against the live store, show
 * the plan, ask (on a terminal, unless `--yes`), apply it in one transaction with one
 * progress display.
 *
 * @module
 */

import { apply, type ApplyOptions } from "../config/apply.ts";
import { type Plan, plan, planChanges, readLive, summarizeAction } from "../config/mod.ts";
import type { GlobalOptions } from "./context.ts";
import { withStore } from "./context.ts";
import { UsageError } from "./errors.ts";
import { out, toJson } from "./output.ts";
import { createProgress } from "./_progress.ts";
import { renderPlan } from "./_plan_view.ts";
import { hypervisorFor, loadScript, type ScriptFlags } from "./_script.ts";

/** The options of `apply` and `destroy`. */
export interface RunPlanFlags extends ScriptFlags {
  /** `--yes`: do not ask. */
  yes?: true | undefined;
  /** `--prune`: also remove domains dxl created that the script does not declare. */
  prune?: true | undefined;
  /** `--json`: print the result as JSON (needs `--yes`). */
  json?: true | undefined;
  /** `--timeout SECONDS` for the backends. */
  timeout?: string | undefined;
}

/** Options of {@linkcode runPlan}. */
export interface RunPlanOptions {
  /** What is being done: `"apply"` or `"destroy"`. */
  verb: "apply" | "destroy";
  /** The command's own options. */
  flags: RunPlanFlags;
  /** The global options (which xenstore, `--quiet`, ...). */
  globals: GlobalOptions;
}

/**
 * Parses `--timeout` (seconds) to milliseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { timeoutMs } from "./_run_plan.ts";
 * assert.equal(timeoutMs("2.5"), 2500);
 * assert.equal(timeoutMs(undefined), undefined);
 * assert.throws(() => timeoutMs("soon"), { name: "UsageError" });
 * ```
 */
export function timeoutMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (!(seconds > 0)) throw new UsageError(`--timeout "${text}" is not a positive number`);
  return seconds * 1000;
}

/**
 * Runs `dxl apply FILE` or `dxl destroy FILE`: loads the script, plans against the store the
 * global options select, prints the plan, asks unless `--yes` (refusing without a terminal),
 * applies with one progress display. Without changes it prints the plan's "No changes" line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runPlan } from "./_run_plan.ts";
 * await assert.rejects(runPlan("site.ts", { verb: "apply", flags: { json: true }, globals: {} }), {
 *   message: "--json needs --yes (apply cannot ask)",
 * });
 * ```
 */
export async function runPlan(file: string, options: RunPlanOptions): Promise<void> {
  const { flags, globals, verb } = options;
  const wait = timeoutMs(flags.timeout);
  if (flags.json && !flags.yes) {
    throw new UsageError(`--json needs --yes (${verb} cannot ask)`);
  }
  const config = await loadScript(file, flags);
  await withStore(globals, async (store) => {
    const p: Plan = plan(config, await readLive(store.xs), {
      prune: flags.prune ?? false,
      destroy: verb === "destroy",
    });
    const changes = planChanges(p);
    if (!flags.json) out(renderPlan(p, { subject: file }));
    if (changes.length === 0) {
      if (flags.json) out(toJson({ changes: [], created: [], attempts: 0 }));
      return;
    }
    const hypervisor = hypervisorFor(store, p);
    if (!flags.yes) {
      if (!Deno.stdin.isTerminal()) {
        throw new UsageError(
          `stdin is not a terminal: add --yes to ${verb} without being asked`,
        );
      }
      const question = verb === "apply" ? "Apply these changes" : "Destroy these domains";
      if (!confirm(`\n${question}?`)) {
        throw new CancelledError(`${verb} cancelled: nothing was written`);
      }
    }
    const progress = createProgress();
    const options: ApplyOptions = { hypervisor, onProgress: (e) => progress.event(e) };
    if (wait !== undefined) options.timeoutMs = wait;
    if (store.host !== undefined) options.host = store.host;
    let result;
    try {
      result = await apply(store.xs, p, options);
    } catch (error) {
      progress.fail(`${verb} failed`);
      throw error;
    }
    const done = planChanges(result.plan).map(summarizeAction);
    progress.succeed(
      `${verb === "apply" ? "applied" : "destroyed"}: ${done.length} change${
        done.length === 1 ? "" : "s"
      }`,
    );
    if (flags.json) {
      out(toJson({ changes: done, created: result.created, attempts: result.attempts }));
    }
  });
}

/**
 * The user answered no at the prompt (exit code 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CancelledError } from "./_run_plan.ts";
 * assert.equal(new CancelledError("apply cancelled").name, "CancelledError");
 * ```
 */
export class CancelledError extends Error {
  /** Makes the error. */
  constructor(message: string) {
    super(message);
    this.name = "CancelledError";
  }
}
