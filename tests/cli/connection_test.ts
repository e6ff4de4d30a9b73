/**
 * Which xenstore `dxl` uses, and the one stderr line that says so: `--xenstore`, then
 * `XENSTORED_PATH` (both must answer), then the standard sockets (`$XENSTORED_RUNDIR/socket`
 * stands in for `/run/xenstored/socket` here), then `dxl serve`'s, then the embedded store.
 */

import assert from "node:assert/strict";
import { forEachServer } from "../_helpers/servers.ts";
import { runDxl, tempHome } from "./_run.ts";

forEachServer("the xenstore is chosen in order and named on stderr", async (t, server) => {
  await using home = await tempHome();
  const dxl = (args: string[], env: Record<string, string> = {}) =>
    runDxl(args, { stateHome: home.path, env });

  await t.step("--xenstore PATH", async () => {
    const run = await dxl(["--xenstore", server.socket, "ls", "/tool"], {
      XENSTORED_PATH: "/nonexistent/socket",
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, `dxl: xenstore ${server.socket} (--xenstore)\n`);
  });

  await t.step("XENSTORED_PATH", async () => {
    const run = await dxl(["ls", "/tool"], { XENSTORED_PATH: server.socket });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, `dxl: xenstore ${server.socket} (XENSTORED_PATH)\n`);
  });

  await t.step("a standard socket ($XENSTORED_RUNDIR/socket)", async () => {
    const run = await dxl(["ls", "/tool"], { XENSTORED_RUNDIR: server.dir });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, `dxl: xenstore ${server.dir}/socket\n`);
  });

  await t.step("--quiet: no line", async () => {
    const run = await dxl(["-q", "ls", "/tool"], { XENSTORED_RUNDIR: server.dir });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
  });

  await t.step("--embedded wins over a socket that answers", async () => {
    const run = await dxl(["--embedded", "read", "/local/domain/0/name"], {
      XENSTORED_RUNDIR: server.dir,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "Domain-0\n");
    assert.equal(run.stderr, `dxl: embedded xenstore, state in ${home.path}/dxl/xenstore.db\n`);
  });
}, { kinds: ["embedded", "c"] });

Deno.test("a named socket that does not answer is an error, never a fallback", async (t) => {
  await using home = await tempHome();
  const dxl = (args: string[], env: Record<string, string> = {}) =>
    runDxl(args, { stateHome: home.path, env });
  await t.step("--xenstore", async () => {
    const run = await dxl(["--xenstore", "/nonexistent/socket", "ls"]);
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr,
      "dxl: Cannot connect to xenstored; tried /nonexistent/socket (No such file or " +
        "directory (os error 2))\n",
    );
  });
  await t.step("XENSTORED_PATH", async () => {
    const run = await dxl(["ls"], { XENSTORED_PATH: "/nonexistent/socket" });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^dxl: Cannot connect to xenstored; tried \/nonexistent\/socket /);
  });
  await t.step("--embedded with --xenstore: exit 2", async () => {
    const run = await dxl(["--embedded", "--xenstore", "/x", "ls"]);
    assert.equal(run.code, 2);
    assert.equal(run.stderr, "dxl: --embedded and --xenstore exclude each other\n");
  });
  await t.step("nothing answers: the embedded store", async () => {
    const run = await dxl(["read", "/local/domain/0/name"], {
      XENSTORED_RUNDIR: "/nonexistent",
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "Domain-0\n");
    assert.equal(run.stderr, `dxl: embedded xenstore, state in ${home.path}/dxl/xenstore.db\n`);
  });
});
