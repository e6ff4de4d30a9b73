/**
 * `scripts/demo_tree.ts` prints exactly what the real `xenstore-ls -p` prints, on every
 * server (the tool is the one from Debian's xenstore-utils that refxs extracted).
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { formatTree, sanitiseValue } from "../../scripts/demo_tree.ts";
import { forEachServer, REFXS_DIR } from "../_helpers/servers.ts";

const home = Deno.env.get("REFXS_HOME") ?? `${REFXS_DIR}/.work`;

async function xenstoreLs(socket: string, path: string): Promise<string> {
  const root = `${home}/root`;
  const out = await new Deno.Command(`${root}/usr/bin/xenstore-ls`, {
    args: ["-p", path],
    env: {
      XENSTORED_PATH: socket,
      LD_LIBRARY_PATH: `${root}/usr/lib/x86_64-linux-gnu:${root}/usr/lib/xen-4.17/lib`,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

Deno.test("sanitiseValue() escapes like xenstore-ls", { permissions: "none" }, () => {
  const bytes = new Uint8Array([65, 0, 1, 9, 10, 13, 92, 127, 200, 34]);
  assert.equal(sanitiseValue(bytes), 'A\\000\\001\\t\\n\\r\\\\\\x7f\\xc8"');
});

forEachServer("formatTree() matches xenstore-ls -p line for line", async (_t, server) => {
  await using xs = await connect({ path: server.socket });
  await xs.write("/demo/bin", new Uint8Array([65, 0, 1, 9, 10, 13, 92, 127, 200, 34, 66]));
  await xs.write("/demo/long", "x".repeat(100));
  await xs.write("/demo/edge", "e".repeat(63));
  await xs.write("/demo/nested/deeper/leaf", "v");
  await xs.write(`/demo/${"n".repeat(75)}`, "name too long");
  await xs.setPerms("/demo/nested", "n0,r3,w4,b5");
  for (const path of ["/", "/demo"]) {
    const lines: string[] = [];
    for await (const line of formatTree(xs, path)) lines.push(line);
    const expected = await xenstoreLs(server.socket, path);
    assert.equal(lines.map((l) => `${l}\n`).join(""), expected);
  }
});
