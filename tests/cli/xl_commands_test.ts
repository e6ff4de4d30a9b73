/**
 * xl's commands through the real entry point (a `dxl` subprocess) against the embedded, C
 * and OCaml xenstored: golden output (text and --json), what block-attach writes against
 * real xl's capture, and bad input (one line, exit 2).
 */

import assert from "node:assert/strict";
import { forEachServer } from "../_helpers/servers.ts";
import { tempHome } from "./_run.ts";
import { XL_GOLDEN, xlWorld } from "./xl_world.ts";

const UPDATE = Deno.env.get("UPDATE_GOLDEN") === "1";

async function golden(name: string, actual: string): Promise<void> {
  const file = XL_GOLDEN + name;
  if (UPDATE) {
    await Deno.mkdir(XL_GOLDEN, { recursive: true });
    await Deno.writeTextFile(file, actual);
  }
  assert.equal(actual, await Deno.readTextFile(file), file);
}

forEachServer("dxl list and devices print the golden text and JSON", async (t, server) => {
  await using home = await tempHome();
  await using w = await xlWorld(server, home.path);
  const web = await w.domain("web");
  await w.domain("db");
  for (
    const args of [
      ["block-attach", "web", "phy:/dev/vg0/web,xvda,w"],
      ["block-attach", "web", "/srv/xen/data.qcow2,qcow2,xvdb,r"],
      ["network-attach", "web", "mac=00:16:3e:aa:bb:cc", "bridge=xenbr1", "rate=10Mb/s"],
    ]
  ) {
    const run = await w.dxl(...args);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "", "xl prints nothing on success");
  }
  await w.settled(web);
  const cases: [string, string[]][] = [
    ["list.txt", ["list"]],
    ["list.json", ["list", "--json"]],
    ["list_one.txt", ["list", "db"]],
    ["devices.txt", ["devices", "web"]],
    ["devices.json", ["devices", String(web), "--json"]],
  ];
  for (const [file, args] of cases) {
    await t.step(`dxl ${args.join(" ")}`, async () => {
      const run = await w.dxl(...args);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, `dxl: xenstore ${server.socket} (--xenstore)\n`);
      await golden(file, run.stdout);
    });
  }
});

forEachServer(
  "dxl block-attach d phy:/dev/vg0/x,xvdb,w writes what real xl's block-attach wrote for its device",
  async (_t, server) => {
    await using home = await tempHome();
    await using w = await xlWorld(server, home.path);
    const d = await w.domain("guest1");
    assert.equal(d, 1, "the capture's guest is domain 1");
    const run = await w.dxl("block-attach", "guest1", "phy:/dev/vg0/x,xvdb,w");
    assert.equal(run.code, 0, run.stderr);
    const captured = await Deno.readTextFile(
      new URL("../../../shared/golden/block-attach-phy.tree", import.meta.url),
    ).catch(() => undefined);
    if (captured === undefined) {
      // deno-lint-ignore no-console
      console.warn("SKIPPED the comparison with ../shared/golden: not present here");
      return;
    }
    // What libxl writes: the three directories of the device, less what the backend and
    // hotplug stand-ins wrote (state changes, physical-device*, hotplug-status).
    const dirs = [
      "/local/domain/1/device/vbd/51728",
      "/local/domain/0/backend/vbd/1/51728",
      "/libxl/1/device/vbd/51728",
    ];
    const notOurs = ["state", "physical-device", "physical-device-path", "hotplug-status"];
    const ours = (line: string) => {
      const path = line.slice(0, line.indexOf(" = "));
      if (!dirs.some((dir) => path === dir || path.startsWith(`${dir}/`))) return false;
      return !(path.startsWith(dirs[1]!) &&
        notOurs.includes(path.slice(path.lastIndexOf("/") + 1)));
    };
    const expected = captured.split("\n").filter(ours)
      .map((l) => l.replace('"/dev/loop0"', '"/dev/vg0/x"'));
    const actual = (await w.tree()).split("\n").filter(ours);
    assert.ok(expected.length >= 30, `the capture has the device (${expected.length} lines)`);
    assert.deepEqual(actual.sort(), expected.sort());
  },
);

forEachServer("bad input gets one clear line and exit 2", async (t, server) => {
  await using home = await tempHome();
  await using w = await xlWorld(server, home.path);
  await w.domain("web");
  const cases: [string[], RegExp][] = [
    [["devices", "nosuch"], /^dxl: No domain "nosuch": no \/libxl record has that name$/],
    [
      ["block-attach", "77", "phy:/dev/vg0/x,xvdb,w"],
      /^dxl: No domain 77: \/libxl\/77 does not exist$/,
    ],
    [
      ["block-attach", "web", "phy:/dev/vg0/x,xvdb,rw!"],
      /^dxl: Invalid disk spec "phy:\/dev\/vg0\/x,xvdb,rw!": .* near "rw!"$/,
    ],
    [["block-attach", "web", "phy:/dev/vg0/x,nodisk,w"], /nodisk/],
    [["network-attach", "web", "colour=blue"], /^dxl: Invalid nic setting "colour=blue"/],
    [
      ["network-attach", "web", "rate=fast"],
      /^dxl: Invalid vif field "rate": Invalid rate "fast": invalid rate near "fast"$/,
    ],
    [["network-detach", "web", "00:16:3e:00:00:99"], /^dxl: Unknown device "00:16:3e:00:00:99"/],
    [["block-detach", "web", "xvdq"], /^dxl: Device "xvdq" is not attached to domain web$/],
    [["block-attach", "web"], /missing required argument/],
    [["list", "--colour"], /unknown option '--colour'/],
  ];
  for (const [args, message] of cases) {
    await t.step(`dxl ${args.join(" ")}`, async () => {
      const run = await w.dxl("--quiet", ...args);
      assert.equal(run.code, 2, run.stderr);
      assert.equal(run.stdout, "");
      const lines = run.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0]!, message);
    });
  }
  // Nothing was written by the refused commands.
  assert.deepEqual(await w.xs.directory("/libxl/1/device"), ["console"]);
});

forEachServer("the changing commands' --json output is golden", async (t, server) => {
  await using home = await tempHome();
  await using w = await xlWorld(server, home.path);
  await w.domain("web");
  const cases: [string, string[]][] = [
    ["block_attach.json", ["block-attach", "web", "phy:/dev/vg0/x,xvdb,w", "--json"]],
    ["network_attach.json", ["network-attach", "web", "mac=00:16:3e:aa:bb:cc", "--json"]],
    ["block_detach.json", ["block-detach", "web", "xvdb", "--json"]],
    ["network_detach.json", ["network-detach", "web", "0", "--json"]],
    ["rename.json", ["rename", "web", "www", "--json"]],
  ];
  for (const [file, args] of cases) {
    await t.step(`dxl ${args.join(" ")}`, async () => {
      const run = await w.dxl(...args);
      assert.equal(run.code, 0, run.stderr);
      await golden(file, run.stdout);
    });
  }
});
