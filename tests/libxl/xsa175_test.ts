/**
 * XSA-175/178: a guest owns its frontends and a driver domain its backends; whatever they
 * write there, the toolstack lists, removes and destroys exactly the devices it created.
 * The hostile writes go through a real unprivileged guest connection.
 */

import assert from "node:assert/strict";
import { connect, type XenstoreClient } from "../../lib/client/mod.ts";
import { addDevice } from "../../lib/libxl/device_add.ts";
import { listDevices } from "../../lib/libxl/device_list.ts";
import { removeDevice } from "../../lib/libxl/device_remove.ts";
import { vbd } from "../../lib/libxl/devices/vbd.ts";
import { vif } from "../../lib/libxl/devices/vif.ts";
import { makeDomain } from "../../lib/libxl/domain.ts";
import { destroyDomain } from "../../lib/libxl/domain_destroy.ts";
import { backendPath } from "../../lib/libxl/paths.ts";
import { SimulatedBackend } from "../../lib/libxl/sim_backend.ts";
import { isErrno } from "../../lib/libxl/store.ts";
import { formatTree } from "../../lib/libxl/tree.ts";
import { XenbusState } from "../../lib/libxl/xenbus_state.ts";
import { waitForXenbusState } from "../../lib/libxl/xenbus_wait.ts";
import { forEachServer, type TestServer } from "../_helpers/servers.ts";
import { type TestHypervisor, testHypervisor } from "./_helpers.ts";

interface World {
  xs: XenstoreClient;
  hv: TestHypervisor;
  evil: number;
  victim: number;
}

async function world(server: TestServer): Promise<World> {
  const xs = await connect({ path: server.socket });
  const hv = testHypervisor(server, xs);
  const evil = (await makeDomain(xs, { hypervisor: hv.hypervisor, name: "evil", maxMemKb: 65536 }))
    .domid;
  const victim =
    (await makeDomain(xs, { hypervisor: hv.hypervisor, name: "victim", maxMemKb: 65536 })).domid;
  for (const domid of [evil, victim]) {
    await addDevice(xs, vbd({ domid, vdev: "xvda", target: `/dev/loop${domid}` }));
    await addDevice(xs, vif({ domid, devid: 0 }));
  }
  return { xs, hv, evil, victim };
}

async function victimTree(xs: XenstoreClient, victim: number): Promise<string> {
  return (await formatTree(xs, `/local/domain/${victim}`)) +
    (await formatTree(xs, `/libxl/${victim}`)) +
    (await formatTree(xs, `/local/domain/0/backend/vbd/${victim}`)) +
    (await formatTree(xs, `/local/domain/0/backend/vif/${victim}`));
}

function summary(list: Awaited<ReturnType<typeof listDevices>>): string[] {
  return list.map((d) => `${d.kind}/${d.devid} -> ${d.backendPath}`).sort();
}

async function attempt(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "OK";
  } catch (e) {
    return isErrno(e, "EACCES") || isErrno(e, "EPERM") || isErrno(e, "ENOENT") ||
        isErrno(e, "EINVAL")
      ? "refused"
      : `unexpected ${e}`;
  }
}

forEachServer(
  "XSA-175: a guest that deletes, redirects and scribbles on its frontends changes nothing the toolstack does",
  async (_t, server) => {
    const { xs, hv, evil, victim } = await world(server);
    try {
      await using backend = await SimulatedBackend.start(xs, { kinds: ["vbd", "vif"] });
      const disk = backendPath({ domid: evil, devid: 51712, backendDomid: 0, backendKind: "vbd" });
      await waitForXenbusState(xs, `${disk}/state`, { state: XenbusState.Connected });
      const before = summary(await listDevices(xs, evil));
      const victimBefore = await victimTree(xs, victim);
      const victimBackend = `/local/domain/0/backend/vbd/${victim}/51712`;

      await using g = await connect({ path: hv.guestSocket(evil) });
      const home = `/local/domain/${evil}`;
      await g.rm(`${home}/device/vif/0`);
      await g.write(`${home}/device/vbd/51712/backend`, victimBackend);
      await g.write(`${home}/device/vbd/51712/backend-id`, "../../..");
      await g.write(`${home}/device/vbd/51712/state`, "6");
      await g.write(`${home}/device/vbd/51712/junk/deep/node`, "\u0001garbage");
      assert.equal(
        await attempt(g.write(`${home}/device/vif/0/backend`, victimBackend)),
        "refused",
      );
      assert.equal(
        await attempt(g.write(`${home}/device/vbd/99/backend`, victimBackend)),
        "refused",
      );
      assert.equal(
        await attempt(g.write(`/libxl/${evil}/device/vbd/99/backend`, victimBackend)),
        "refused",
      );
      assert.equal(await attempt(g.read(`/libxl/${evil}/device/vbd/51712/backend`)), "refused");
      assert.equal(await attempt(g.write(`${victimBackend}/state`, "5")), "refused");

      assert.deepEqual(summary(await listDevices(xs, evil)), before, "listDevices unchanged");
      await removeDevice(xs, { domid: evil, kind: "vbd", devid: 51712 });
      await removeDevice(xs, { domid: evil, kind: "vif", devid: 0 });
      assert.equal(await xs.exists(disk), false, "the guest's own backend was removed");
      assert.equal(await xs.exists(`/local/domain/0/backend/vif/${evil}`), false);
      assert.equal(await victimTree(xs, victim), victimBefore, "the victim's paths are untouched");
      assert.equal(await xs.read(`${victimBackend}/state`), "4");
      assert.deepEqual(backend.errors, []);
    } finally {
      await xs.close();
    }
  },
);

forEachServer(
  "XSA-175: destroyDomain() of a hostile guest tears down only its own devices",
  async (_t, server) => {
    const { xs, hv, evil, victim } = await world(server);
    try {
      await using _backend = await SimulatedBackend.start(xs, { kinds: ["vbd", "vif"] });
      const victimBefore = await victimTree(xs, victim);
      await using g = await connect({ path: hv.guestSocket(evil) });
      const victimVif = `/local/domain/0/backend/vif/${victim}/0`;
      await g.write(`/local/domain/${evil}/device/vif/0/backend`, victimVif);
      await g.rm(`/local/domain/${evil}/device/vbd/51712`);
      await g.close();
      await destroyDomain(xs, evil, { hypervisor: hv.hypervisor, timeoutMs: 5_000 });
      for (
        const gone of [
          `/local/domain/${evil}`,
          `/libxl/${evil}`,
          `/local/domain/0/backend/vbd/${evil}`,
          `/local/domain/0/backend/vif/${evil}`,
        ]
      ) {
        assert.equal(await xs.exists(gone), false, `${gone} should be gone`);
      }
      const victimAfter = await victimTree(xs, victim);
      if (server.kind === "ocaml") {
        // oxenstored drops a destroyed domain from every permission list (real-daemons.md D18).
        assert.equal(
          victimAfter.replaceAll(`,r${evil})`, ")"),
          victimBefore.replaceAll(`,r${evil})`, ")"),
        );
      } else {
        assert.equal(victimAfter, victimBefore, "the victim's paths are untouched");
      }
    } finally {
      await xs.close();
    }
  },
);

forEachServer(
  "XSA-178: a driver domain that rewrites its backend keys cannot change listDevices()",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const hv = testHypervisor(server, xs);
    const driver =
      (await makeDomain(xs, { hypervisor: hv.hypervisor, name: "storage", maxMemKb: 65536 })).domid;
    const guestId =
      (await makeDomain(xs, { hypervisor: hv.hypervisor, name: "client", maxMemKb: 65536 })).domid;
    const spec = vbd({ domid: guestId, backendDomid: driver, vdev: "xvdb", target: "/dev/sdb" });
    await addDevice(xs, spec);
    const before = await listDevices(xs, guestId, { kind: "vbd" });
    await using d = await connect({ path: hv.guestSocket(driver) });
    const be = backendPath(spec);
    await d.write(`${be}/params`, "/dev/evil");
    await d.write(`${be}/frontend`, `/local/domain/${driver}/device/vbd/1`);
    await d.write(`${be}/mode`, "w!");
    const after = await listDevices(xs, guestId, { kind: "vbd" });
    assert.deepEqual(after, before);
    const record = `/libxl/${guestId}/device/vbd/${spec.devid}`;
    await xs.write(`${record}/backend`, be.replace("/backend/vbd/", "/backend/vif/"));
    assert.deepEqual(
      await listDevices(xs, guestId, { kind: "vbd" }),
      [],
      "a record pairing vbd with a vif backend is not followed",
    );
    await xs.write(`${record}/backend`, be);
    assert.equal(after[0]!.keys.params, "/dev/sdb");
    assert.equal(after[0]!.backendPath, be);
  },
);
