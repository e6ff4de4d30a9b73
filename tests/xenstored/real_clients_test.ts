/**
 * Real Xen clients against the embedded xenstored: Debian's xenstore-utils
 * (`xenstore-ls -p`, `-read`, `-write`, `-rm`, `-chmod`, `-watch`, `-exists`, `-list`,
 * `-control`), Xen's `test-xenstore` (all tests, random order, and as a guest through the
 * per-domain socket) and python3-pyxs. They come from `../shared/refxs` (`REFXS_HOME`, or
 * `.work` beside it); when missing the tests say so and skip (fail under `CI=true`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { startXenstored, type XenstoredHandle } from "../../lib/xenstored/mod.ts";
import { coreOf } from "../../lib/xenstored/server.ts";
import { REFXS_DIR } from "../_helpers/servers.ts";
import { joinPosix } from "../_helpers/paths.ts";

const HOME = Deno.env.get("REFXS_HOME") ?? joinPosix(REFXS_DIR, ".work");
const ROOT = joinPosix(HOME, "root");
const XENBIN = joinPosix(ROOT, "usr/lib/xen-4.17/bin");
const BIN = joinPosix(ROOT, "usr/bin");

async function missing(): Promise<string | undefined> {
  for (const f of [joinPosix(BIN, "xenstore-ls"), joinPosix(XENBIN, "test-xenstore")]) {
    try {
      await Deno.stat(f);
    } catch {
      return `${f} is missing: run ${REFXS_DIR}/setup.sh (or set REFXS_HOME)`;
    }
  }
  return undefined;
}

function env(socket: string): Record<string, string> {
  return {
    XENSTORED_PATH: socket,
    LD_LIBRARY_PATH: `${joinPosix(ROOT, "usr/lib/x86_64-linux-gnu")}:${
      joinPosix(ROOT, "usr/lib/xen-4.17/lib")
    }`,
    PYTHONPATH: joinPosix(ROOT, "usr/lib/python3/dist-packages"),
    PATH: `${BIN}:${XENBIN}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
  };
}

async function tool(socket: string, cmd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    env: env(socket),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed (${out.code}): ${text}`);
  return text;
}

function realClientTest(name: string, fn: (xs: XenstoredHandle) => Promise<void>): void {
  Deno.test(name, async () => {
    const reason = await missing();
    if (reason !== undefined) {
      if (Deno.env.get("CI") === "true") throw new Error(`CI=true and ${reason}`);
      // deno-lint-ignore no-console
      console.warn(`SKIPPED: ${reason}`);
      return;
    }
    const dir = await Deno.makeTempDir({ prefix: "dxl-real-", dir: "/tmp" });
    const xs = await startXenstored({ dir, initDom0: true });
    try {
      await fn(xs);
    } finally {
      await xs.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

realClientTest("xenstore-utils work against the embedded xenstored", async (xs) => {
  const s = xs.socket;
  await tool(s, "xenstore-write", "/a/b", "c", "/a/d", "e");
  assert.equal(await tool(s, "xenstore-read", "/a/b"), "c\n");
  await tool(s, "xenstore-chmod", "/a/b", "n0", "r7");
  const ls = await tool(s, "xenstore-ls", "-p", "/a");
  assert.match(ls, /^b = "c" [ .]*\(n0,r7\)\nd = "e" [ .]*\(n0\)\n$/);
  assert.match(await tool(s, "xenstore-ls", "-p", "/"), /name = "Domain-0"/);
  assert.equal(await tool(s, "xenstore-list", "/a"), "b\nd\n");
  await tool(s, "xenstore-exists", "/a/b");
  await tool(s, "xenstore-rm", "/a/b");
  await assert.rejects(tool(s, "xenstore-exists", "/a/b"));
  assert.equal(await tool(s, "xenstore-list", "/a"), "d\n");
  assert.match(await tool(s, "xenstore-control", "quota"), /^Quota settings:\nnodes +: +1000/);
  assert.equal(await tool(s, "xenstore-control", "check"), "OK\n");
});

realClientTest("xenstore-watch gets the initial event, then a write and an rm", async (xs) => {
  const s = xs.socket;
  const watch = new Deno.Command("xenstore-watch", {
    args: ["-n", "3", "/w"],
    env: env(s),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const until = Date.now() + 5000;
  while (coreOf(xs).watchCount === 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await tool(s, "xenstore-write", "/w/x", "1");
  await tool(s, "xenstore-rm", "/w/x");
  const out = await watch.output();
  assert.equal(new TextDecoder().decode(out.stdout), "/w\n/w/x\n/w/x\n");
});

realClientTest("test-xenstore passes as dom0, in random order, and as a guest", async (xs) => {
  const s = xs.socket;
  const all = await tool(s, joinPosix(XENBIN, "test-xenstore"));
  assert.equal((all.match(/ ns$/gm) ?? []).length, 12, all);
  assert.doesNotMatch(all, /failed/);
  const random = await tool(s, joinPosix(XENBIN, "test-xenstore"), "-r", "2");
  assert.doesNotMatch(random, /failed/);
  const guest = await xs.guest(5);
  const asGuest = await tool(guest, joinPosix(XENBIN, "test-xenstore"));
  assert.equal((asGuest.match(/ ns$/gm) ?? []).length, 12, asGuest);
  assert.doesNotMatch(asGuest, /failed/);
});

realClientTest("a guest through its per-domain socket is unprivileged", async (xs) => {
  const guest = await xs.guest(6);
  await tool(guest, "xenstore-write", "data", "1");
  assert.equal(await tool(xs.socket, "xenstore-read", "/local/domain/6/data"), "1\n");
  assert.match(await tool(xs.socket, "xenstore-ls", "-p", "/local/domain/6"), /\(n6,r0\)/);
  await assert.rejects(tool(guest, "xenstore-write", "/evil", "1"));
  await assert.rejects(tool(guest, "xenstore-read", "/local/domain/0/name"));
});

realClientTest("python3-pyxs passes its checks", async (xs) => {
  const out = await tool(xs.socket, "python3", joinPosix(REFXS_DIR, "pyxs_check.py"), xs.socket);
  assert.match(out, /conflicting commit returns False/);
  assert.match(out, /PYXS OK/);
});
