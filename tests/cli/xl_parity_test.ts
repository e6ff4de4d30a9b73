/**
 * xl parity: on two servers of the same kind laid out identically, `dxl X` (a subprocess,
 * through the real entry point) on one and the library call that `xl X` corresponds to on
 * the other leave identical trees — embedded, C and OCaml xenstored.
 */

import assert from "node:assert/strict";
import { addDevice, waitForBackend } from "../../lib/libxl/device_add.ts";
import { removeDevice } from "../../lib/libxl/device_remove.ts";
import { parseDiskSpec } from "../../lib/libxl/disk_spec.ts";
import { vbd } from "../../lib/libxl/devices/vbd.ts";
import { vif } from "../../lib/libxl/devices/vif.ts";
import { renameDomain } from "../../lib/libxl/domain.ts";
import { forEachServer, startServer } from "../_helpers/servers.ts";
import { tempHome } from "./_run.ts";
import { type XlWorld, xlWorld } from "./xl_world.ts";

/** One xl command and the library call it corresponds to. */
interface Case {
  args: string[];
  library: (w: XlWorld, domid: number) => Promise<unknown>;
}

const CASES: Case[] = [
  {
    args: ["block-attach", "web", "phy:/dev/vg0/x,xvdb,w"],
    library: async (w, domid) => {
      const spec = await addDevice(w.xs, vbd({ ...parseDiskSpec("phy:/dev/vg0/x,xvdb,w"), domid }));
      await waitForBackend(w.xs, spec, { timeoutMs: 10_000 });
    },
  },
  {
    args: ["block-attach", "1", "/srv/xen/extra.qcow2,qcow2,xvdc,r"],
    library: async (w, domid) => {
      const disk = parseDiskSpec("/srv/xen/extra.qcow2,qcow2,xvdc,r");
      await waitForBackend(w.xs, await addDevice(w.xs, vbd({ ...disk, domid })));
    },
  },
  {
    args: ["network-attach", "web", "mac=00:16:3e:aa:bb:cc", "bridge=xenbr1", "rate=10Mb/s"],
    library: async (w, domid) => {
      const spec = await addDevice(w.xs, {
        domid,
        kind: "vif",
        build: (devid) =>
          vif({ domid, devid, mac: "00:16:3e:aa:bb:cc", bridge: "xenbr1", rate: "10Mb/s" }),
      });
      await waitForBackend(w.xs, spec);
    },
  },
  {
    args: ["block-detach", "web", "xvdb"],
    library: (w, domid) =>
      removeDevice(w.xs, { domid, kind: "vbd", devid: 51728 }, { force: "never" }),
  },
  {
    args: ["block-detach", "web", "xvdc", "-f"],
    library: (w, domid) =>
      removeDevice(w.xs, { domid, kind: "vbd", devid: 51744 }, { force: "always" }),
  },
  {
    args: ["network-detach", "web", "00:16:3e:aa:bb:cc"],
    library: (w, domid) => removeDevice(w.xs, { domid, kind: "vif", devid: 1 }),
  },
  {
    args: ["network-detach", "web", "0"],
    library: (w, domid) => removeDevice(w.xs, { domid, kind: "vif", devid: 0 }),
  },
  {
    args: ["rename", "web", "web2"],
    library: (w, domid) => renameDomain(w.xs, domid, { name: "web2" }),
  },
];

forEachServer(
  "xl parity: the tree after dxl X equals the tree after the library call",
  async (t, server) => {
    await using home = await tempHome();
    await using twin = await startServer(server.kind);
    await using a = await xlWorld(server, home.path);
    await using b = await xlWorld(twin, home.path);
    const domid = await a.domain("web");
    assert.equal(await b.domain("web"), domid);
    for (const w of [a, b]) {
      await addDevice(w.xs, vbd({ domid, vdev: "xvda", target: "/dev/vg0/web" }));
      await addDevice(w.xs, vif({ domid, devid: 0, mac: "00:16:3e:00:00:01" }));
      await w.settled(domid);
    }
    assert.equal(await a.tree(), await b.tree(), "the twins start equal");
    for (const c of CASES) {
      await t.step(`dxl ${c.args.join(" ")}`, async () => {
        const run = await a.dxl(...c.args);
        assert.equal(run.code, 0, run.stderr);
        await c.library(b, domid);
        const name = c.args[0] === "rename" ? "web2" : "web";
        if (c.args[0] !== "rename") {
          await a.settled(domid);
          await b.settled(domid);
        }
        assert.equal(await a.xs.read(`/local/domain/${domid}/name`), name);
        assert.equal(await a.tree(), await b.tree());
      });
    }
  },
);
