import assert from "node:assert/strict";
import { startXenstored } from "../../lib/xenstored/mod.ts";
import { RawConn } from "./_raw.ts";

async function dumpTree(socket: string): Promise<string[]> {
  const conn = await RawConn.open(socket);
  const out: string[] = [];
  const walk = async (path: string) => {
    const v = await conn.request(2, `${path}\0`);
    const p = await conn.request(3, `${path}\0`);
    const d = await conn.request(1, `${path}\0`);
    out.push(`${path}=${JSON.stringify(v.body)} ${JSON.stringify(p.body)} [${d.body}]`);
    for (const name of d.body.split("\0").filter((n) => n !== "")) {
      await walk(path === "/" ? `/${name}` : `${path}/${name}`);
    }
  };
  await walk("/");
  await conn.close();
  return out;
}

Deno.test("state: the tree survives a restart with values, permissions and child order", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dxl-state-", dir: "/tmp" });
  const state = `${dir}/xs.sqlite`;
  try {
    let before: string[];
    {
      await using xs = await startXenstored({ dir, state });
      const c = await RawConn.open(xs.socket);
      for (const [p, v] of [["/s/b", "1"], ["/s/a", "2"], ["/s/c", "\x00\xff"], ["/s/d/e", ""]]) {
        await c.request(11, `${p}\0${v}`);
      }
      await c.request(14, "/s/a\0n0\0r3\0");
      await c.request(13, "/s/b\0");
      await c.request(11, "/s/b\0again");
      const tx = Number((await c.request(6, "\0")).body.slice(0, -1));
      await c.request(13, "/s/a\0", tx);
      await c.request(11, "/s/a\0back", tx);
      await c.request(11, "/s/t/x\0in tx", tx);
      await c.request(7, "T\0", tx);
      const open = Number((await c.request(6, "\0")).body.slice(0, -1));
      await c.request(11, "/s/never\0x", open);
      await c.close();
      before = await dumpTree(xs.socket);
    }
    assert.ok(
      before.some((l) => l.startsWith("/s=") && l.endsWith("[c\0d\0b\0a\0t\0]")),
      before.join("\n"),
    );
    await using again = await startXenstored({ dir, state });
    assert.deepEqual(await dumpTree(again.socket), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("state: kill -9 loses nothing acknowledged and no half transaction shows", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dxl-state9-", dir: "/tmp" });
  const state = `${dir}/xs.sqlite`;
  const serve = new URL("../../scripts/serve.ts", import.meta.url).pathname;
  const spawn = () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", serve, "--dir", dir, "--state", state],
      stdout: "piped",
      stderr: "null",
    }).spawn();
  try {
    const child = spawn();
    const reader = child.stdout.getReader();
    const socket = new TextDecoder().decode((await reader.read()).value).trim();
    reader.releaseLock();
    const c = await RawConn.open(socket);
    for (let i = 0; i < 100; i++) await c.request(11, `/k/n${i}\0v${i}`);
    const tx = Number((await c.request(6, "\0")).body.slice(0, -1));
    await c.request(11, "/k/tx1\0a", tx);
    await c.request(11, "/k/tx2\0b", tx);
    await c.request(7, "T\0", tx);
    const open = Number((await c.request(6, "\0")).body.slice(0, -1));
    await c.request(11, "/k/half\0x", open);
    child.kill("SIGKILL");
    await child.status;
    await child.stdout.cancel();
    await c.close();
    await using xs = await startXenstored({ dir: `${dir}/again`, state });
    const r = await RawConn.open(xs.socket);
    const names = (await r.request(1, "/k\0")).body.split("\0").filter((n) => n !== "");
    assert.equal(names.length, 102);
    assert.equal((await r.request(2, "/k/n99\0")).body, "v99");
    assert.equal((await r.request(2, "/k/tx2\0")).body, "b");
    assert.equal((await r.request(2, "/k/half\0")).body, "ENOENT\0");
    await r.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("state: a guest's memory charge is the same after a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dxl-state-", dir: "/tmp" });
  const state = `${dir}/xs.sqlite`;
  const memory = async (socket: string) => {
    const c = await RawConn.open(socket);
    const text = (await c.request(0, "quota\x005\0")).body;
    await c.close();
    return Number(/memory\s*:\s*(\d+)/.exec(text)?.[1]);
  };
  try {
    let before: number;
    {
      await using xs = await startXenstored({ dir, state });
      const c = await RawConn.open(xs.socket);
      assert.equal((await c.request(8, "5\x00123\x001\0")).body, "OK\0");
      await c.request(11, "/local/domain/5/v\0hello");
      assert.equal((await c.request(14, "/local/domain/5/v\0n5\0")).body, "OK\0");
      await c.close();
      before = await memory(xs.socket);
    }
    // "/local/domain/5/v" (17) + 24 + 8 (one permission) + "hello" (5)
    assert.equal(before, 54);
    await using again = await startXenstored({ dir, state });
    assert.equal(await memory(again.socket), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
