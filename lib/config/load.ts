/**
 * `loadConfig`: a domain script, evaluated with only the permissions granted, then validated.
 *
 * @module
 */

import type { EvaluateOptions } from "./evaluate.ts";
import { evaluateScript } from "./evaluate.ts";
import type { NormalizedConfig } from "./normalized.ts";
import { validateConfig } from "./validate.ts";

/**
 * Runs the domain script at `path` in a sandboxed `deno run` (only the permissions in
 * `options`, a time and a memory limit) and validates what it exports. Rejects with a
 * `ScriptError` subclass when the script cannot run or reaches for something not granted,
 * and with a `ConfigValidationError` (every issue, each naming `path`) when its config is
 * wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./load.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-" });
 * await Deno.writeTextFile(
 *   `${dir}/web.ts`,
 *   `import { defineConfig } from "dxl";
 *    export default defineConfig({ domains: [{ name: "web", memory: "512M" }] });`,
 * );
 * const config = await loadConfig(`${dir}/web.ts`);
 * assert.equal(config.domains[0]?.targetMemKb, 524288);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadConfig(
  path: string,
  options: EvaluateOptions = {},
): Promise<NormalizedConfig> {
  return validateConfig(await evaluateScript(path, options), { script: path });
}
