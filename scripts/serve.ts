/**
 * Runs the embedded xenstored in the foreground: prints the dom0 socket path, serves until
 * SIGINT or SIGTERM, then removes its sockets. Initialises dom0 as `xen-init-dom0` does.
 *
 * Usage: `deno run -A scripts/serve.ts [--dir DIR] [--state FILE] [--quota name=value ...]`
 *
 * @module
 */

import { startXenstored } from "../lib/xenstored/mod.ts";
import type { Quotas } from "../lib/xenstored/mod.ts";

function parseArgs(
  args: string[],
): { dir: string | undefined; state: string | undefined; quotas: Partial<Quotas> } {
  let dir: string | undefined;
  let state: string | undefined;
  const quotas: Record<string, number> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--dir") dir = args[++i];
    else if (a === "--state") state = args[++i];
    else if (a === "--quota") {
      const [name, value] = (args[++i] ?? "").split("=");
      if (name === undefined || value === undefined) {
        throw new TypeError(`Bad --quota "${args[i]}": use name=value`);
      }
      quotas[name] = Number(value);
    } else {throw new TypeError(
        `Unknown argument "${a}" (use --dir DIR, --state FILE, --quota name=value)`,
      );}
  }
  return { dir, state, quotas: quotas as Partial<Quotas> };
}

if (import.meta.main) {
  const { dir, state, quotas } = parseArgs(Deno.args);
  const runDir = dir ?? await Deno.makeTempDir({ prefix: "dxl-xenstored-" });
  const xs = await startXenstored({ dir: runDir, state, quotas, initDom0: true });
  // deno-lint-ignore no-console
  console.log(xs.socket);
  const stop = Promise.withResolvers<void>();
  const onSignal = () => stop.resolve();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  await stop.promise;
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  await xs.close();
  if (dir === undefined) await Deno.remove(runDir, { recursive: true });
}
