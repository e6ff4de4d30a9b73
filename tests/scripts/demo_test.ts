import assert from "node:assert/strict";

const DEMO = new URL("../../scripts/demo.ts", import.meta.url).pathname;

async function demo(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-net",
      "--allow-env",
      "--allow-run",
      "--allow-sys",
      DEMO,
      ...args,
    ],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, out: text.decode(stdout), err: text.decode(stderr) };
}

Deno.test("demo: plan, apply, list, devices, re-apply without changes, destroy", async () => {
  const { code, out, err } = await demo();
  assert.equal(code, 0, err);
  const steps = [...out.matchAll(/^\$ dxl (.*)$/gm)].map((m) => m[1]);
  assert.deepEqual(steps, [
    "plan scripts/examples/web.ts",
    "apply --yes scripts/examples/web.ts",
    "list",
    "devices web",
    "apply --yes scripts/examples/web.ts",
    "destroy --yes scripts/examples/web.ts",
    "list",
  ]);
  assert.match(out, /Plan: 1 to create, 0 to update, 0 to replace, 0 to remove\./);
  assert.match(out, /^web +1 +512 +2 +active$/m);
  assert.match(out, /^vif +0 +0 +4 \(Connected\)/m);
  assert.match(out, /No changes: the live domains match scripts\/examples\/web\.ts\./);
  assert.match(out, /Plan: 0 to create, 0 to update, 0 to replace, 1 to remove\./);
  const lists = out.split("$ dxl list").slice(1);
  assert.doesNotMatch(lists[1]!, /^web /m, "the last list no longer shows web");
  assert.match(err, /embedded xenstore, state in \/tmp\/dxl-demo-/, "a throwaway store");
});

Deno.test("demo with a script that does not exist fails naming it", async () => {
  const { code, err } = await demo("scripts/examples/nosuch.ts");
  assert.notEqual(code, 0);
  assert.match(err, /nosuch\.ts/);
});
