/**
 * Testing domain scripts with `deno test`: each example script planned and applied on a
 * throwaway host (`dxl/testing`), its devices and tree checked. Copy this next to your own
 * scripts.
 *
 * Run: deno test -A scripts/examples/
 *
 * @module
 */

import assert from "node:assert/strict";
import { testEnv } from "dxl/testing";
import { ScriptPermissionError } from "dxl";

const here = (name: string) => new URL(`./${name}`, import.meta.url);

Deno.test("web.ts: plans one domain, applies it with connected backends", async () => {
  await using env = await testEnv();
  const plan = await env.plan(here("web.ts"));
  assert.deepEqual(plan.actions.map((a) => `${a.kind} ${a.domain}`), ["create web"]);
  assert.deepEqual(plan.actions[0]!.devices!.map((d) => d.label), ["xvda", "xvdb", "vif 0"]);
  await env.apply(here("web.ts"));
  assert.deepEqual(await env.devices("web"), [
    { kind: "vbd", devid: 51712, label: "xvda", backend: "Domain-0", state: "Connected" },
    { kind: "vbd", devid: 51728, label: "xvdb", backend: "Domain-0", state: "Connected" },
    { kind: "vif", devid: 0, label: "vif 0", backend: "Domain-0", state: "Connected" },
  ]);
  // A snapshot of what the toolstack recorded, as xenstore-ls -f -p prints it.
  const record = await env.tree("/libxl/1/device/vif/0");
  assert.match(record, /^\/libxl\/1\/device\/vif\/0\/mac = "00:16:3e:10:00:01" {3}\(n0\)$/m);
  assert.match(record, /^\/libxl\/1\/device\/vif\/0\/rate = "625000,50000" {3}\(n0\)$/m);
  // Applying again changes nothing.
  const again = await env.plan(here("web.ts"));
  assert.deepEqual(again.actions.map((a) => a.kind), ["noop"]);
});

Deno.test("fleet.ts: nine domains from a loop, in one apply", async () => {
  await using env = await testEnv();
  const result = await env.apply(here("fleet.ts"));
  assert.equal(result.attempts, 1);
  const names = await env.domains();
  assert.equal(names.length, 9);
  assert.ok(names.includes("worker-08") && names.includes("db"));
  assert.deepEqual((await env.devices("db")).map((d) => d.label), ["xvda", "xvdb", "vif 0"]);
});

Deno.test("driver_domain.ts: the guest's nic is served by netdom", async () => {
  await using env = await testEnv();
  const plan = await env.plan(here("driver_domain.ts"));
  assert.deepEqual(plan.actions.map((a) => `${a.kind} ${a.domain}`), [
    "create netdom",
    "create app",
  ]);
  await env.apply(here("driver_domain.ts"));
  assert.deepEqual(await env.devices("app"), [
    { kind: "vbd", devid: 51712, label: "xvda", backend: "Domain-0", state: "Connected" },
    { kind: "vif", devid: 0, label: "vif 0", backend: "netdom", state: "Connected" },
  ]);
  // netdom runs the backend: it lives under netdom's home.
  assert.match(
    await env.tree("/local/domain/1/backend"),
    /\/local\/domain\/1\/backend\/vif\/2\/0\/bridge = "br-app"/,
  );
});

Deno.test("inventory/site.ts: needs --allow-read for its inventory, then applies it", async () => {
  await using denied = await testEnv();
  await assert.rejects(denied.plan(here("inventory/site.ts")), (e: unknown) => {
    assert.ok(e instanceof ScriptPermissionError);
    assert.equal(e.permission, "read");
    assert.match(e.message, /--allow-read=/);
    return true;
  });
  const inventory = decodeURIComponent(here("hosts.json").pathname);
  await using env = await testEnv({ evaluate: { allowRead: [inventory] } });
  await env.apply(here("inventory/site.ts"));
  assert.deepEqual(await env.domains(), ["mail", "dns", "vpn"]);
});
