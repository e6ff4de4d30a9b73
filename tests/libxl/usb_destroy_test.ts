/**
 * Two of libxl's rules on every server:
 * - USB controllers (libxl_usb.c): a qusb controller served from the toolstack domain needs
 *   the guest's device model (libxl__dm_check_start: "device model required but not
 *   running"), a devicemodel one is added through QEMU's QMP; libxl__dm_active looks for
 *   ~/image/device-model-pid or ~/image/device-model-domid. A pv controller needs none.
 * - Teardown (libxl__devices_destroy, libxl_device.c): the devices as DIRECTORY lists
 *   /libxl/<domid>/device and each kind, removed one after another.
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { addDevice } from "../../lib/libxl/device_add.ts";
import { listDevices } from "../../lib/libxl/device_list.ts";
import { vbd } from "../../lib/libxl/devices/vbd.ts";
import { vif } from "../../lib/libxl/devices/vif.ts";
import { vusb } from "../../lib/libxl/devices/vusb.ts";
import { makeDomain } from "../../lib/libxl/domain_create.ts";
import { destroyDomain } from "../../lib/libxl/domain_destroy.ts";
import { DeviceConfigError } from "../../lib/libxl/errors.ts";
import { SimulatedBackend } from "../../lib/libxl/sim_backend.ts";
import { forEachServer } from "../_helpers/servers.ts";
import { expectedLayout, recording, testHypervisor } from "./_helpers.ts";
import { formatTree } from "../../lib/libxl/tree.ts";
import { backendPath, frontendPath, libxlDevicePath } from "../../lib/libxl/paths.ts";

forEachServer(
  "a USB controller that needs a device model is refused without one",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    const { domid } = await makeDomain(xs, { hypervisor, name: "u", maxMemKb: 65536 });
    const refused = (e: unknown) =>
      e instanceof DeviceConfigError && e.field === "type" &&
      /device model required but not running/.test(e.message);
    await assert.rejects(addDevice(xs, vusb({ domid, devid: 0, type: "qusb" })), refused);
    await assert.rejects(addDevice(xs, vusb({ domid, devid: 0, type: "devicemodel" })), refused);
    assert.equal(await xs.exists(`/libxl/${domid}/device/vusb`), false, "nothing written");
    // At creation too: dxl starts no device model.
    await assert.rejects(
      makeDomain(xs, {
        hypervisor,
        name: "u2",
        maxMemKb: 65536,
        devices: (d) => [vusb({ domid: d, devid: 0, type: "qusb" })],
      }),
      refused,
    );
    // A pv controller (usbback) needs none; a qusb one served by a driver domain neither.
    const pv = await addDevice(xs, vusb({ domid, devid: 0 }));
    assert.equal(pv.backendKind, "vusb");
    // With the device model running, libxl adds them.
    await xs.write(`/local/domain/${domid}/image/device-model-pid`, "4242");
    const q = await addDevice(xs, vusb({ domid, devid: 1, type: "qusb" }));
    const tree = (await formatTree(xs, frontendPath(q))) + (await formatTree(xs, backendPath(q))) +
      (await formatTree(xs, libxlDevicePath(q)));
    const sort = (t: string) => server.kind === "ocaml" ? t.split("\n").sort() : t.split("\n");
    assert.deepEqual(sort(tree), sort(expectedLayout(q)));
  },
);

Deno.test("vusb() applies libxl__device_usbctrl_setdefault's version and port rules", () => {
  const bad: [Parameters<typeof vusb>[0], string, RegExp][] = [
    [{ domid: 1, devid: 0, version: 3 }, "version", /must be 1 or 2/],
    [{ domid: 1, devid: 0, type: "qusb", version: 3 }, "version", /must be 1 or 2/],
    [{ domid: 1, devid: 0, ports: 32 }, "ports", /1\.\.31/],
    [{ domid: 1, devid: 0, type: "devicemodel", ports: 8 }, "ports", /version 2 is always 6/],
    [{ domid: 1, devid: 0, type: "devicemodel", version: 1, ports: 6 }, "ports", /always 2/],
    [{ domid: 1, devid: 0, type: "devicemodel", version: 3, ports: 16 }, "ports", /1\.\.15/],
  ];
  for (const [options, field, message] of bad) {
    assert.throws(
      () => vusb(options),
      (e: unknown) =>
        e instanceof DeviceConfigError && e.field === field && message.test(e.message),
      JSON.stringify(options),
    );
  }
  const ports = (o: Parameters<typeof vusb>[0]) =>
    vusb(o).back.find(([k]) => k === "num-ports")?.[1];
  assert.equal(ports({ domid: 1, devid: 0, type: "devicemodel" }), "6");
  assert.equal(ports({ domid: 1, devid: 0, type: "devicemodel", version: 1 }), "2");
  assert.equal(ports({ domid: 1, devid: 0, type: "devicemodel", version: 3 }), "8");
  assert.equal(ports({ domid: 1, devid: 0 }), "8");
});

forEachServer(
  "destroyDomain() removes the devices one after another in /libxl's order",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    const { domid } = await makeDomain(xs, {
      hypervisor,
      name: "d",
      maxMemKb: 65536,
      devices: (d) => [
        vbd({ domid: d, vdev: "xvda", target: "/dev/vg/a" }),
        vbd({ domid: d, vdev: "xvdb", target: "/dev/vg/b" }),
        vif({ domid: d, devid: 0, mac: "00:16:3e:00:00:01" }),
        vif({ domid: d, devid: 1, mac: "00:16:3e:00:00:02" }),
      ],
    });
    await using _backend = await SimulatedBackend.start(xs, { kinds: ["vbd", "vif"] });
    const order = (await listDevices(xs, domid)).map((r) => r.libxlPath);
    const rec = recording(xs);
    const result = await destroyDomain(rec.store, domid, { hypervisor });
    assert.deepEqual(result.devices.map((r) => r.record.libxlPath), order);
    // Each device is finished (its record removed) before the next one is asked to close.
    const steps = rec.log.map((e) => e.line).flatMap((line) => {
      const close = /^WRITE \| (\S+)\/online \| 0$/.exec(line);
      if (close) return [`close ${close[1]}`];
      const gone = /^RM \| (\/libxl\/\d+\/device\/\S+\/\d+)$/.exec(line);
      return gone ? [`rm ${gone[1]}`] : [];
    });
    const expected = order.flatMap((lx) => {
      const [, , , kind, devid] = lx.split("/").slice(1);
      const be = kind === "console"
        ? `/local/domain/0/backend/console/${domid}/${devid}`
        : `/local/domain/0/backend/${kind}/${domid}/${devid}`;
      return kind === "console" ? [`rm ${lx}`] : [`close ${be}`, `rm ${lx}`];
    });
    assert.deepEqual(steps, expected);
    // No transaction was retried: the list, then per device one to read its record, one to ask
    // the backend to close (not for the console) and one to clean up.
    const consoles = order.filter((lx) => lx.includes("/device/console/")).length;
    assert.equal(
      rec.log.filter((e) => e.line === "TRANSACTION_START").length,
      1 + order.length * 3 - consoles,
    );
    assert.equal(await xs.exists(`/libxl/${domid}`), false);
  },
);
