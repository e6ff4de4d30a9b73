import assert from "node:assert/strict";

const DEMO = new URL("../../scripts/demo.ts", import.meta.url).pathname;

async function demo(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-net", "--allow-env", DEMO, ...args],
    env: { XENSTORED_PATH: "/nonexistent/xenstored/socket" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, out: text.decode(stdout), err: text.decode(stderr) };
}

Deno.test("demo lays out a connected guest on the embedded xenstored when none answers", async () => {
  const { code, out, err } = await demo("/local/domain");
  assert.equal(code, 0, err);
  assert.match(err, /no xenstored here: using the embedded one/);
  const lines = out.split("\n").map((l) => l.trim());
  assert.ok(lines.some((l) => l.startsWith('name = "demo"')), out);
  assert.ok(lines.some((l) => l.startsWith('51712 = ""') && l.endsWith("(n1,r0)")), out);
  const states = lines.filter((l) => l.startsWith('state = "4"'));
  assert.equal(states.length, 3, "console, vbd and vif backends reach Connected");
});

Deno.test("demo with an explicit --socket that does not answer fails naming it", async () => {
  const { code, err } = await demo("--socket", "/nonexistent/dxl.sock");
  assert.equal(code, 1);
  assert.match(err, /\/nonexistent\/dxl\.sock/);
});

Deno.test("demo --no-perms prints values without permission lists", async () => {
  const { code, out, err } = await demo("--embedded", "--no-perms", "/local/domain/1");
  assert.equal(code, 0, err);
  assert.match(out, /name = "demo"/);
  assert.doesNotMatch(out, /\(n\d/);
});
