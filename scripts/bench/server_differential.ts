// deno-lint-ignore-file no-console
/**
 * The long differential run (`deno task fuzz`): `differential_test.ts` (embedded vs the real C
 * xenstored, two guests connected, default and low guest quotas) for many seeds, one
 * `deno test` per seed, then one summary line with the figures.
 *
 * Usage: `deno task fuzz [--seeds N] [--steps N] [--first SEED] [--jobs N] [--memory BYTES]`
 * (defaults: 20 seeds, 10,000 steps, first seed 1, 1 job, no `memory` quota). `--memory`
 * adds a guest `memory` quota to the low quotas (1500 stalls guests often: C stops reading a
 * guest at its quota, and so does the embedded server).
 *
 * @module
 */

import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    seeds: { type: "string", default: "20" },
    steps: { type: "string", default: "10000" },
    first: { type: "string", default: "1" },
    jobs: { type: "string", default: "1" },
    memory: { type: "string" },
  },
});
const count = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`--${name} needs a positive integer, got "${text}"`);
  }
  return n;
};
const seeds = count("seeds", values.seeds);
const steps = count("steps", values.steps);
const first = count("first", values.first);
const jobs = count("jobs", values.jobs);
const memory = values.memory === undefined ? undefined : count("memory", values.memory);
const test = new URL("../../tests/xenstored/differential_test.ts", import.meta.url).pathname;

interface Result {
  seed: number;
  ok: boolean;
  seconds: number;
  output: string;
  /** Replies compared as "an error" (E9: C's stale errno). */
  stale: number;
  /** Times a guest stalled for long had its memory quota raised for one step. */
  rescues: number;
  /** Resumed batches whose events were compared without repetitions (E13). */
  repeated: number;
  /** The step at which C aborted on its stale errno 0 (E9) and the run stopped, or 0. */
  aborted: number;
}

async function runSeed(seed: number): Promise<Result> {
  const started = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--no-check", test, "--filter", "/seed/"],
    env: {
      DXL_DIFF_SEED: String(seed),
      DXL_DIFF_COUNT: String(steps),
      ...(memory === undefined ? {} : { DXL_DIFF_MEMORY: String(memory) }),
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const output = dec.decode(out.stdout) + dec.decode(out.stderr);
  const figure = (re: RegExp) => Number(re.exec(output)?.[1] ?? 0);
  return {
    seed,
    ok: out.success,
    seconds: (performance.now() - started) / 1000,
    output,
    stale: figure(/stale errno \(E9\) compared as an error: ([0-9]+)/),
    rescues: figure(/stalled guests rescued: ([0-9]+)/),
    repeated: figure(/without repeated events \(E13\): ([0-9]+)/),
    aborted: figure(/C aborted \(E9: stale errno 0\) at step ([0-9]+)/),
  };
}

const started = performance.now();
const queue = Array.from({ length: seeds }, (_, i) => first + i);
const results: Result[] = [];
await Promise.all(Array.from({ length: jobs }, async () => {
  for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) {
    const r = await runSeed(seed);
    results.push(r);
    const stale = `${r.stale > 0 ? `, ${r.stale} stale errno` : ""}${
      r.rescues > 0 ? `, ${r.rescues} stalled guests rescued` : ""
    }${r.repeated > 0 ? `, ${r.repeated} resumed batches with repeated events` : ""}${
      r.aborted > 0 ? `, C aborted (E9) at step ${r.aborted}: stopped there` : ""
    }`;
    console.log(
      `seed ${seed}: ${r.ok ? "no divergence" : "DIVERGED"} (${r.seconds.toFixed(0)} s${stale})`,
    );
    if (!r.ok) console.log(r.output);
  }
}));
const failed = results.filter((r) => !r.ok);
const minutes = (performance.now() - started) / 60000;
console.log(
  `${seeds} seeds x ${steps} steps x 2 quota settings (default, low guest quotas` +
    `${memory === undefined ? "" : ` with memory ${memory}`}), ` +
    `2 guests connected: ${failed.length} diverged` +
    `${failed.length > 0 ? ` (seeds ${failed.map((r) => r.seed).join(", ")})` : ""}; ` +
    `${minutes.toFixed(1)} min` +
    `; ${results.reduce((a, r) => a + r.stale, 0)} replies compared as an error (E9 stale errno)` +
    `; ${results.reduce((a, r) => a + r.rescues, 0)} stalled guests rescued` +
    `; ${results.reduce((a, r) => a + r.repeated, 0)} resumed batches compared without ` +
    `repeated events (E13); C aborted (E9) in ${results.filter((r) => r.aborted > 0).length} ` +
    `seeds`,
);
if (failed.length > 0) Deno.exit(1);
