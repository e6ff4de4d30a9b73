/** XenBus state waits and the simulated backend and frontend, against every server. */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { addDevice } from "../../lib/libxl/device_add.ts";
import { removeDevice } from "../../lib/libxl/device_remove.ts";
import { vbd } from "../../lib/libxl/devices/vbd.ts";
import { vif } from "../../lib/libxl/devices/vif.ts";
import { makeDomain } from "../../lib/libxl/domain.ts";
import { XenbusTimeoutError } from "../../lib/libxl/errors.ts";
import { backendPath } from "../../lib/libxl/paths.ts";
import { SimulatedBackend } from "../../lib/libxl/sim_backend.ts";
import { SimulatedFrontend } from "../../lib/libxl/sim_frontend.ts";
import { XenbusState } from "../../lib/libxl/xenbus_state.ts";
import { waitForXenbusState } from "../../lib/libxl/xenbus_wait.ts";
import { forEachServer } from "../_helpers/servers.ts";
import { manualTimer, testHypervisor, until } from "./_helpers.ts";

forEachServer(
  "waitForXenbusState() sees a state already reached and honours an abort",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    await xs.write("/tool/dxl/state", "4");
    assert.equal(
      await waitForXenbusState(xs, "/tool/dxl/state", { state: XenbusState.Connected }),
      4,
    );
    const ac = new AbortController();
    const pending = waitForXenbusState(xs, "/tool/dxl/state", {
      state: XenbusState.Closed,
      signal: ac.signal,
    });
    ac.abort(new Error("operator gave up"));
    await assert.rejects(pending, (e: unknown) => {
      assert.ok(e instanceof XenbusTimeoutError);
      assert.equal((e.cause as Error).message, "operator gave up");
      return true;
    });
    const later = waitForXenbusState(xs, "/tool/dxl/missing/state", { state: XenbusState.Closed });
    await xs.write("/tool/dxl/missing/state", "6");
    assert.equal(await later, 6);
  },
  { kinds: ["embedded", "c"] },
);

forEachServer(
  "SimulatedFrontend on a real guest connection completes the handshake with SimulatedBackend",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const hv = testHypervisor(server, xs);
    const domid =
      (await makeDomain(xs, { hypervisor: hv.hypervisor, name: "fe", maxMemKb: 65536 })).domid;
    await using _backend = await SimulatedBackend.start(xs, { kinds: ["vif"] });
    const nic = await addDevice(xs, vif({ domid, devid: 0 }));
    await using g = await connect({ path: hv.guestSocket(domid) });
    const frontend = await SimulatedFrontend.start(g, { domid, kind: "vif", devid: 0 });
    try {
      const fe = `/local/domain/${domid}/device/vif/0`;
      await waitForXenbusState(xs, `${fe}/state`, { state: XenbusState.Connected });
      assert.equal(await xs.read(`${backendPath(nic)}/state`), "4");
      assert.equal(await xs.read(`${fe}/event-channel`), "9");
      assert.deepEqual(frontend.errors, []);
    } finally {
      await frontend.stop();
    }
    const result = await removeDevice(xs, nic);
    assert.equal(result.closed, true);
    await addDevice(xs, vif({ domid, devid: 1 }));
    await g.write(`/local/domain/${domid}/device/vif/1/backend`, "/local/domain/0/backend/vif/9/1");
    await assert.rejects(
      SimulatedFrontend.start(g, { domid, kind: "vif", devid: 1 }),
      { name: "TypeError", message: /not a backend path for this device/ },
    );
  },
);

forEachServer(
  "SimulatedBackend in a driver domain serves its devices over the domain's own connection",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const hv = testHypervisor(server, xs);
    const driver =
      (await makeDomain(xs, { hypervisor: hv.hypervisor, name: "storage", maxMemKb: 65536 })).domid;
    const domid =
      (await makeDomain(xs, { hypervisor: hv.hypervisor, name: "client", maxMemKb: 65536 })).domid;
    await using d = await connect({ path: hv.guestSocket(driver) });
    await using backend = await SimulatedBackend.start(d, { backendDomid: driver, kinds: ["vbd"] });
    const disk = await addDevice(
      xs,
      vbd({ domid, backendDomid: driver, vdev: "xvdb", target: "/dev/sdb" }),
    );
    await waitForXenbusState(xs, `${backendPath(disk)}/state`, { state: XenbusState.Connected });
    assert.equal(await xs.read(`${backendPath(disk)}/hotplug-status`), "connected");
    assert.deepEqual(await xs.getPerms(backendPath(disk)), [
      { domid: driver, access: "none" },
      { domid, access: "read" },
    ]);
    const result = await removeDevice(xs, disk);
    assert.deepEqual([result.closed, result.forced], [true, false]);
    assert.equal(await xs.exists(`/local/domain/${driver}/backend/vbd`), false);
    assert.equal(await xs.exists(`/local/domain/${domid}/device/vbd`), false);
    assert.deepEqual(backend.errors, []);
  },
);

forEachServer(
  "waitForXenbusState() counts its timeout from the call and reads the node once more at the end",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    await xs.write("/tool/dxl/state", "1");
    const timer = manualTimer();
    let clock = 500;
    const delays: number[] = [];
    const pending = waitForXenbusState(xs, "/tool/dxl/state", {
      state: XenbusState.Closed,
      timeoutMs: 3000,
      device: "vif 0 of domain 7",
      delay: (ms, signal) => (delays.push(ms), timer.delay(ms, signal)),
      now: () => clock,
    });
    assert.deepEqual(delays, [3000], "armed before the first request goes out");
    clock += 3000;
    timer.fire();
    await assert.rejects(pending, (e: unknown) => {
      assert.ok(e instanceof XenbusTimeoutError);
      assert.deepEqual([e.reached, e.waitedMs, e.device], ["1", 3000, "vif 0 of domain 7"]);
      assert.match(e.message, /^vif 0 of domain 7: \/tool\/dxl\/state did not reach/);
      return true;
    });
    const late = manualTimer();
    const reached = waitForXenbusState(xs, "/tool/dxl/state", {
      state: XenbusState.Closed,
      delay: late.delay,
    });
    await xs.write("/tool/dxl/state", "6");
    late.fire();
    assert.equal(await reached, XenbusState.Closed, "a state reached by the deadline counts");
  },
  { kinds: ["embedded", "c"] },
);

forEachServer(
  "SimulatedFrontend told to answer late holds the handshake until its delay ends",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const hv = testHypervisor(server, xs);
    const { domid } = await makeDomain(xs, {
      hypervisor: hv.hypervisor,
      name: "slow",
      maxMemKb: 65536,
    });
    await using _backend = await SimulatedBackend.start(xs, { kinds: ["vif"] });
    const nic = await addDevice(xs, vif({ domid, devid: 0 }));
    await waitForXenbusState(xs, `${backendPath(nic)}/state`, { state: XenbusState.Connected });
    await using g = await connect({ path: hv.guestSocket(domid) });
    const gate = manualTimer();
    const fe = `/local/domain/${domid}/device/vif/0`;
    await using _frontend = await SimulatedFrontend.start(g, { domid, kind: "vif", devid: 0 }, {
      behaviour: "late",
      delay: gate.delay,
    });
    await until(() => gate.waiting > 0, "the frontend to see the backend");
    assert.equal(await xs.read(`${fe}/state`), "1", "no answer while the delay runs");
    let connected = false;
    const done = waitForXenbusState(xs, `${fe}/state`, { state: XenbusState.Connected })
      .then(() => connected = true);
    await until(() => (gate.fire(), connected), "the late frontend to connect");
    await done;
    assert.equal(await xs.read(`${fe}/event-channel`), "9");
  },
);
