import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

/** The README's fenced blocks of one language under one heading, in order. */
async function blocks(heading: string, lang: string): Promise<string[]> {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const start = readme.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README has ${heading}`);
  const end = readme.indexOf("\n## ", start + heading.length + 2);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) =>
    m[1]!
  );
}

Deno.test("the README's library tour runs as written and its assertions hold", async () => {
  const code = (await blocks("## Quick tour", "ts")).find((b) => b.includes('from "./mod.ts"'));
  assert.ok(code, "README has a ts block importing ./mod.ts under ## Quick tour");
  // inside the repository, so deno.json's imports apply to it as to any module of the project
  const file = await Deno.makeTempFile({
    dir: new URL("tests/scripts/", ROOT).pathname,
    prefix: ".readme-tour-",
    suffix: ".ts",
  });
  try {
    await Deno.writeTextFile(file, code.replace('"./mod.ts"', `"${new URL("mod.ts", ROOT).href}"`));
    const { code: exit, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-net",
        "--allow-env",
        "--allow-run",
        file,
      ],
      cwd: new URL(".", ROOT).pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(exit, 0, new TextDecoder().decode(stderr));
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("the README's script excerpt is what scripts/examples/fleet.ts declares", async () => {
  const excerpt = (await blocks("## Quick tour", "ts")).find((b) => b.includes("fleet.ts"));
  assert.ok(excerpt, "README shows the fleet example");
  const fleet = await Deno.readTextFile(new URL("scripts/examples/fleet.ts", ROOT));
  const body = /function worker[\s\S]*?\n}\n/.exec(excerpt)?.[0];
  assert.ok(body, "the excerpt has worker()");
  const strip = (s: string) => s.replace(/\s*\/\/.*$/gm, "").replace(/\s+/g, " ");
  assert.ok(strip(fleet).includes(strip(body)), "worker() in the README is the example's");
});
