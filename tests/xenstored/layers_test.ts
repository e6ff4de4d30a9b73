/**
 * The embedded xenstored's layering (issue 10 part 1): imports go one way only, from the
 * socket server down to the data modules, with no cycle; wire numbers only through `Op`,
 * `Feature` and the protocol's constants.
 *
 * @module
 */

import assert from "node:assert/strict";

const DIR = new URL("../../lib/xenstored/", import.meta.url);

/** Each file's layer, lowest first; a file may import its own layer and those below. */
const LAYERS: readonly (readonly string[])[] = [
  // data modules
  [
    "_bytes.ts",
    "_memory.ts",
    "errno.ts",
    "node_perms.ts",
    "store.ts",
    "transaction.ts",
    "quotas.ts",
    "domains.ts",
    "connection.ts",
    "types.ts",
    "permissions.ts",
  ],
  // node access: returns the watch events a change causes
  ["access.ts"],
  // event matching and delivery
  ["watches.ts"],
  // what handlers see of the server
  ["context.ts"],
  // request handlers, one file per area
  ["ops_nodes.ts", "ops_session.ts", "ops_domains.ts", "ops_dxl_domain.ts", "ops_control.ts"],
  // the dispatcher, keyed by Op
  ["ops.ts"],
  // the protocol core: requests read (and held while a guest is stalled), then processed
  ["request_reader.ts", "core.ts"],
  // persistence, sockets, public face
  ["state.ts"],
  ["server.ts"],
  ["mod.ts"],
];

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^;'"]*?(?:from\s*)?["'](\.{1,2}\/[^"']+)["']/g;

async function imports(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for await (const entry of Deno.readDir(DIR)) {
    if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
    const text = await Deno.readTextFile(new URL(entry.name, DIR));
    const deps: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] as string;
      if (spec.startsWith("./")) deps.push(spec.slice(2));
    }
    out.set(entry.name, deps);
  }
  return out;
}

Deno.test("xenstored: every file has a layer, and imports only its own layer or lower ones", async () => {
  const graph = await imports();
  const layerOf = new Map<string, number>();
  LAYERS.forEach((files, i) => files.forEach((f) => layerOf.set(f, i)));
  for (const file of graph.keys()) {
    assert.ok(layerOf.has(file), `${file} has no layer in layers_test.ts`);
  }
  const wrong: string[] = [];
  for (const [file, deps] of graph) {
    for (const dep of deps) {
      if ((layerOf.get(dep) ?? -1) > (layerOf.get(file) ?? -1)) {
        wrong.push(`${file} imports ${dep}, a layer above it`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("xenstored: no import cycle", async () => {
  const graph = await imports();
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "open") {
      cycles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
      return;
    }
    state.set(file, "open");
    for (const dep of graph.get(file) ?? []) visit(dep, [...path, file]);
    state.set(file, "done");
  };
  for (const file of graph.keys()) visit(file, []);
  assert.deepEqual(cycles, []);
});

Deno.test("xenstored: message types and feature bits by name, not number", async () => {
  const bare = [
    /\b(?:reply|frame|event|#error)\(\s*\d/, // a reply or event type as a number
    /\bt\[\d+\]/, // a handler table indexed by number
    /features\s*&\s*\d/, // a feature bit as a number
    /\btype:\s*\d+\s*,/, // a request built with a numeric type
  ];
  const found: string[] = [];
  for await (const entry of Deno.readDir(DIR)) {
    if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
    const lines = (await Deno.readTextFile(new URL(entry.name, DIR))).split("\n");
    lines.forEach((line, i) => {
      if (/^\s*(\*|\/\/)/.test(line)) return; // comments and doc examples
      if (bare.some((re) => re.test(line))) found.push(`${entry.name}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(found, []);
});
