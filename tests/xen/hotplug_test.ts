/**
 * runHotplug against every server: the fakexl stand-ins of /etc/xen/scripts/block and
 * vif-bridge (same contract as Debian's scripts; they write through xenstore-write) run
 * from a temp dir, with libxl's arguments and environment.
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { addDevice } from "../../lib/libxl/device_add.ts";
import { removeDevice } from "../../lib/libxl/device_remove.ts";
import { vbd } from "../../lib/libxl/devices/vbd.ts";
import { vif } from "../../lib/libxl/devices/vif.ts";
import { makeDomain } from "../../lib/libxl/domain.ts";
import { DeviceNotFoundError } from "../../lib/libxl/errors.ts";
import { HotplugError } from "../../lib/xen/errors.ts";
import { hotplugCommands, runHotplug } from "../../lib/xen/hotplug.ts";
import { forEachServer, REFXS_DIR } from "../_helpers/servers.ts";
import { joinPosix } from "../_helpers/paths.ts";
import { testHypervisor } from "../libxl/_helpers.ts";
import { exists, mayRun } from "./_prereq.ts";

const STAND_INS = joinPosix(REFXS_DIR, "../fakexl/scripts");
const REFXS_ROOT = joinPosix(Deno.env.get("REFXS_HOME") ?? joinPosix(REFXS_DIR, ".work"), "root");

/** The stand-in scripts copied to a temp dir, and the environment they need. */
async function scripts(socket: string): Promise<
  { dir: string; log: string; env: Record<string, string> } | string
> {
  if (!(await exists(`${STAND_INS}/block`))) return `no stand-in scripts in ${STAND_INS}`;
  const path = `${REFXS_ROOT}/usr/bin:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`;
  const found = await Promise.all(
    path.split(":").map((d) => exists(`${d}/xenstore-write`)),
  );
  if (!found.includes(true)) return "no xenstore-write (xenstore-utils, or refxs setup.sh)";
  const dir = await Deno.makeTempDir({ prefix: "dxl-hotplug-" });
  for (const name of ["block", "vif-bridge", "hotplug-common.sh"]) {
    await Deno.copyFile(`${STAND_INS}/${name}`, `${dir}/${name}`);
    await Deno.chmod(`${dir}/${name}`, 0o755);
  }
  const log = `${dir}/hotplug.log`;
  const libs = `${REFXS_ROOT}/usr/lib/x86_64-linux-gnu`;
  const env = {
    XENSTORED_PATH: socket,
    GOLDEN_HOTPLUG_LOG: log,
    PATH: path,
    LD_LIBRARY_PATH: `${libs}:${Deno.env.get("LD_LIBRARY_PATH") ?? ""}`,
  };
  return { dir, log, env };
}

async function script(dir: string, name: string, body: string): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, `#!/bin/bash\n${body}\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

forEachServer(
  "runHotplug() runs a disk's and a nic's scripts as libxl does",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const s = await scripts(server.socket);
    if (!mayRun("the hotplug script tests", typeof s === "string" ? s : undefined)) return;
    const { dir, log, env } = s as Exclude<typeof s, string>;
    try {
      const { hypervisor } = testHypervisor(server, xs);
      const { domid } = await makeDomain(xs, { hypervisor, name: "hp", maxMemKb: 65536 });
      const image = `${dir}/disk.img`;
      await Deno.writeTextFile(image, "");
      const disk = vbd({ domid, vdev: "xvdb", target: image, script: `${dir}/block` });
      await addDevice(xs, disk);
      const be = `/local/domain/0/backend/vbd/${domid}/51728`;
      const added = await runHotplug(xs, disk, "add", { env });
      assert.equal(added.status, "connected");
      assert.equal(added.error, undefined);
      assert.deepEqual(added.commands.map((c) => c.args), [["add"]]);
      // the stand-in's contract for a regular file: it pretends losetup gave /dev/loop7
      assert.equal(await xs.read(`${be}/node`), "/dev/loop7");
      assert.equal(await xs.read(`${be}/physical-device`), "7:7");
      assert.equal(await xs.read(`${be}/physical-device-path`), "/dev/loop7");

      const nic = vif({ domid, devid: 0, mac: "00:16:3e:aa:bb:cc", script: `${dir}/vif-bridge` });
      await addDevice(xs, nic);
      assert.equal((await runHotplug(xs, nic, "add", { env })).status, "connected");

      await removeDevice(xs, disk, {
        force: "always",
        timeoutMs: 100, // no backend driver here: the wait gives up, the removal goes on
        beforeCleanup: async (record) => {
          const r = await runHotplug(xs, record, "remove", { env });
          assert.equal(r.error, undefined);
        },
      });
      assert.equal(await xs.tryRead(be), undefined);
      assert.deepEqual((await Deno.readTextFile(log)).trim().split("\n"), [
        `block add XENBUS_PATH=backend/vbd/${domid}/51728 XENBUS_TYPE=vbd XENBUS_BASE_PATH=backend script=${dir}/block`,
        `vif-bridge online type_if=vif XENBUS_PATH=backend/vif/${domid}/0 XENBUS_TYPE=vif XENBUS_BASE_PATH=backend script=${dir}/vif-bridge vif=vif${domid}.0`,
        `block remove XENBUS_PATH=backend/vbd/${domid}/51728 XENBUS_TYPE=vbd XENBUS_BASE_PATH=backend script=${dir}/block`,
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

forEachServer(
  "runHotplug() reports a failing script with hotplug-error and its output",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const s = await scripts(server.socket);
    if (!mayRun("the hotplug script tests", typeof s === "string" ? s : undefined)) return;
    const { dir, env } = s as Exclude<typeof s, string>;
    try {
      const { hypervisor } = testHypervisor(server, xs);
      const { domid } = await makeDomain(xs, { hypervisor, name: "hpfail", maxMemKb: 65536 });
      const failing = await script(
        dir,
        "block-fail",
        `xenstore-write "$XENBUS_PATH/hotplug-error" "/dev/vg0/x does not exist." \\
        "$XENBUS_PATH/hotplug-status" error
echo "block: $1 failed" >&2
exit 1`,
      );
      const disk = vbd({ domid, vdev: "xvdc", target: "/dev/vg0/x", script: failing });
      await addDevice(xs, disk);
      await assert.rejects(runHotplug(xs, disk, "add", { env }), (e: unknown) => {
        assert.ok(e instanceof HotplugError);
        assert.equal(e.hotplugError, "/dev/vg0/x does not exist.");
        assert.match(e.message, /\(exit 1\)/);
        assert.match(e.message, /script: \/dev\/vg0\/x does not exist\./);
        assert.match(e.output, /block: add failed/);
        return true;
      });
      // libxl carries on with a removal whose script fails: reported, not thrown
      const removed = await runHotplug(xs, disk, "remove", { env });
      assert.ok(removed.error instanceof HotplugError);
      assert.match(removed.error.output, /block: remove failed/);

      const slow = await script(dir, "block-slow", "exec sleep 30");
      const stuck = vbd({ domid, vdev: "xvdd", target: "/dev/vg0/y", script: slow });
      await addDevice(xs, stuck);
      const started = Date.now();
      await assert.rejects(
        runHotplug(xs, stuck, "add", { env, timeoutMs: 300 }),
        (e: unknown) => e instanceof HotplugError && /timed out after 0\.3 s/.test(e.message),
      );
      assert.ok(Date.now() - started < 10_000, "the script was killed at the timeout");

      const noScript = vbd({ domid, vdev: "xvde", target: "/srv/a.img", backend: "qdisk" });
      await addDevice(xs, noScript);
      assert.deepEqual((await runHotplug(xs, noScript, "add", { env })).commands, []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("hotplugCommands() follows libxl's rules for kinds, driver domains and vif_ioemu", async () => {
  const nodes: Record<string, string> = {
    "/local/domain/0/backend/vif/3/1/script": "/etc/xen/scripts/vif-bridge",
    "/local/domain/0/backend/vif/3/1/type": "vif_ioemu",
    "/local/domain/0/backend/vif/3/1/gatewaydev": "eth0",
  };
  const ops = { tryRead: (p: string) => Promise.resolve(nodes[p]) };
  const nic = {
    domid: 3,
    kind: "vif",
    devid: 1,
    backendDomid: 0,
    backendKind: "vif",
    backendPath: "/local/domain/0/backend/vif/3/1",
  } as const;
  const runs = await hotplugCommands(ops, nic, "remove");
  assert.deepEqual(runs.map((r) => r.args), [["offline", "type_if=vif"], [
    "remove",
    "type_if=tap",
  ]]);
  assert.equal(runs[0]?.env.INTERFACE, "vif3.1-emu");
  assert.equal(runs[0]?.env.netdev, "eth0");
  // a vkbd runs nothing; a vbd without a script node is an error, as in libxl
  assert.deepEqual(
    await hotplugCommands(ops, { ...nic, kind: "vkbd", backendKind: "vkbd" }, "add"),
    [],
  );
  await assert.rejects(
    hotplugCommands(ops, { ...nic, kind: "vbd", backendKind: "vbd", backendPath: "/x/vbd" }, "add"),
    DeviceNotFoundError,
  );
  // a backend in a driver domain: its own toolstack runs the script
  const driver = {
    ...nic,
    backendDomid: 2,
    backendPath: "/local/domain/2/backend/vif/3/1",
    libxlPath: "/libxl/3/device/vif/1",
    frontendPath: "/local/domain/3/device/vif/1",
    keys: {},
  };
  const noStore = { tryRead: () => Promise.reject(new Error("not read")) };
  const result = await runHotplug(noStore as never, driver, "add");
  assert.deepEqual(result.commands, []);
});
