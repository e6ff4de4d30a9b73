/**
 * The embedded store keeps its state: `dxl apply` in one process, `dxl list` in the next
 * shows the domains; `dxl serve` serves the same store to other `dxl` processes (domains
 * created through its domain table), and after it is killed (SIGKILL) the next `dxl` finds
 * everything in the SQLite file and can destroy what was applied.
 */

import assert from "node:assert/strict";
import { fromFileUrl, joinPosix } from "../_helpers/paths.ts";
import { MAIN, runDxl, tempHome } from "./_run.ts";

const WEB = joinPosix(fromFileUrl(new URL("../testdata/cli/scripts/", import.meta.url)), "web.ts");

Deno.test("state survives: apply, then list in a new process", async () => {
  await using home = await tempHome();
  const dxl = (...args: string[]) => runDxl(args, { stateHome: home.path });
  const apply = await dxl("apply", "--yes", WEB);
  assert.equal(apply.code, 0, apply.stderr);
  assert.match(
    apply.stderr,
    new RegExp(`^dxl: embedded xenstore, state in ${home.path}/dxl/xenstore.db$`, "m"),
  );
  const list = await dxl("-q", "list");
  assert.match(list.stdout, /^web +1 +512 +1 /m);
  const name = await dxl("-q", "read", "/local/domain/1/name");
  assert.equal(name.stdout, "web\n");
});

Deno.test("dxl serve shares the store; killed, the next dxl finds everything", async () => {
  await using home = await tempHome();
  const dxl = (...args: string[]) => runDxl(args, { stateHome: home.path });
  const serve = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, "serve"],
    env: { XDG_STATE_HOME: home.path },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let killed = false;
  try {
    const reader = serve.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let first = "";
    while (!first.includes("\n")) first += (await reader.read()).value ?? "";
    reader.releaseLock();
    const socket = `${home.path}/dxl/run/socket`;
    assert.equal(first, `${socket}\n`);

    const apply = await dxl("apply", "--yes", WEB);
    assert.equal(apply.code, 0, apply.stderr);
    assert.match(apply.stderr, new RegExp(`^dxl: xenstore ${socket} \\(dxl serve\\)$`, "m"));
    assert.match(apply.stderr, /^dxl: web: vif 0 of domain 1 connected$/m);
    const list = await dxl("-q", "list");
    assert.match(list.stdout, /^web +1 +512 +1 /m);

    serve.kill("SIGKILL");
    killed = true;
    assert.equal((await serve.status).signal, "SIGKILL");
  } finally {
    if (!killed) serve.kill("SIGTERM");
    await serve.stdout.cancel().catch(() => {});
    await serve.stderr.cancel().catch(() => {});
    if (!killed) await serve.status;
  }

  const after = await dxl("list");
  assert.match(after.stderr, /^dxl: embedded xenstore, state in /m);
  assert.match(after.stdout, /^web +1 +512 +1 /m);
  const again = await dxl("-q", "plan", "--detailed-exitcode", WEB);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  const destroy = await dxl("-q", "destroy", "--yes", WEB);
  assert.equal(destroy.code, 0, destroy.stderr);
  assert.match(destroy.stderr, /^dxl: destroyed domain web \(domid 1\)$/m);
  assert.doesNotMatch((await dxl("-q", "list")).stdout, /^web /m);
});
