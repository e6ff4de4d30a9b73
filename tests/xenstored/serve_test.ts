import assert from "node:assert/strict";
import { RawConn } from "./_raw.ts";

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`serve.ts prints its socket, initialises dom0, and removes the socket on ${signal}`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "dxl-serve-", dir: "/tmp" });
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../../scripts/serve.ts", import.meta.url).pathname,
        "--dir",
        dir,
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      const reader = child.stdout.getReader();
      const { value } = await reader.read();
      reader.releaseLock();
      const socket = new TextDecoder().decode(value).trim();
      assert.equal(socket, `${dir}/socket`);
      const conn = await RawConn.open(socket);
      assert.equal((await conn.request(2, "/local/domain/0/name\0")).body, "Domain-0");
      assert.equal((await conn.request(2, "/local/domain/0/domid\0")).body, "0");
      await conn.close();
      child.kill(signal);
      const status = await child.status;
      assert.equal(status.success, true);
      await assert.rejects(Deno.stat(socket), Deno.errors.NotFound);
    } finally {
      await child.stdout.cancel().catch(() => {});
      await child.stderr.cancel();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
