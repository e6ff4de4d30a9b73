/**
 * Refuses a script whose module graph names a remote, npm or jsr module, before it runs.
 * (Local files need no check here: the script is imported dynamically in its process, so
 * Deno checks every local module it loads against the read permission.)
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };
import { ScriptPermissionError } from "./errors.ts";

interface InfoDependency {
  specifier: string;
  code?: { specifier?: string };
}

interface InfoModule {
  specifier: string;
  dependencies?: InfoDependency[];
}

const ALLOWED_SCHEMES = new Set(["file:", "node:", "data:"]);
const MOD_URL = new URL("../../mod.ts", import.meta.url);
const LIB_URL = new URL("../", import.meta.url);
const PACKAGE_ROOT = new URL("../../", import.meta.url);

/** dxl's own module graph (mod.ts's): its modules, and the npm specifiers they import. */
export interface PackageGraph {
  /** Specifiers of mod.ts's modules. */
  modules: Set<string>;
  /** The npm specifiers (as the import map resolves them) those modules import. */
  npm: Set<string>;
}

let packageGraphPromise: Promise<PackageGraph> | undefined;

/** {@linkcode PackageGraph} of dxl, computed once per process (retried if it failed). */
export function packageGraph(importMap: string): Promise<PackageGraph> {
  packageGraphPromise ??= denoInfo(MOD_URL.pathname, importMap).then((modules) => {
    if (modules === undefined) packageGraphPromise = undefined; // try again next time
    const npm = new Set<string>();
    for (const module of modules ?? []) {
      for (const dependency of module.dependencies ?? []) {
        const resolved = dependency.code?.specifier;
        if (resolved?.startsWith("npm:")) npm.add(resolved);
      }
    }
    return { modules: new Set((modules ?? []).map((m) => m.specifier)), npm };
  });
  return packageGraphPromise;
}

async function denoInfo(file: string, importMap: string): Promise<InfoModule[] | undefined> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "info",
      "--json",
      "--no-config",
      "--no-npm",
      "--no-remote",
      `--import-map=${importMap}`,
      file,
    ],
    stdout: "piped",
    stderr: "null",
    stdin: "null",
  }).output();
  if (!output.success) return undefined; // a broken script: its run reports the real error
  return (JSON.parse(new TextDecoder().decode(output.stdout)) as { modules: InfoModule[] }).modules;
}

/**
 * Throws a {@linkcode ScriptPermissionError} (`import`) naming the first import of `file`'s
 * module graph (static, or dynamic with a literal specifier) that is not a local file,
 * `node:` built-in or `data:` module. dxl's own modules (mod.ts's graph, `lib/`) may import
 * their npm dependencies.
 */
export async function checkModuleGraph(
  script: string,
  file: string,
  importMap: string,
): Promise<void> {
  const [own, modules] = await Promise.all([packageGraph(importMap), denoInfo(file, importMap)]);
  const isOwn = (specifier: string) =>
    own.modules.has(specifier) || specifier === MOD_URL.href ||
    specifier.startsWith(LIB_URL.href);
  for (const module of modules ?? []) {
    if (isOwn(module.specifier)) continue;
    for (const dependency of module.dependencies ?? []) {
      const resolved = dependency.code?.specifier;
      if (resolved === undefined) continue; // a type-only import, erased before it runs
      const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(resolved)?.[0]?.toLowerCase();
      if (scheme !== undefined && ALLOWED_SCHEMES.has(scheme)) continue;
      throw new ScriptPermissionError(script, "import", dependency.specifier, {
        advice:
          `a script may import only "dxl", node: built-ins and local files it may read; remote, npm and jsr modules cannot be granted`,
      });
    }
  }
}

/** dxl's bare imports (deno.json `imports`), with relative addresses made absolute. */
export function packageImports(): Record<string, string> {
  const imports: Record<string, string> = {};
  const declared = (denoJson as { imports?: Record<string, string> }).imports ?? {};
  for (const [key, value] of Object.entries(declared)) {
    // relative to deno.json; a data: URL map needs them absolute
    imports[key] = /^\.{0,2}\//.test(value) ? new URL(value, PACKAGE_ROOT).href : value;
  }
  return imports;
}

/**
 * The import map of a run: "dxl" is this package; dxl's own bare imports (`scoped`)
 * resolve inside dxl only.
 */
export function importMapUrl(scoped: Record<string, string>): string {
  const map = {
    imports: { dxl: MOD_URL.href },
    scopes: {
      [MOD_URL.href]: scoped,
      [new URL("lib/", PACKAGE_ROOT).href]: scoped,
    },
  };
  return `data:application/json,${encodeURIComponent(JSON.stringify(map))}`;
}
