import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

Deno.test("the README's quick tour runs as written", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const tour = readme.slice(readme.indexOf("## Quick tour"));
  const code = /```ts\n([\s\S]*?)```/.exec(tour)?.[1];
  assert.ok(code, "README has a ts block under ## Quick tour");
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, code.replace('"./mod.ts"', `"${new URL("mod.ts", ROOT).href}"`));
    const { code: exit, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", "--allow-net", "--allow-env", file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(stdout);
    assert.equal(exit, 0, new TextDecoder().decode(stderr));
    assert.match(out, /^hello\n/);
    assert.match(out, /libxlPath: "\/libxl\/1\/device\/vbd\/51712"/);
    assert.match(out, /libxlPath: "\/libxl\/1\/device\/vif\/0"/);
  } finally {
    await Deno.remove(file);
  }
});
