/**
 * Lets the sandboxed child run with `--no-npm`: the npm packages dxl's own modules import
 * (zod) are mapped to their files in Deno's npm cache and load as plain local modules, so no
 * `npm:` specifier resolves in the child at all, however a script spells or computes it.
 *
 * Only dependency-free packages at the version `deno.lock` pins are mapped; when one cannot
 * be, the caller falls back to npm resolution limited by the frozen lockfile.
 *
 * @module
 */

import { denoDirs } from "./_sandbox_process.ts";

const LOCK_URL = new URL("../../deno.lock", import.meta.url);
const CONDITIONS = ["deno", "import", "module", "default"];

interface PackageJson {
  exports?: unknown;
  module?: string;
  main?: string;
  dependencies?: Record<string, string>;
}

/** The file an `exports` field gives for the package root, under import conditions. */
function rootExport(exports: unknown): string | undefined {
  if (typeof exports === "string") return exports;
  if (typeof exports !== "object" || exports === null || Array.isArray(exports)) return undefined;
  const map = exports as Record<string, unknown>;
  const keys = Object.keys(map);
  if (keys.some((k) => k.startsWith("."))) return rootExport(map["."]);
  for (const condition of CONDITIONS) {
    if (condition in map) return rootExport(map[condition]);
  }
  return undefined;
}

function toFileUrl(path: string): string {
  const url = new URL("file:///");
  url.pathname = path;
  return url.href;
}

async function resolveLocal(
  specifier: string,
  pinned: Record<string, string>,
  npmCache: string,
): Promise<string | undefined> {
  const req = specifier.replace(/^npm:\/?/, "");
  const at = req.lastIndexOf("@");
  if (at <= 0) return undefined;
  const name = req.slice(0, at);
  const version = pinned[specifier];
  if (version === undefined || !/^[0-9A-Za-z.+-]+$/.test(version)) return undefined; // peers
  if (req.slice(at).includes("/")) return undefined; // a subpath
  const dir = `${npmCache}/registry.npmjs.org/${name}/${version}`;
  let pkg: PackageJson;
  try {
    pkg = JSON.parse(await Deno.readTextFile(`${dir}/package.json`)) as PackageJson;
  } catch {
    return undefined;
  }
  if (Object.keys(pkg.dependencies ?? {}).length > 0) return undefined;
  const entry = rootExport(pkg.exports) ?? pkg.module ?? pkg.main;
  if (entry === undefined) return undefined;
  const file = new URL(entry, toFileUrl(`${dir}/`)).pathname;
  try {
    if (!(await Deno.stat(file)).isFile) return undefined;
  } catch {
    return undefined;
  }
  return toFileUrl(file);
}

/**
 * `imports` (dxl's bare imports) with each npm package in `used` replaced by the file URL of
 * its entry in Deno's npm cache, and npm imports dxl does not use left out; `undefined` if
 * some used package cannot be mapped.
 */
export async function localNpmImports(
  imports: Record<string, string>,
  used: ReadonlySet<string>,
): Promise<Record<string, string> | undefined> {
  const { npmCache } = await denoDirs();
  if (npmCache === undefined) return used.size === 0 ? { ...imports } : undefined;
  let pinned: Record<string, string> = {};
  try {
    const lock = JSON.parse(await Deno.readTextFile(LOCK_URL)) as {
      specifiers?: Record<string, string>;
    };
    pinned = lock.specifiers ?? {};
  } catch {
    if (used.size > 0) return undefined;
  }
  const mapped: Record<string, string> = {};
  for (const [key, value] of Object.entries(imports)) {
    if (!value.startsWith("npm:")) {
      mapped[key] = value;
      continue;
    }
    if (!used.has(value)) continue;
    const local = await resolveLocal(value, pinned, npmCache);
    if (local === undefined) return undefined;
    mapped[key] = local;
  }
  // every npm package dxl's modules use must come from a bare import mapped above
  const covered = new Set(Object.values(imports).filter((v) => used.has(v)));
  return [...used].every((u) => covered.has(u)) ? mapped : undefined;
}
