/**
 * Turns what a caller grants a script into `deno run` permission flags that hold "by any
 * route": Deno checks a path as written, so a symlink inside a granted folder that leads
 * out of it (or a symlink to an in-grant folder that holds such a symlink) would let the
 * script through. Each granted folder is walked; every such link is denied by every name
 * the script could reach it by.
 *
 * @module
 */

import { ScriptError } from "./errors.ts";

/** A symlink inside the granted folders that the script is denied, and where it leads. */
export interface DeniedLink {
  /** The path the script would use (under a granted name). */
  name: string;
  /** Where it leads (its real path), or `undefined` when it dangles. */
  target: string | undefined;
}

/** The read permission of a run. */
export interface ReadPlan {
  /** `true` for everything, else the absolute paths to pass to `--allow-read`. */
  allow: true | string[];
  /** Links to pass to `--deny-read`. */
  deny: DeniedLink[];
  /** The real paths of everything granted (to check a module's or file's real path). */
  realRoots: string[];
}

/** Most directory entries walked per run before giving up on a grant as too large. */
export const MAX_WALK_ENTRIES = 200_000;

interface Root {
  names: Set<string>;
  real: string;
}

function isUnder(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith("/") ? root : `${root}/`);
}

/** Normalizes an absolute path lexically, as Deno does before checking it. */
export function normalizePath(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
}

/** `path` made absolute against `cwd` and normalized. */
export function absolutePath(path: string, cwd: string): string {
  return normalizePath(path.startsWith("/") ? path : `${cwd}/${path}`);
}

async function realOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await Deno.realPath(path);
  } catch {
    return undefined;
  }
}

/**
 * Plans `--allow-read`/`--deny-read` for a script in `scriptDirs` (its folder, by real
 * path and as given) with `allowRead` granted. Relative grants resolve against `cwd`.
 */
export async function planReads(
  script: string,
  scriptDirs: string[],
  allowRead: boolean | readonly string[] | undefined,
  cwd: string,
): Promise<ReadPlan> {
  if (allowRead === true) return { allow: true, deny: [], realRoots: ["/"] };
  const granted = [...scriptDirs];
  for (const path of allowRead === false || allowRead === undefined ? [] : allowRead) {
    if (typeof path !== "string" || path === "" || path.includes(",")) {
      throw new TypeError(
        `Invalid allowRead path ${JSON.stringify(path)}: it must be a non-empty path without ","`,
      );
    }
    granted.push(absolutePath(path, cwd));
  }
  const roots = new Map<string, Root>();
  for (const name of granted) {
    const real = await realOrUndefined(name) ?? name;
    for (const path of [name, real]) {
      if (path.includes(",")) {
        // Deno splits --allow-read at commas: "/a,/etc" would grant /etc.
        throw new ScriptError(
          script,
          `${script}: cannot grant "${path}": Deno's permission flags cannot name a path with ","`,
        );
      }
    }
    const root = roots.get(real) ?? { names: new Set<string>(), real };
    root.names.add(name);
    root.names.add(real);
    roots.set(real, root);
  }
  const realRoots = [...roots.keys()];
  const inside = (path: string) => realRoots.some((root) => isUnder(path, root));

  // Walk each outermost root once, without following links.
  const links: { location: string; target: string | undefined; isDir: boolean }[] = [];
  let entries = 0;
  for (const top of realRoots.filter((r) => !realRoots.some((o) => o !== r && isUnder(r, o)))) {
    const stack = [top];
    while (stack.length > 0) {
      const dir = stack.pop() as string;
      let list: AsyncIterable<Deno.DirEntry>;
      try {
        list = Deno.readDir(dir);
        for await (const entry of list) {
          if (++entries > MAX_WALK_ENTRIES) {
            throw new ScriptError(
              script,
              `${script}: cannot check "${top}" for symlinks that lead out of it: more than ${MAX_WALK_ENTRIES} entries; grant narrower paths or move the script to a folder of its own`,
            );
          }
          const location = dir === "/" ? `/${entry.name}` : `${dir}/${entry.name}`;
          if (entry.isSymlink) {
            const target = await realOrUndefined(location);
            const isDir = target !== undefined &&
              (await Deno.stat(target).catch(() => null))?.isDirectory === true;
            links.push({ location, target, isDir });
          } else if (entry.isDirectory) {
            stack.push(location);
          }
        }
      } catch (error) {
        if (error instanceof ScriptError) throw error;
        // A folder this process cannot list is one the script cannot list either.
      }
    }
  }

  // Deny links that lead out, then (to a fixed point) links into folders holding a denied one.
  const denied = new Set<string>();
  for (const link of links) {
    if (link.target === undefined || !inside(link.target)) denied.add(link.location);
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const link of links) {
      if (denied.has(link.location) || !link.isDir || link.target === undefined) continue;
      const target = link.target;
      if ([...denied].some((d) => isUnder(d, target) && d !== target)) {
        denied.add(link.location);
        changed = true;
      }
    }
  }
  const deny: DeniedLink[] = [];
  const seen = new Set<string>();
  const targets = new Map(links.map((l) => [l.location, l.target]));
  for (const location of denied) {
    for (const root of roots.values()) {
      if (!isUnder(location, root.real)) continue;
      const rest = location.slice(root.real.length);
      for (const name of root.names) {
        const aliased = normalizePath(`${name}/${rest}`);
        if (seen.has(aliased)) continue;
        if (aliased.includes(",")) {
          throw new ScriptError(
            script,
            `${script}: cannot deny the symlink "${aliased}" (Deno's flags cannot name a path with ","); remove it from the granted folder`,
          );
        }
        seen.add(aliased);
        deny.push({ name: aliased, target: targets.get(location) });
      }
    }
  }
  const allow = [...new Set([...roots.values()].flatMap((r) => [...r.names]))];
  return { allow, deny, realRoots };
}

/** The denied link a path goes through, if any. */
export function deniedLinkOf(path: string, deny: readonly DeniedLink[]): DeniedLink | undefined {
  return deny.find((link) => isUnder(path, link.name));
}

/** Validates a list of env names or net hosts for a `--allow-*` flag. */
export function checkList(option: string, list: readonly string[]): string[] {
  for (const item of list) {
    if (typeof item !== "string" || item === "" || item.includes(",")) {
      throw new TypeError(
        `Invalid ${option} entry ${
          JSON.stringify(item)
        }: it must be a non-empty string without ","`,
      );
    }
  }
  return [...list];
}
