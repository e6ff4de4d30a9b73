/**
 * A domain and its devices in one call (makeDomain / writeNewDomain): one transaction, the
 * `/libxl` registry and the backends in the order libxl_domain_create adds devices.
 *
 * The order, read from Xen 4.17 tools/libs/light/libxl_create.c:
 * - domcreate_rebuild_done: libxl__add_disks — the disks, in config order;
 * - domcreate_launch_dm: channels (consoles 1..n), p9s, pvcallsifs, then for PV/PVH:
 *   vfbs, vkbs, (Arm vuart), console 0 — for HVM: console 0, then the vkb;
 * - domcreate_attach_devices over device_type_tbl: disk (skip_attach), nic, vtpm, usbctrl,
 *   usbdev, pci, dtdev, vdispl, vsnd.
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import type { DeviceSpec } from "../../lib/libxl/device.ts";
import { pvConsole } from "../../lib/libxl/devices/console.ts";
import { p9 } from "../../lib/libxl/devices/p9.ts";
import { vbd } from "../../lib/libxl/devices/vbd.ts";
import { vfb } from "../../lib/libxl/devices/vfb.ts";
import { vif } from "../../lib/libxl/devices/vif.ts";
import { vkbd } from "../../lib/libxl/devices/vkbd.ts";
import { vtpm } from "../../lib/libxl/devices/vtpm.ts";
import { vusb } from "../../lib/libxl/devices/vusb.ts";
import { parseDiskSpec } from "../../lib/libxl/disk_spec.ts";
import { creationOrder, makeDomain, writeNewDomain } from "../../lib/libxl/domain_create.ts";
import { DeviceExistsError } from "../../lib/libxl/errors.ts";
import type { Hypervisor } from "../../lib/libxl/hypervisor.ts";
import { backendPath, frontendPath, libxlDevicePath } from "../../lib/libxl/paths.ts";
import { formatTree } from "../../lib/libxl/tree.ts";
import { forEachServer, type TestServer } from "../_helpers/servers.ts";
import { expectedLayout, recording, testHypervisor } from "./_helpers.ts";

const UUID = "0b9c3f7e-1d2a-4b5c-8d6e-7f8091a2b3c4";

/** The devices of the test domain, deliberately not in libxl's order. */
function scrambled(domid: number): DeviceSpec[] {
  return [
    vif({ domid, devid: 0, mac: "00:16:3e:00:00:10", rate: "10Mb/s" }),
    vbd({ domid, ...parseDiskSpec("phy:/dev/vg0/web,xvda,w") }),
    vtpm({ domid, devid: 0, uuid: UUID }),
    vif({ domid, devid: 1, mac: "00:16:3e:00:00:11" }),
    vbd({ domid, ...parseDiskSpec("qcow2:/srv/data.qcow2,xvdb,w") }),
    pvConsole({ domid, devid: 1, name: "chan" }),
    vkbd({ domid, devid: 0 }),
    vfb({ domid, devid: 0 }),
    p9({ domid, devid: 0, tag: "share", path: "/srv/share" }),
  ];
}

/** libxl's order for that PV guest: kind/devid of each `/libxl` record as it is created. */
const PV_ORDER = [
  "vbd/51712",
  "vbd/51728",
  "console/1",
  "9pfs/0",
  "vfb/0",
  "vkbd/0",
  "console/0",
  "vif/0",
  "vif/1",
  "vtpm/0",
];

/** oxenstored lists children sorted (real-daemons.md D4): compare what it lists as sets. */
function listed(server: TestServer, names: string[]): string[] {
  return server.kind === "ocaml" ? [...names].sort() : names;
}

forEachServer(
  "makeDomain() with devices writes them in one transaction in libxl_domain_create's order",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    const rec = recording(xs);
    const dom = await makeDomain(rec.store, {
      hypervisor,
      name: "ordered",
      maxMemKb: 262144,
      kernel: "/srv/vmlinuz",
      devices: scrambled,
    });
    const d = dom.domid;
    assert.equal(rec.log.filter((e) => e.line === "TRANSACTION_START").length, 1);
    assert.deepEqual(rec.log.filter((e) => e.tx === 0), [], "nothing written outside it");

    // The order the requests went out (the same on every server).
    const firstRecordWrite = rec.log
      .map((e) => new RegExp(`^WRITE \\| /libxl/${d}/device/([^/]+/[0-9]+)/frontend `).exec(e.line))
      .filter((m) => m !== null)
      .map((m) => m[1]);
    assert.deepEqual(firstRecordWrite, PV_ORDER);

    // The order the servers keep children in (oxenstored sorts its listings).
    assert.deepEqual(
      await xs.directory(`/libxl/${d}/device`),
      listed(server, ["vbd", "console", "9pfs", "vfb", "vkbd", "vif", "vtpm"]),
    );
    assert.deepEqual(await xs.directory(`/libxl/${d}/device/vbd`), ["51712", "51728"]);
    assert.deepEqual(await xs.directory(`/libxl/${d}/device/console`), listed(server, ["1", "0"]));
    assert.deepEqual(await xs.directory(`/libxl/${d}/device/vif`), ["0", "1"]);
    assert.deepEqual(
      await xs.directory("/local/domain/0/backend"),
      listed(server, ["vbd", "qdisk", "console", "9pfs", "vfb", "vkbd", "vif", "vtpm"]),
    );

    // Each device is laid out exactly as libxl's generic add lays it out.
    const specs = [
      ...scrambled(d),
      pvConsole({ domid: d, port: 2, ringRef: 0x101000 + 2 * d - 1 }),
    ];
    for (const spec of specs) {
      const tree = (await formatTree(xs, frontendPath(spec))) +
        (await formatTree(xs, backendPath(spec))) + (await formatTree(xs, libxlDevicePath(spec)));
      const sort = (t: string) => server.kind === "ocaml" ? t.split("\n").sort() : t.split("\n");
      assert.deepEqual(sort(tree), sort(expectedLayout(spec)), `${spec.kind}/${spec.devid}`);
    }
    assert.equal(await xs.read(`/local/domain/0/backend/vif/${d}/0/rate`), "62500,50000");
  },
);

Deno.test("creationOrder() puts an HVM guest's console 0 before its keyboard", () => {
  const specs = [
    vkbd({ domid: 1, devid: 0 }),
    vif({ domid: 1, devid: 0, mac: "00:16:3e:00:00:01" }),
    pvConsole({ domid: 1, port: 2, ringRef: 9 }),
    vusb({ domid: 1, devid: 0 }),
    vbd({ domid: 1, vdev: "hda", target: "/dev/vg/a" }),
  ];
  const order = (type: "pv" | "hvm") =>
    creationOrder(specs, type).map((s) => `${s.kind}/${s.devid}`);
  assert.deepEqual(order("hvm"), ["vbd/768", "console/0", "vkbd/0", "vif/0", "vusb/0"]);
  assert.deepEqual(order("pv"), ["vbd/768", "vkbd/0", "console/0", "vif/0", "vusb/0"]);
});

forEachServer(
  "writeNewDomain() writes /vm/<uuid>/image/cmdline and ramdisk after start_time, as libxl__domain_build",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    const created = await hypervisor.createDomain({ uuid: UUID });
    const rec = recording(xs);
    await rec.store.transaction((tx) =>
      writeNewDomain(tx, created, {
        name: "img",
        uuid: UUID,
        maxMemKb: 65536,
        kernel: "/k",
        ramdisk: "/r",
        cmdline: "root=/dev/xvda1",
        now: () => 1795611510820,
      })
    );
    await hypervisor.introduceDomain(created);
    const vmWrites = rec.log.map((e) => e.line).filter((l) => l.startsWith(`WRITE | /vm/${UUID}/`));
    assert.deepEqual(vmWrites.slice(-5), [
      `WRITE | /vm/${UUID}/image/ostype | linux`,
      `WRITE | /vm/${UUID}/image/kernel | /k`,
      `WRITE | /vm/${UUID}/start_time | 1795611510.82`,
      `WRITE | /vm/${UUID}/image/ramdisk | /r`,
      `WRITE | /vm/${UUID}/image/cmdline | root=/dev/xvda1`,
    ]);
    assert.equal(await xs.read(`/vm/${UUID}/image/cmdline`), "root=/dev/xvda1");
  },
);

forEachServer(
  "makeDomain() with a bad device list writes nothing and destroys the domain",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    const nic = (domid: number) => vif({ domid, devid: 0, mac: "00:16:3e:00:00:01" });
    // The same nic twice: libxl's add finds it recorded (ERROR_DEVICE_EXISTS).
    await assert.rejects(
      makeDomain(xs, {
        hypervisor,
        name: "dup",
        maxMemKb: 65536,
        devices: (d) => [nic(d), nic(d)],
      }),
      (e: unknown) => e instanceof DeviceExistsError && e.path.endsWith("/device/vif/0"),
    );
    // A device built for another domain, and console 0 given while makeDomain adds it.
    await assert.rejects(
      makeDomain(xs, { hypervisor, name: "other", maxMemKb: 65536, devices: () => [nic(77)] }),
      (e: unknown) =>
        e instanceof TypeError && /vif 0 of domain 77 is given to new domain/.test(e.message),
    );
    await assert.rejects(
      makeDomain(xs, {
        hypervisor,
        name: "con",
        maxMemKb: 65536,
        devices: (d) => [pvConsole({ domid: d, port: 2, ringRef: 1 })],
      }),
      (e: unknown) => e instanceof TypeError && /console: false/.test(e.message),
    );
    assert.deepEqual(hypervisor.domains, [], "every failed make destroyed its domain");
    assert.deepEqual(await xs.directory("/libxl").catch(() => []), []);
    assert.equal(await xs.exists("/local/domain/0/backend/vif"), false);
  },
);

forEachServer("makeDomain() whose INTRODUCE fails removes what it wrote", async (_t, server) => {
  await using xs = await connect({ path: server.socket });
  const { hypervisor: real } = testHypervisor(server, xs);
  const hypervisor: Hypervisor = {
    createDomain: (r) => real.createDomain(r),
    introduceDomain: () => Promise.reject(new Error("no store ring")),
    destroyDomain: (domid) => real.destroyDomain(domid),
  };
  await assert.rejects(
    makeDomain(xs, {
      hypervisor,
      name: "lost",
      uuid: UUID,
      maxMemKb: 65536,
      devices: (d) => [vbd({ domid: d, vdev: "xvda", target: "/dev/vg/a" })],
    }),
    /no store ring/,
  );
  assert.deepEqual(real.domains, []);
  for (
    const path of ["/local/domain/1", `/vm/${UUID}`, "/libxl/1", "/local/domain/0/backend/vbd"]
  ) {
    assert.equal(await xs.exists(path), false, path);
  }
});
