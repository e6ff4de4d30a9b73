/**
 * `dxl watch PATH`: prints the path of each change at or below PATH as `xenstore-watch`
 * does (the first line is the watch's initial event), until interrupted or `-n` events.
 *
 * @module
 */

import { examples, type GlobalOptions, type Program, withStore } from "./context.ts";
import { UsageError } from "./errors.ts";
import { out } from "./output.ts";

/**
 * Registers `dxl watch` on the program.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProgram } from "./context.ts";
 * import { register } from "./watch.ts";
 * const program = createProgram();
 * register(program);
 * assert.match(program.commands[0]!.helpInformation(), /^Usage: dxl watch /);
 * ```
 */
export function register(program: Program): void {
  const cmd = program
    .command("watch")
    .description(
      "print each changed path at or below PATH (first the initial event), as " +
        "`xenstore-watch` does, until Ctrl-C",
    )
    .argument("<path>", "xenstore path (or @introduceDomain, @releaseDomain)")
    .option("-n, --count <n>", "stop after this many events (the initial one counts)")
    .option("--depth <n>", "only changes at most this deep below PATH (needs server support)")
    .option("--json", "one JSON object a line: { path, token }")
    .action(async (path, opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      const count = opts.count === undefined ? Infinity : count_(opts.count, "--count");
      const depth = opts.depth === undefined ? undefined : count_(opts.depth, "--depth");
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      Deno.addSignalListener("SIGINT", onSignal);
      Deno.addSignalListener("SIGTERM", onSignal);
      try {
        await withStore(globals, async ({ xs }) => {
          let seen = 0;
          if (seen >= count) return;
          const watchOptions = depth === undefined
            ? { signal: stop.signal }
            : { signal: stop.signal, depth };
          for await (const event of xs.watch(path, watchOptions)) {
            if (event.kind !== "change") continue;
            out(
              opts.json
                ? JSON.stringify({ path: event.path, token: event.token }) + "\n"
                : event.path + "\n",
            );
            if (++seen >= count) break;
          }
        });
      } finally {
        Deno.removeSignalListener("SIGINT", onSignal);
        Deno.removeSignalListener("SIGTERM", onSignal);
      }
    });
  examples(cmd, [
    "dxl watch /local/domain/1/device",
    "dxl watch -n 2 @releaseDomain",
    "dxl watch --json /libxl",
  ]);
}

function count_(text: string, flag: string): number {
  if (!/^[0-9]+$/.test(text)) throw new UsageError(`${flag} "${text}" is not a whole number`);
  return Number(text);
}
