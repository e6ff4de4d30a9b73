/**
 * dxl's xenstore-utils commands (read, write, rm, mkdir, chmod, watch) through the real
 * entry point, against the embedded, C and OCaml xenstored: each leaves the tree the real
 * tool leaves (compared on twin subtrees when ../shared/refxs is set up) and prints what the
 * real tool prints; and always the expected output written out here.
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { formatTree } from "../../lib/libxl/tree.ts";
import { forEachServer, type TestServer } from "../_helpers/servers.ts";
import { MAIN, realTool, runDxl, tempHome } from "./_run.ts";

async function dxl(server: TestServer, home: string, ...args: string[]) {
  const run = await runDxl(["-q", "--xenstore", server.socket, ...args], { stateHome: home });
  return run;
}

/** The subtree below `path` with `path` cut off each line (to compare twin subtrees). */
async function tree(server: TestServer, path: string): Promise<string> {
  await using xs = await connect({ path: server.socket });
  return (await formatTree(xs, path, { root: false })).replaceAll(`${path}/`, "/");
}

forEachServer("xenstore-utils commands behave as the real tools", async (t, server) => {
  await using home = await tempHome();
  const h = home.path;

  await t.step("write: C escapes, pairs in one go; read prints escaped values", async () => {
    let run = await dxl(server, h, "write", "/d/a", "x\\x1by\\101\\n", "/d/b", "2");
    assert.equal(run.code, 0, run.stderr);
    run = await dxl(server, h, "read", "/d/a", "/d/b");
    assert.equal(run.stdout, "x\\x1byA\\n\n2\n");
    const real = await realTool(
      "xenstore-write",
      ["/r/a", "x\\x1by\\101\\n", "/r/b", "2"],
      server.socket,
    );
    if (real !== undefined) {
      assert.equal(await tree(server, "/d"), await tree(server, "/r"));
      const read = await realTool("xenstore-read", ["/d/a", "/d/b"], server.socket);
      assert.equal(run.stdout, new TextDecoder().decode(read));
    }
  });

  await t.step("read -p, -R and --json", async () => {
    let run = await dxl(server, h, "read", "-p", "/d/a", "/d/b");
    assert.equal(run.stdout, "/d/a: x\\x1byA\\n\n/d/b: 2\n");
    const real = await realTool("xenstore-read", ["-p", "/d/a", "/d/b"], server.socket);
    if (real !== undefined) assert.equal(run.stdout, new TextDecoder().decode(real));
    run = await dxl(server, h, "read", "-R", "/d/a");
    assert.deepEqual(run.bytes, new Uint8Array([0x78, 0x1b, 0x79, 0x41, 0x0a]));
    const realRaw = await realTool("xenstore-read", ["-R", "/d/a"], server.socket);
    if (realRaw !== undefined) assert.deepEqual(run.bytes, realRaw);
    run = await dxl(server, h, "read", "--json", "/d/a", "/d/b");
    assert.deepEqual(JSON.parse(run.stdout), [
      { path: "/d/a", value: "x\x1byA\n" },
      { path: "/d/b", value: "2" },
    ]);
  });

  await t.step("read of a missing node: one line, exit 1", async () => {
    const run = await dxl(server, h, "read", "/d/nope");
    assert.equal(run.code, 1);
    assert.equal(run.stderr, 'dxl: Cannot READ "/d/nope": ENOENT\n');
  });

  await t.step("mkdir makes empty nodes and parents", async () => {
    const run = await dxl(server, h, "mkdir", "/d/m/n", "/d/m/o");
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      await tree(server, "/d/m"),
      '/n = ""   (n0)\n/o = ""   (n0)\n',
    );
  });

  await t.step("chmod -r sets the subtree, -u the ancestors, as xenstore-chmod", async () => {
    for (const root of ["/d", "/r"]) {
      await using xs = await connect({ path: server.socket });
      await xs.mkdir(`${root}/c/x/y`);
    }
    let run = await dxl(server, h, "chmod", "-r", "/d/c", "n0", "r0");
    assert.equal(run.code, 0, run.stderr);
    run = await dxl(server, h, "chmod", "-u", "/d/c/x/y", "b0");
    assert.equal(run.code, 0, run.stderr);
    // -u sets every ancestor too (xenstore-chmod does: /d, /d/c, /d/c/x), over -r's n0,r0.
    const expected = '/c = ""   (b0)\n/c/x = ""   (b0)\n/c/x/y = ""   (b0)\n';
    assert.equal(
      (await tree(server, "/d")).split("\n").filter((l) => l.startsWith("/c")).join("\n") + "\n",
      expected,
    );
    if (await realTool("xenstore-chmod", ["-r", "/r/c", "n0", "r0"], server.socket) !== undefined) {
      await realTool("xenstore-chmod", ["-u", "/r/c/x/y", "b0"], server.socket);
      await using xs = await connect({ path: server.socket });
      assert.equal(
        (await formatTree(xs, "/d/c")).replaceAll("/d/", "/"),
        (await formatTree(xs, "/r/c")).replaceAll("/r/", "/"),
      );
      assert.deepEqual(await xs.getPerms("/d"), await xs.getPerms("/r"));
    }
  });

  await t.step("chmod with a bad permission: one line naming it, exit 2", async () => {
    const run = await dxl(server, h, "chmod", "/d/c", "q1");
    assert.equal(run.code, 2);
    assert.equal(
      run.stderr,
      'dxl: Invalid xenstore permission "q1": the first letter must be n, r, w or b\n',
    );
  });

  await t.step("rm -t removes emptied parents, as xenstore-rm -t", async () => {
    for (const root of ["/e", "/s"]) {
      await using xs = await connect({ path: server.socket });
      await xs.write(`${root}/t/u/v`, "1");
      await xs.write(`${root}/t/w`, "keep");
    }
    const run = await dxl(server, h, "rm", "-t", "/e/t/u/v");
    assert.equal(run.code, 0, run.stderr);
    assert.equal(await tree(server, "/e"), '/t = ""   (n0)\n/t/w = "keep"   (n0)\n');
    if (await realTool("xenstore-rm", ["-t", "/s/t/u/v"], server.socket) !== undefined) {
      assert.equal(await tree(server, "/e"), await tree(server, "/s"));
    }
  });

  await t.step("write with an odd number of words: exit 2", async () => {
    const run = await dxl(server, h, "write", "/d/a");
    assert.equal(run.code, 2);
    assert.equal(run.stderr, 'dxl: write takes PATH VALUE pairs; "/d/a" has no value\n');
  });

  await t.step("watch prints the initial event then each change, stops after -n", async () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        new URL("../../lib/cli/main.ts", import.meta.url).pathname,
        "-q",
        "--xenstore",
        server.socket,
        "watch",
        "-n",
        "3",
        "/d/w",
      ],
      env: { XDG_STATE_HOME: h },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) text += (await reader.read()).value ?? "";
    assert.equal(text, "/d/w\n");
    await using xs = await connect({ path: server.socket });
    await xs.write("/d/w/x", "1");
    await xs.rm("/d/w/x");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const status = await child.status;
    await child.stderr.cancel();
    assert.equal(status.code, 0);
    assert.equal(text, "/d/w\n/d/w/x\n/d/w/x\n");
  });
  await t.step("watch --json prints one object a line until SIGINT, then exits 0", async () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        MAIN,
        "-q",
        "--xenstore",
        server.socket,
        "watch",
        "--json",
        "/d/j",
      ],
      env: { XDG_STATE_HOME: h },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) text += (await reader.read()).value ?? "";
    {
      await using xs = await connect({ path: server.socket });
      await xs.write("/d/j/k", "1");
    }
    while (text.split("\n").length < 3) text += (await reader.read()).value ?? "";
    child.kill("SIGINT");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const status = await child.status;
    await child.stderr.cancel();
    assert.equal(status.code, 0);
    const events = text.trim().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(events.map((e) => e.path), ["/d/j", "/d/j/k"]);
    assert.equal(typeof events[0].token, "string");
  });
});
