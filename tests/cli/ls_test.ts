/**
 * `dxl ls` (and the one tree printer, lib/libxl/tree.ts) print exactly what the real
 * `xenstore-ls` prints, byte for byte, on a tree holding every byte value 0x00-0xff: against
 * the embedded, C and OCaml xenstored, compared with the real tool on the same server when
 * `../shared/refxs` is set up, and always with its captured output in tests/testdata/cli/.
 */

import assert from "node:assert/strict";
import { connect, type XenstoreClient } from "../../lib/client/mod.ts";
import { formatTree } from "../../lib/libxl/tree.ts";
import { forEachServer } from "../_helpers/servers.ts";
import { fromFileUrl } from "../_helpers/paths.ts";
import { realTool, runDxl, tempHome } from "./_run.ts";

const GOLDEN = fromFileUrl(new URL("../testdata/cli/", import.meta.url));
const UPDATE = Deno.env.get("UPDATE_GOLDEN") === "1";

/** Every byte value, alone and together; a long value; nesting; a second permission entry. */
async function layOut(xs: XenstoreClient): Promise<void> {
  await xs.write("/bytes/all", Uint8Array.from({ length: 256 }, (_, i) => i));
  for (let b = 0; b < 256; b++) {
    await xs.write(`/bytes/b${String(b).padStart(3, "0")}`, new Uint8Array([b]));
  }
  await xs.mkdir("/bytes/deep/a/b/c");
  await xs.write("/bytes/long", "v".repeat(200));
  await xs.write(`/bytes/n${"x".repeat(90)}`, "name longer than the line");
  await xs.write("/bytes/perm", "p");
  await xs.setPerms("/bytes/perm", "n0 r0");
}

async function golden(name: string, actual: Uint8Array): Promise<void> {
  const file = GOLDEN + name;
  if (UPDATE) await Deno.writeFile(file, actual);
  const expected = await Deno.readFile(file);
  assert.equal(new TextDecoder().decode(actual), new TextDecoder().decode(expected), file);
}

const FORMS: readonly { flags: string[]; real: string[]; file: string }[] = [
  { flags: [], real: ["-f", "-p"], file: "ls_bytes.txt" },
  { flags: ["--tree"], real: ["-p"], file: "ls_bytes_tree.txt" },
  { flags: ["--no-perms"], real: ["-f"], file: "ls_bytes_noperms.txt" },
  { flags: ["--tree", "--no-perms"], real: [], file: "ls_bytes_tree_noperms.txt" },
];

forEachServer("dxl ls prints what xenstore-ls prints, every byte value", async (t, server) => {
  {
    await using xs = await connect({ path: server.socket });
    await layOut(xs);
  }
  await using home = await tempHome();
  for (const form of FORMS) {
    await t.step(
      `dxl ls ${form.flags.join(" ")} = xenstore-ls ${form.real.join(" ")}`,
      async () => {
        const run = await runDxl(["--xenstore", server.socket, "ls", ...form.flags, "/bytes"], {
          stateHome: home.path,
        });
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.stderr, `dxl: xenstore ${server.socket} (--xenstore)\n`);
        const real = await realTool("xenstore-ls", [...form.real, "/bytes"], server.socket);
        if (real !== undefined) {
          assert.equal(run.stdout, new TextDecoder().decode(real));
          assert.deepEqual(run.bytes, real);
        }
        await golden(form.file, run.bytes);
      },
    );
  }
  await t.step("formatTree() = xenstore-ls -f -p, and the root line first", async () => {
    await using xs = await connect({ path: server.socket });
    const children = await formatTree(xs, "/bytes", { root: false });
    await golden("ls_bytes.txt", new TextEncoder().encode(children));
    const withRoot = await formatTree(xs, "/bytes");
    assert.equal(withRoot, '/bytes = ""   (n0)\n' + children);
  });
  await t.step("dxl ls --json lists path, value (base64 when not UTF-8), perms", async () => {
    const run = await runDxl(["-q", "--xenstore", server.socket, "ls", "--json", "/bytes"], {
      stateHome: home.path,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    await golden("ls_bytes.json", run.bytes);
    const nodes = JSON.parse(run.stdout);
    assert.deepEqual(nodes.find((n: { path: string }) => n.path === "/bytes/perm"), {
      path: "/bytes/perm",
      value: "p",
      perms: ["n0", "r0"],
    });
  });
  await t.step("a missing path fails with the server's error, exit 1", async () => {
    const run = await runDxl(["-q", "--xenstore", server.socket, "ls", "/nope"], {
      stateHome: home.path,
    });
    assert.equal(run.code, 1);
    assert.equal(run.stdout, "");
    assert.equal(run.stderr, 'dxl: Cannot DIRECTORY "/nope": ENOENT\n');
  });
});
