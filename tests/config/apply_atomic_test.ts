/**
 * apply() is atomic: an applier in a subprocess is SIGKILLed at 60 points spread evenly over
 * its whole run, and at every request around its commit (before, inside and after its transaction: just before its k-th request, for k
 * from the first request to past the last), against a store this test owns. After every kill
 * the store equals the state before the apply or the state its transaction committed (or,
 * killed after the removed nic was cleaned up, the final state) — never anything between.
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { SimulatedHypervisor } from "../../lib/libxl/hypervisor.ts";
import { formatTree } from "../../lib/libxl/tree.ts";
import { startXenstored } from "../../lib/xenstored/mod.ts";
import { apply } from "../../lib/config/apply.ts";
import { validateConfig } from "../../lib/config/validate.ts";
import { fromFileUrl } from "../_helpers/paths.ts";
import { KILL_BEFORE, KILL_NOW } from "./_helpers.ts";

const CHILD = fromFileUrl(new URL("./_apply_child.ts", import.meta.url));
const POINTS = 60;

interface Outcome {
  tree: string;
  code: number;
  signal: string | null;
  requests: number | undefined;
}

/** A fresh store in the state before, the child applied to it, and the tree afterwards. */
async function runOnce(killAt: string): Promise<Outcome> {
  const dir = await Deno.makeTempDir({ prefix: "dxl-atomic-", dir: "/tmp" });
  try {
    await using xsd = await startXenstored({ dir });
    await using xs = await connect({ path: xsd.socket });
    const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
    await apply(xs, validateConfig(KILL_BEFORE), { hypervisor, wait: false, now: KILL_NOW });
    for (const domid of [2, 3, 4]) xsd.createDomain(domid); // the child's hypervisor's ids
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-check", CHILD, xsd.socket, killAt],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    const m = /requests ([0-9]+)/.exec(text);
    if (out.signal === null && out.code !== 0) {
      throw new Error(`applier failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    return {
      tree: await formatTree(xs, "/"),
      code: out.code,
      signal: out.signal,
      requests: m === null ? undefined : Number(m[1]),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("apply() killed with SIGKILL at 60 points leaves the store before or after", async () => {
  const before = await (async () => {
    const dir = await Deno.makeTempDir({ prefix: "dxl-atomic-", dir: "/tmp" });
    try {
      await using xsd = await startXenstored({ dir });
      await using xs = await connect({ path: xsd.socket });
      const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
      await apply(xs, validateConfig(KILL_BEFORE), { hypervisor, wait: false, now: KILL_NOW });
      return await formatTree(xs, "/");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  })();
  const full = await runOnce("never");
  assert.equal(full.code, 0);
  const total = full.requests!;
  assert.ok(total > 100, `the apply sent only ${total} requests`);
  const committed = await runOnce("commit");
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
    const run = await runOnce(String(k));
    const state = states.get(run.tree);
    assert.ok(
      state !== undefined,
      `killed before request ${k} of ${total}: a state between\n${run.tree}`,
    );
    seen[state]!.push(k);
  }
  // The kills landed on both sides of the commit.
  const after = seen.committed!.length + seen.final!.length;
  assert.ok(seen.before!.length >= 50 && after >= 3, JSON.stringify(seen));
});
