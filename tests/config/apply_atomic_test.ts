/**
 * apply() is atomic: an applier in a subprocess is SIGKILLed just before its k-th request, at
 * 50 points spread evenly over its whole run (from its first request to past its last:
 * before, inside and after its transaction) and at every request around its commit, against
 * a store this test owns (the embedded xenstored, and the real C xenstored when
 * ../shared/refxs is set up). After every kill the store equals the state before the apply
 * or the state its transaction committed (or, killed after the removed nic was cleaned up,
 * the final state) — never anything between.
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { SimulatedHypervisor } from "../../lib/libxl/hypervisor.ts";
import { formatTree } from "../../lib/libxl/tree.ts";
import { apply } from "../../lib/config/apply.ts";
import { validateConfig } from "../../lib/config/validate.ts";
import { fromFileUrl } from "../_helpers/paths.ts";
import { defaultKinds, refxsUnavailable, startServer } from "../_helpers/servers.ts";
import { KILL_BEFORE, KILL_NOW } from "./_helpers.ts";

const CHILD = fromFileUrl(new URL("./_apply_child.ts", import.meta.url));
const POINTS = 50;

interface Outcome {
  tree: string;
  code: number;
  signal: string | null;
  requests: number | undefined;
}

/**
 * A fresh store in the state before; then, unless `killAt` is undefined, the child applies
 * to it; the tree afterwards.
 */
async function runOnce(kind: "embedded" | "c", killAt: string | undefined): Promise<Outcome> {
  await using store = await startServer(kind);
  await using xs = await connect({ path: store.socket });
  const hypervisor = new SimulatedHypervisor(xs, { onCreate: (d) => store.createDomain(d) });
  await apply(xs, validateConfig(KILL_BEFORE), { hypervisor, wait: false, now: KILL_NOW });
  if (killAt === undefined) {
    return { tree: await formatTree(xs, "/"), code: 0, signal: null, requests: undefined };
  }
  for (const domid of [2, 3, 4]) await store.createDomain(domid); // the child's hypervisor's ids
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", CHILD, store.socket, killAt],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const m = /requests ([0-9]+)/.exec(new TextDecoder().decode(out.stdout));
  if (out.signal === null && out.code !== 0) {
    throw new Error(`applier failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return {
    tree: await formatTree(xs, "/"),
    code: out.code,
    signal: out.signal,
    requests: m === null ? undefined : Number(m[1]),
  };
}

async function killEverywhere(kind: "embedded" | "c"): Promise<void> {
  const before = (await runOnce(kind, undefined)).tree;
  const full = await runOnce(kind, "never");
  assert.equal(full.code, 0);
  const total = full.requests!;
  assert.ok(total > 100, `the apply sent only ${total} requests`);
  const committed = await runOnce(kind, "commit");
  assert.equal(committed.signal, "SIGKILL");
  const states = new Map([[before, "before"], [committed.tree, "committed"], [full.tree, "final"]]);
  assert.equal(states.size, 3, "before, committed and final differ");
  assert.match(committed.tree, /\/libxl\/2\/dxl\/managed = "1"/);
  const seen: Record<string, number[]> = { before: [], committed: [], final: [] };
  // From the first request to a few past the last, evenly; then every request around the
  // commit (the transaction ends a few requests before the last).
  const points = new Set<number>();
  for (let i = 0; i < POINTS; i++) points.add(1 + Math.round((i * (total + 4)) / (POINTS - 1)));
  for (let k = total - 12; k <= total + 2; k++) points.add(k);
  for (const k of points) {
    const run = await runOnce(kind, String(k));
    const state = states.get(run.tree);
    assert.ok(
      state !== undefined,
      `killed before request ${k} of ${total}: a state between\n${run.tree}`,
    );
    seen[state]!.push(k);
  }
  // The kills landed on both sides of the commit.
  const after = seen.committed!.length + seen.final!.length;
  assert.ok(seen.before!.length >= 40 && after >= 3, JSON.stringify(seen));
}

Deno.test({
  name: "apply() killed with SIGKILL at 50+ points leaves the store before or after [embedded]",
  ignore: !defaultKinds().includes("embedded"),
  fn: () => killEverywhere("embedded"),
});

Deno.test({
  name: "apply() killed with SIGKILL at 50+ points leaves the store before or after [c]",
  ignore: !defaultKinds().includes("c"),
}, async () => {
  const reason = await refxsUnavailable();
  if (reason !== undefined) {
    if (Deno.env.get("CI") === "true") throw new Error(`CI=true and ${reason}`);
    return; // tests/_helpers/servers.ts reports the missing daemons once for the suite
  }
  await killEverywhere("c");
});
