/**
 * `defineConfig`: what a domain script calls to get types (an identity function, as Vite's).
 *
 * @module
 */

import type { Config } from "./types.ts";

/** What a script may default-export: a config, or a function (sync or async) returning one. */
export type ConfigExport = Config | (() => Config | Promise<Config>);

/**
 * Returns `config` unchanged; it exists so an editor completes and checks the fields of a
 * domain script (`export default defineConfig({ domains: [...] })`). Also takes a function
 * returning a config (sync or async), which the evaluator calls.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineConfig } from "./define.ts";
 * const site = defineConfig({
 *   domains: [{ name: "web", memory: "512M", disks: ["phy:/dev/vg0/web,xvda,w"] }],
 * });
 * assert.equal(site.domains[0]?.name, "web");
 * ```
 */
export function defineConfig<T extends ConfigExport>(config: T): T {
  return config;
}
