// deno-lint-ignore-file no-console
/**
 * Fails (exit 1) when the modules under a folder import each other in a circle, or when a
 * layer imports one above it. Imports are read as text: `import`, `import type` and
 * `export … from` with a relative specifier all count, since even a type-only cycle ties two
 * files together for a reader.
 *
 *     deno run --allow-read scripts/check_imports.ts lib
 *
 * @module
 */

import { dirname, join, normalize, relative } from "node:path";

/** lib/'s layers, lowest first: a file may import its own layer and those before it. */
const LAYERS = ["protocol", "client", "xenstored", "libxl", "xen", "config", "cli"];
/** Layers that sit side by side: neither may import the other. */
const SIBLINGS = new Set(["client:xenstored", "xenstored:client"]);

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^;'"]*?(?:from\s*)?["'](\.{1,2}\/[^"']+)["']/g;

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* walk(path);
    else if (entry.isFile && path.endsWith(".ts")) yield path;
  }
}

/** Each file's relative imports (as normalised paths). */
async function importGraph(root: string): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  for await (const file of walk(root)) {
    const text = await Deno.readTextFile(file);
    const targets = [...text.matchAll(IMPORT)].map((m) => normalize(join(dirname(file), m[1]!)));
    graph.set(normalize(file), targets);
  }
  return graph;
}

/** Strongly connected components with more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** Imports that go up the layer order or sideways between sibling layers. */
function layerViolations(root: string, graph: Map<string, string[]>): string[] {
  const layerOf = (file: string) => relative(root, file).split("/")[0] ?? "";
  const out: string[] = [];
  for (const [file, targets] of graph) {
    const from = layerOf(file);
    for (const target of targets) {
      const to = layerOf(target);
      const [a, b] = [LAYERS.indexOf(from), LAYERS.indexOf(to)];
      if (a < 0 || b < 0 || from === to) continue;
      if (b > a || SIBLINGS.has(`${from}:${to}`)) {
        out.push(`${relative(root, file)} imports ${relative(root, target)} (${from} -> ${to})`);
      }
    }
  }
  return out.sort();
}

const root = normalize(Deno.args[0] ?? "lib");
const graph = await importGraph(root);
const found = cycles(graph);
const upward = layerViolations(root, graph);
for (const c of found) console.error(`cycle: ${c.map((f) => relative(root, f)).join(" <-> ")}`);
for (const v of upward) console.error(`layering: ${v}`);
if (found.length > 0 || upward.length > 0) {
  console.error(`${found.length} import cycle(s), ${upward.length} layering violation(s)`);
  Deno.exit(1);
}
console.log(`imports: ${graph.size} files under ${root}, no cycles, layers in order`);
