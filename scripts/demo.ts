// deno-lint-ignore-file no-console
/**
 * The README's end-to-end run, on a throwaway embedded store: `dxl plan`, `apply`, `list`,
 * `devices`, `apply` again (no changes), `destroy` of a domain script, each printed as the
 * command you would type. Your own store ($XDG_STATE_HOME/dxl) is not touched.
 *
 *     deno task demo [SCRIPT]        (default: scripts/examples/web.ts)
 *
 * @module
 */

import { parseArgs } from "node:util";
import { main } from "../lib/cli/main.ts";
import { loadConfig } from "../lib/config/mod.ts";

async function demo(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length > 1) {
    throw new TypeError(`One SCRIPT only, got "${positionals.join('" "')}"`);
  }
  const script = positionals[0] ?? "scripts/examples/web.ts";
  const name = (await loadConfig(script)).domains[0]?.name;
  const home = await Deno.makeTempDir({ prefix: "dxl-demo-", dir: "/tmp" });
  Deno.env.set("XDG_STATE_HOME", home);
  try {
    const steps = [
      ["plan", script],
      ["apply", "--yes", script],
      ["list"],
      ...(name === undefined ? [] : [["devices", name]]),
      ["apply", "--yes", script],
      ["destroy", "--yes", script],
      ["list"],
    ];
    for (const step of steps) {
      console.log(`\n$ dxl ${step.join(" ")}`);
      const code = await main(["--embedded", ...step]);
      if (code !== 0) return code;
    }
    return 0;
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await demo(Deno.args));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(2);
  }
}
