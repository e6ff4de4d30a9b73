/** Device add, list, next id, remove and destroy against every server. */

import assert from "node:assert/strict";
import { connect, type XenstoreClient } from "../../lib/client/mod.ts";
import {
  addDevice,
  deviceExists,
  nextDeviceId,
  waitForBackend,
} from "../../lib/libxl/device_add.ts";
import { formatTree } from "../../lib/libxl/tree.ts";
import { listDevices } from "../../lib/libxl/device_list.ts";
import { destroyDevice, removeDevice } from "../../lib/libxl/device_remove.ts";
import { vbd } from "../../lib/libxl/devices/vbd.ts";
import { vif } from "../../lib/libxl/devices/vif.ts";
import { vusb } from "../../lib/libxl/devices/vusb.ts";
import { makeDomain } from "../../lib/libxl/domain.ts";
import {
  DeviceExistsError,
  DeviceNotFoundError,
  XenbusTimeoutError,
} from "../../lib/libxl/errors.ts";
import { backendPath } from "../../lib/libxl/paths.ts";
import { type BackendBehaviour, SimulatedBackend } from "../../lib/libxl/sim_backend.ts";
import { XenbusState } from "../../lib/libxl/xenbus_state.ts";
import { waitForXenbusState } from "../../lib/libxl/xenbus_wait.ts";
import { forEachServer, type TestServer } from "../_helpers/servers.ts";
import { lastTransaction, manualTimer, recording, testHypervisor, until } from "./_helpers.ts";

async function guest(xs: XenstoreClient, server: TestServer, name = "g1"): Promise<number> {
  const { hypervisor } = testHypervisor(server, xs);
  return (await makeDomain(xs, { hypervisor, name, maxMemKb: 65536 })).domid;
}

forEachServer(
  "listDevices() and nextDeviceId() read the /libxl records only",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const domid = await guest(xs, server);
    assert.equal(await nextDeviceId(xs, { domid, kind: "vif" }), 0);
    await addDevice(xs, vif({ domid, devid: 5, mac: "00:16:3e:00:00:05" }));
    await addDevice(xs, vif({ domid, devid: 1, mac: "00:16:3e:00:00:01" }));
    assert.equal(await nextDeviceId(xs, { domid, kind: "vif" }), 6, "max + 1, not last + 1");
    const added = await addDevice(xs, {
      domid,
      kind: "vif",
      build: (devid) => vif({ domid, devid }),
    });
    assert.equal(added.devid, 6);
    await addDevice(xs, vbd({ domid, vdev: "xvda", target: "/dev/loop0" }));
    await xs.write(`/local/domain/${domid}/image/device-model-pid`, "4242"); // QEMU is running
    await addDevice(xs, vusb({ domid, devid: 0, type: "devicemodel" }));
    const list = await listDevices(xs, domid);
    assert.deepEqual(
      list.map((d) => `${d.kind}/${d.devid}@${d.backendKind}`).sort(),
      ["console/0@console", "vbd/51712@vbd", "vif/1@vif", "vif/5@vif", "vif/6@vif", "vusb/0@none"],
    );
    const disk = list.find((d) => d.kind === "vbd")!;
    assert.equal(disk.backendPath, "/local/domain/0/backend/vbd/1/51712");
    assert.equal(disk.keys.params, "/dev/loop0");
    assert.equal((await listDevices(xs, domid, { kind: "vif" })).length, 3);
    assert.equal(await deviceExists(xs, { domid, kind: "vbd", devid: 51712 }), true);
    assert.equal(await deviceExists(xs, { domid, kind: "vbd", devid: 51728 }), false);
    await assert.rejects(
      addDevice(xs, vif({ domid, devid: 1 })),
      (e: unknown) => e instanceof DeviceExistsError && e.path === `/libxl/${domid}/device/vif/1`,
    );
  },
);

forEachServer(
  "removeDevice() closes the backend, then removes every path and emptied parent",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const domid = await guest(xs, server);
    await using _backend = await SimulatedBackend.start(xs, { kinds: ["vbd", "vif"] });
    const disk = await addDevice(xs, vbd({ domid, vdev: "xvda", target: "/dev/loop0" }));
    await addDevice(xs, vif({ domid, devid: 0 }));
    await waitForXenbusState(xs, `${backendPath(disk)}/state`, { state: XenbusState.Connected });
    const rec = recording(xs);
    const result = await removeDevice(rec.store, disk);
    assert.deepEqual([result.closed, result.forced], [true, false]);
    const lines = rec.log.map((e) => e.line);
    const close = lines.indexOf(`WRITE | ${backendPath(disk)}/online | 0`);
    assert.ok(close > 0, "online=0 was written");
    assert.equal(lines[close - 1], `READ | ${backendPath(disk)}/state`);
    assert.equal(lines[close + 1], `WRITE | ${backendPath(disk)}/state | 5`);
    for (
      const gone of [
        `/local/domain/${domid}/device/vbd`,
        `/libxl/${domid}/device/vbd`,
        `/local/domain/0/backend/vbd`,
      ]
    ) {
      assert.equal(await xs.exists(gone), false, `${gone} should be gone`);
    }
    for (
      const kept of [
        `/local/domain/${domid}/device/vif/0`,
        `/libxl/${domid}/device`,
        "/local/domain/0/backend/vif",
      ]
    ) {
      assert.equal(await xs.exists(kept), true, `${kept} should stay`);
    }
    await assert.rejects(removeDevice(xs, disk), DeviceNotFoundError);
  },
);

async function silentSetup(server: TestServer, behaviour: BackendBehaviour) {
  const xs = await connect({ path: server.socket });
  const domid = await guest(xs, server);
  const disk = await addDevice(xs, vbd({ domid, vdev: "xvda", target: "/dev/loop0" }));
  const backend = await SimulatedBackend.start(xs, { kinds: ["vbd"], behaviour });
  return { xs, domid, disk, backend };
}

forEachServer(
  "removeDevice() against a backend that never answers times out with a clear error",
  async (_t, server) => {
    const { xs, domid, disk, backend } = await silentSetup(server, "silent");
    try {
      const timer = manualTimer();
      let clock = 1000;
      const pending = removeDevice(xs, disk, {
        force: "never",
        timeoutMs: 10_000,
        delay: timer.delay,
        now: () => clock,
      });
      await until(() => timer.waiting > 0, "the timeout to be armed");
      clock += 10_000;
      timer.fire();
      await assert.rejects(pending, (e: unknown) => {
        assert.ok(e instanceof XenbusTimeoutError);
        assert.equal(e.path, `${backendPath(disk)}/state`);
        assert.equal(e.reached, "5");
        assert.equal(e.waitedMs, 10_000);
        assert.equal(e.device, `vbd 51712 of domain ${domid}`);
        assert.equal(
          e.message,
          `vbd 51712 of domain ${domid}: ${backendPath(disk)}/state did not reach ` +
            `XenbusState 6 (Closed) after 10000 ms: state is "5"`,
        );
        return true;
      });
      assert.equal(await xs.read(`${backendPath(disk)}/online`), "0");
      assert.equal(
        await xs.exists(`/local/domain/${domid}/device/vbd/51712`),
        true,
        "safe mode forces nothing",
      );
      assert.equal(await xs.exists(`/libxl/${domid}/device/vbd/51712`), true);

      const auto = manualTimer();
      const forced = removeDevice(xs, disk, { delay: auto.delay });
      await until(() => auto.waiting > 0, "the timeout to be armed");
      auto.fire();
      await until(() => auto.waiting > 0, "the second wait, with force on");
      assert.equal(
        await xs.exists(`/local/domain/${domid}/device/vbd/51712`),
        false,
        "auto mode removes the frontend, then waits once more as libxl does",
      );
      assert.equal(await xs.exists(`/libxl/${domid}/device/vbd/51712`), true);
      auto.fire();
      assert.deepEqual(
        [(await forced).closed, (await forced).forced],
        [false, true],
      );
      for (
        const gone of [
          backendPath(disk),
          `/local/domain/${domid}/device/vbd`,
          `/libxl/${domid}/device/vbd`,
        ]
      ) {
        assert.equal(await xs.exists(gone), false, `${gone} should be gone`);
      }
    } finally {
      await backend.stop();
      await xs.close();
    }
  },
);

forEachServer(
  "destroyDevice() removes the frontend with online=0/state=5, then cleans up after a crashed backend",
  async (_t, server) => {
    const { xs, domid, disk, backend } = await silentSetup(server, "crash");
    try {
      await waitForXenbusState(xs, `${backendPath(disk)}/state`, { state: XenbusState.Connected });
      const timer = manualTimer();
      const rec = recording(xs);
      const pending = destroyDevice(rec.store, disk, { delay: timer.delay });
      await until(() => timer.waiting > 0, "the timeout to be armed");
      assert.equal(
        await xs.exists(`/local/domain/${domid}/device/vbd/51712`),
        false,
        "frontend removed first",
      );
      assert.equal(await xs.read(`${backendPath(disk)}/state`), "5");
      timer.fire();
      const result = await pending;
      assert.deepEqual([result.closed, result.forced], [false, true]);
      assert.equal(backend.crashed, true);
      const lines = rec.log.map((e) => e.line);
      const rmFrontend = lines.indexOf(`RM | /local/domain/${domid}/device/vbd/51712`);
      const online = lines.indexOf(`WRITE | ${backendPath(disk)}/online | 0`);
      assert.ok(
        rmFrontend >= 0 && rmFrontend < online,
        "frontend removed in the closing transaction",
      );
      const cleanup = lastTransaction(rec.log).filter((l) => l.startsWith("RM "));
      assert.deepEqual(cleanup, [
        `RM | /local/domain/${domid}/device/vbd/51712`,
        `RM | /libxl/${domid}/device/vbd/51712`,
        `RM | /libxl/${domid}/device/vbd`,
        `RM | ${backendPath(disk)}`,
        `RM | /local/domain/0/backend/vbd/${domid}`,
        `RM | /local/domain/0/backend/vbd`,
      ], "golden §6.9 order: frontend (already gone), /libxl record, backend, emptied parents");
      assert.equal(await xs.exists(backendPath(disk)), false);
      assert.equal(await xs.exists(`/libxl/${domid}/device/vbd`), false);
    } finally {
      await backend.stop();
      await xs.close();
    }
  },
);

forEachServer("removeDevice() waits for a backend that answers late", async (_t, server) => {
  await using xs = await connect({ path: server.socket });
  const domid = await guest(xs, server);
  const gate = manualTimer();
  let slow = false;
  await using _backend = await SimulatedBackend.start(xs, {
    kinds: ["vif"],
    behaviour: "late",
    delay: (ms, signal) => slow ? gate.delay(ms, signal) : Promise.resolve(),
  });
  const nic = await addDevice(xs, vif({ domid, devid: 0 }));
  await waitForXenbusState(xs, `${backendPath(nic)}/state`, { state: XenbusState.Connected });
  slow = true;
  const pending = removeDevice(xs, nic, { timeoutMs: 60_000 });
  await until(() => gate.waiting > 0, "the backend to see Closing");
  assert.equal(await xs.read(`${backendPath(nic)}/state`), "5");
  gate.fire();
  const result = await pending;
  assert.deepEqual([result.closed, result.forced], [true, false]);
  assert.equal(await xs.exists(backendPath(nic)), false);
});

forEachServer(
  "addDevice() joins the caller's transaction: an aborted transaction leaves nothing",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const domid = await guest(xs, server);
    const before = await formatTree(xs, "/");
    await assert.rejects(
      xs.transaction(async (tx) => {
        await addDevice(tx, vif({ domid, devid: 0 }));
        await addDevice(tx, vbd({ domid, vdev: "xvda", target: "/dev/loop0" }));
        assert.equal(await deviceExists(tx, { domid, kind: "vif", devid: 0 }), true);
        throw new Error("caller changed its mind");
      }),
      /caller changed its mind/,
    );
    assert.equal(await formatTree(xs, "/"), before);
    await xs.transaction(async (tx) => {
      await addDevice(tx, vif({ domid, devid: 0 }));
      await addDevice(tx, { domid, kind: "vif", build: (devid) => vif({ domid, devid }) });
    });
    assert.deepEqual((await listDevices(xs, domid, { kind: "vif" })).map((d) => d.devid), [0, 1]);
  },
);

forEachServer(
  "waitForBackend() waits for InitWait as libxl does, and not at all for QEMU backends",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const domid = await guest(xs, server);
    const qdisk = await addDevice(
      xs,
      vbd({ domid, vdev: "xvdb", target: "/srv/b", backend: "qdisk" }),
    );
    assert.equal(await waitForBackend(xs, qdisk), undefined);
    const disk = await addDevice(xs, vbd({ domid, vdev: "xvda", target: "/dev/loop0" }));
    const timer = manualTimer();
    const pending = waitForBackend(xs, disk, { delay: timer.delay });
    await until(() => timer.waiting > 0, "the timeout to be armed");
    timer.fire();
    await assert.rejects(pending, XenbusTimeoutError);
    await using _backend = await SimulatedBackend.start(xs, { kinds: ["vbd"] });
    const state = await waitForBackend(xs, disk);
    assert.ok(state !== undefined && state >= XenbusState.InitWait, `state ${state}`);
  },
);

forEachServer(
  "removing a domain's last device removes its emptied parents as libxl does",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    const { domid } = await makeDomain(xs, {
      hypervisor,
      name: "bare",
      maxMemKb: 65536,
      console: false,
    });
    await xs.write("/local/domain/0/name", "Domain-0"); // as xencommons writes it on a host
    await using _backend = await SimulatedBackend.start(xs, { kinds: ["vif"] });
    const nic = await addDevice(xs, vif({ domid, devid: 0 }));
    await removeDevice(xs, nic);
    assert.equal(await xs.exists(`/libxl/${domid}/device`), false, "/libxl/<domid>/device emptied");
    assert.equal(await xs.read(`/libxl/${domid}/type`), "pv", "/libxl/<domid> kept");
    assert.equal(await xs.exists(`/local/domain/${domid}/device/vif`), false);
    assert.equal(await xs.exists(`/local/domain/${domid}/device/suspend/event-channel`), true);
    assert.equal(await xs.exists("/local/domain/0/backend/vif"), false);
    assert.equal(
      await xs.exists("/local/domain/0/backend"),
      false,
      "libxl__xs_path_cleanup climbs on: the emptied backend directory goes too",
    );
    assert.equal(await xs.read("/local/domain/0/name"), "Domain-0", "a non-empty parent stays");
  },
  { kinds: ["embedded", "c"] },
);

forEachServer(
  "removeDevice() removes a console by cleanup alone, without waiting for xenconsoled",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const domid = await guest(xs, server);
    let waits = 0;
    const result = await removeDevice(xs, { domid, kind: "console", devid: 0 }, {
      delay: () => (waits++, Promise.resolve()),
      force: "never",
    });
    assert.equal(waits, 0, "no handshake was waited for");
    assert.deepEqual([result.closed, result.forced], [false, true]);
    for (
      const gone of [
        `/local/domain/${domid}/console`,
        `/libxl/${domid}/device/console`,
        `/local/domain/0/backend/console/${domid}`,
      ]
    ) {
      assert.equal(await xs.exists(gone), false, `${gone} should be gone`);
    }
  },
);
