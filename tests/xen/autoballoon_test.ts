/**
 * xl's autoballooning (lib/xen/autoballoon.ts) with the time injected: the 2 s polls, the
 * 10 s without progress, the 30 s credit, and xl.conf's setting. The comparison with real
 * `xl create` under the fakexl shim is in _shim_suite.ts.
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { startXenstored } from "../../lib/xenstored/mod.ts";
import { autoballoonEnabled, freeMemory } from "../../lib/xen/autoballoon.ts";
import { InsufficientMemoryError } from "../../lib/xen/errors.ts";

const GiB = 1 << 20; // in KiB
const DOM0_UUID = "00000000-0000-0000-0000-000000000000";

/** A host whose dom0 runs `balloon` at each 2 s poll; the clock advances with the polls. */
async function withHost(
  fn: (ctx: {
    xs: Awaited<ReturnType<typeof connect>>;
    state: { freeKb: number; dom0Kb: number; clockMs: number; polls: number };
    run: (
      needKb: number,
      balloon: (target: number) => void,
    ) => Promise<void>;
  }) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dxl-balloon-", dir: "/tmp" });
  try {
    await using xsd = await startXenstored({ dir, initDom0: true });
    await using xs = await connect({ path: xsd.socket });
    const state = { freeKb: 1 * GiB, dom0Kb: 4 * GiB, clockMs: 0, polls: 0 };
    const host = {
      freeKb: () => state.freeKb,
      dom0: () => ({ currentKb: state.dom0Kb, outstandingKb: 0, maxKb: 4 * GiB, uuid: DOM0_UUID }),
    };
    const run = (needKb: number, balloon: (target: number) => void) =>
      freeMemory(xs, needKb, host, {
        now: () => state.clockMs,
        delay: async (ms) => {
          assert.equal(ms, 2000);
          state.clockMs += ms;
          state.polls++;
          balloon(Number(await xs.read("/local/domain/0/memory/target")));
        },
      });
    await fn({ xs, state, run });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("freeMemory() returns at once when the host has enough free", async () => {
  await withHost(async ({ xs, state, run }) => {
    await run(1 * GiB, () => assert.fail("no ballooning"));
    assert.equal(state.polls, 0);
    assert.equal(await xs.tryRead("/local/domain/0/memory/target"), undefined, "dom0 untouched");
  });
});

Deno.test("freeMemory() waits while dom0 makes progress, then succeeds", async () => {
  await withHost(async ({ xs, state, run }) => {
    // dom0 gives back 128 MiB per poll: 512 MiB missing takes 4 polls
    await run(1.5 * GiB, (target) => {
      const step = Math.min(128 * 1024, state.dom0Kb - target);
      state.dom0Kb -= step;
      state.freeKb += step;
    });
    assert.equal(state.polls, 4);
    assert.equal(await xs.read("/local/domain/0/memory/target"), String(3.5 * GiB));
    assert.equal(await xs.read("/local/domain/0/memory/static-max"), String(4 * GiB));
    assert.equal(await xs.read(`/vm/${DOM0_UUID}/memory`), "3584");
  });
});

Deno.test("freeMemory() gives up after 10 s without progress, or when dom0 grows", async () => {
  await withHost(async ({ state, run }) => {
    await assert.rejects(run(1.5 * GiB, () => {}), (e: unknown) => {
      assert.ok(e instanceof InsufficientMemoryError);
      assert.match(
        e.message,
        /dom0 did not get down to its target 3670016 KiB \(still 4194304 KiB\)/,
      );
      return true;
    });
    assert.equal(state.polls, 6); // the first look, then 5 more without progress (10 s)
  });
  await withHost(async ({ run, state }) => {
    await assert.rejects(
      run(1.5 * GiB, () => void (state.dom0Kb += 1024)),
      /dom0's memory grew to 4196352 KiB/,
    );
  });
});

Deno.test("freeMemory() lowers dom0 again while its 30 s last, and not below 128 MiB", async () => {
  await withHost(async ({ xs, state, run }) => {
    // dom0 reaches each target, but the memory goes elsewhere: free never grows
    const need = 1 * GiB + 64 * 1024;
    await assert.rejects(run(need, (target) => void (state.dom0Kb = target)), (e: unknown) => {
      assert.ok(e instanceof InsufficientMemoryError);
      assert.match(e.message, /no time left to wait for dom0 \(30 s\)/);
      return true;
    });
    // each round took one 2 s poll and lowered the target by the missing 64 MiB: 15 rounds
    assert.equal(state.polls, 15);
    assert.equal(await xs.read("/local/domain/0/memory/target"), String(4 * GiB - 15 * 64 * 1024));
  });
  await withHost(async ({ run }) => {
    // 4 GiB missing from a 4 GiB dom0: libxl refuses a dom0 target under 128 MiB
    await assert.rejects(
      run(5 * GiB, () => {}),
      /lowering dom0's memory target failed: New target 0 for dom0 is below the minimum threshold/,
    );
  });
});

Deno.test("autoballoonEnabled() reads xl.conf as xl does; auto looks for dom0_mem", async () => {
  const dir = await Deno.makeTempDir();
  const xlConf = `${dir}/xl.conf`;
  const on = (commandline: string) =>
    autoballoonEnabled({ xlConf, commandline: () => commandline });
  assert.equal(await on("placeholder"), true, "no xl.conf: auto");
  assert.equal(await on("dom0_mem=4G,max:4G loglvl=all"), false);
  await Deno.writeTextFile(xlConf, 'autoballoon="1"\n');
  assert.equal(await on("dom0_mem=4G"), true);
  await Deno.writeTextFile(xlConf, "autoballoon = 'off' # no ballooning\n");
  assert.equal(await on("placeholder"), false);
  await Deno.writeTextFile(xlConf, 'autoballoon="sometimes"\n'); // xl: invalid, stays auto
  assert.equal(await on("placeholder"), true);
  await Deno.writeTextFile(xlConf, 'autoballoon="off"\nautoballoon="on"\n'); // the last one
  assert.equal(await on("dom0_mem=1G"), true);
  await Deno.remove(dir, { recursive: true });
});
