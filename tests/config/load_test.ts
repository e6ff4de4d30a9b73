/**
 * loadConfig: a script evaluated in its sandbox, then validated; errors name the script.
 */

import assert from "node:assert/strict";
import { ConfigValidationError, ScriptPermissionError } from "../../lib/config/errors.ts";
import { loadConfig } from "../../lib/config/load.ts";

async function withScript(
  source: string,
  fn: (path: string, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dxl-load-" });
  try {
    await Deno.writeTextFile(`${dir}/site.ts`, source);
    await fn(`${dir}/site.ts`, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadConfig() validates what the script exports, naming the script", async () => {
  await withScript(
    `import { defineConfig } from "dxl";
     export default defineConfig({ domains: [{ name: "web", disks: ["/dev/x,raw,xvd9"] }, { name: "web" }] });`,
    async (path) => {
      await assert.rejects(loadConfig(path), (e: unknown) => {
        assert.ok(e instanceof ConfigValidationError);
        assert.equal(e.script, path);
        assert.deepEqual(e.message.split("\n"), [
          `${path}: domains[0].disks[0].vdev: "xvd9" is not a valid virtual disk`,
          `${path}: domains[1].name: "web" is also the name of domains[0]`,
        ]);
        return true;
      });
    },
  );
});

Deno.test("loadConfig() takes a function's value, and stops at a permission not granted", async () => {
  await withScript(
    `export default async () => ({
       domains: [{ name: Deno.env.get("DXL_LOAD_NAME") ?? "none", memory: "1G" }],
     });`,
    async (path) => {
      Deno.env.set("DXL_LOAD_NAME", "db");
      await assert.rejects(loadConfig(path), ScriptPermissionError);
      const config = await loadConfig(path, { allowEnv: ["DXL_LOAD_NAME"] });
      assert.equal(config.script, path);
      assert.deepEqual(config.domains.map((d) => [d.name, d.maxMemKb]), [["db", 1048576]]);
    },
  );
});
