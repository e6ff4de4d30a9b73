/**
 * Every script in scripts/examples through `dxl` on the embedded store: apply, the domains
 * listed, apply again (no changes), destroy, nothing left.
 */

import assert from "node:assert/strict";
import { fromFileUrl } from "../_helpers/paths.ts";
import { runDxl, tempHome } from "./_run.ts";

const ROOT = fromFileUrl(new URL("../../", import.meta.url));

const EXAMPLES: { script: string; flags: string[]; domains: string[] }[] = [
  { script: "scripts/examples/web.ts", flags: [], domains: ["web"] },
  {
    script: "scripts/examples/fleet.ts",
    flags: [],
    domains: [...Array.from({ length: 8 }, (_, i) => `worker-0${i + 1}`), "db"],
  },
  { script: "scripts/examples/driver_domain.ts", flags: [], domains: ["netdom", "app"] },
  {
    script: "scripts/examples/inventory/site.ts",
    flags: ["--allow-read=scripts/examples/hosts.json"],
    domains: ["mail", "dns", "vpn"],
  },
];

for (const example of EXAMPLES) {
  Deno.test(`dxl apply/destroy ${example.script}`, async () => {
    await using home = await tempHome();
    const dxl = async (...args: string[]) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--quiet", `${ROOT}lib/cli/main.ts`, "--embedded", "-q", ...args],
        cwd: ROOT,
        env: { XDG_STATE_HOME: home.path, INIT_CWD: ROOT },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      });
      const out = await child.output();
      const decode = (b: Uint8Array) => new TextDecoder().decode(b);
      return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
    };
    const apply = await dxl("apply", "--yes", ...example.flags, example.script);
    assert.equal(apply.code, 0, apply.stderr);
    assert.doesNotMatch(apply.stderr, /did not get/);
    const list = await dxl("list");
    for (const name of example.domains) assert.match(list.stdout, new RegExp(`^${name} `, "m"));
    const again = await dxl("apply", ...example.flags, example.script);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, `No changes: the live domains match ${example.script}.\n`);
    const destroy = await dxl("destroy", "--yes", ...example.flags, example.script);
    assert.equal(destroy.code, 0, destroy.stderr);
    const after = await dxl("-q", "ls", "/libxl");
    assert.equal(after.stdout, "");
    assert.equal((await dxl("list")).stdout.trim().split("\n").length, 2, "only Domain-0 left");
  });
}

Deno.test("the inventory example needs --allow-read: without it, exit 2 naming the grant", async () => {
  await using home = await tempHome();
  const run = await runDxl(["-q", "plan", `${ROOT}scripts/examples/inventory/site.ts`], {
    stateHome: home.path,
  });
  assert.equal(run.code, 2);
  assert.match(run.stderr, /grant it with --allow-read=\S*scripts\/examples\/hosts\.json\n$/);
});
