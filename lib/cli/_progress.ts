/**
 * The one progress display of `apply` and `destroy`: an `ora` spinner on a terminal
 * (stderr), plain lines otherwise; it draws the library's apply events.
 *
 * @module
 */

import ora, { type Ora } from "ora";
import type { ApplyEvent } from "../config/apply.ts";
import { err } from "./output.ts";

/** Draws apply events. */
export interface Progress {
  /** Shows one event. */
  event(event: ApplyEvent): void;
  /** Ends the display with a success line. */
  succeed(text: string): void;
  /** Ends the display with a failure line. */
  fail(text: string): void;
}

/**
 * ora's options for every spinner: stdin is left alone (the prompt reads it), and the spinner is
 * drawn because `createProgress` already decided stderr is a terminal (ora alone would also turn
 * itself off whenever `CI` is set, printing `- text` lines on a terminal).
 */
const SPINNER = { discardStdin: false, isEnabled: true } as const;

/** Options of {@linkcode createProgress}. */
export interface ProgressOptions {
  /** Draw a spinner (stderr is a terminal). @default {Deno.stderr.isTerminal()} */
  tty?: boolean;
}

/**
 * The line for an event, or `undefined` for events shown only as spinner text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeEvent } from "./_progress.ts";
 * assert.equal(
 *   describeEvent({ type: "committed", attempt: 1 }),
 *   "committed the changes in one transaction",
 * );
 * assert.equal(describeEvent({ type: "planned", attempt: 1, changes: 3 }), undefined);
 * ```
 */
export function describeEvent(event: ApplyEvent): string | undefined {
  switch (event.type) {
    case "planned":
      return event.attempt > 1
        ? `re-planned: ${event.changes} changes (attempt ${event.attempt})`
        : undefined;
    case "domain-created":
      return `created domain ${event.domain} (domid ${event.domid})`;
    case "conflict":
      return `transaction conflict, retrying (attempt ${event.attempt} of ${event.attempts})`;
    case "committed":
      return "committed the changes in one transaction";
    case "introduced":
      return `introduced domain ${event.domain} (domid ${event.domid}) to xenstored`;
    case "domain-destroyed":
      return event.error === undefined
        ? `destroyed domain ${event.domain} (domid ${event.domid})`
        : `destroying domain ${event.domain} (domid ${event.domid}) failed: ${event.error}`;
    case "device-connected":
      return `${event.domain}: ${event.device} connected`;
    case "device-closed":
      return `${event.domain}: ${event.device} closed`;
    case "device-timeout":
      return `${event.domain}: ${event.device} did not get ${event.wanted}`;
    case "done":
      return undefined;
  }
}

/**
 * A progress display: a spinner on a terminal, else one plain `dxl: …` line per event on
 * stderr.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // plain lines on stderr when it is not a terminal (run in a child to read them)
 * const child = `import { createProgress } from ${JSON.stringify(import.meta.resolve("./_progress.ts"))};
 * const progress = createProgress({ tty: false });
 * progress.event({ type: "committed", attempt: 1 });
 * progress.succeed("done");`;
 * const { stderr } = await new Deno.Command(Deno.execPath(), {
 *   args: ["eval", child],
 *   stderr: "piped",
 * }).output();
 * assert.equal(
 *   new TextDecoder().decode(stderr),
 *   "dxl: committed the changes in one transaction\ndxl: done\n",
 * );
 * ```
 */
export function createProgress(options: ProgressOptions = {}): Progress {
  const tty = options.tty ?? Deno.stderr.isTerminal();
  if (!tty) {
    return {
      event: (event) => {
        const line = describeEvent(event);
        if (line !== undefined) err(`dxl: ${line}`);
      },
      succeed: (text) => err(`dxl: ${text}`),
      fail: (text) => err(`dxl: ${text}`),
    };
  }
  let spinner: Ora = ora({ text: "applying", ...SPINNER }).start();
  let connected = 0;
  let closed = 0;
  return {
    event: (event) => {
      const line = describeEvent(event);
      if (event.type === "committed") {
        spinner.succeed(line);
        spinner = ora({ text: "waiting for the backends", ...SPINNER }).start();
        return;
      }
      if (event.type === "device-connected") connected++;
      if (event.type === "device-closed") closed++;
      if (event.type === "device-connected" || event.type === "device-closed") {
        spinner.text = `waiting for the backends: ${connected} connected, ${closed} closed ` +
          `(last: ${line})`;
        return;
      }
      if (event.type === "device-timeout" || event.type === "conflict") {
        spinner.warn(line);
        spinner = ora({ text: "waiting for the backends", ...SPINNER }).start();
        return;
      }
      if (line !== undefined) spinner.info(line).start("applying");
    },
    succeed: (text) => {
      if (connected + closed > 0) {
        spinner.succeed(`backends: ${connected} connected, ${closed} closed`);
        spinner = ora({ ...SPINNER });
      }
      spinner.succeed(text);
    },
    fail: (text) => {
      spinner.fail(text);
    },
  };
}
