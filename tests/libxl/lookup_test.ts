/**
 * resolveDomain(), findNicByMac(), findDiskByVdev() on every server: they read the
 * toolstack's /libxl records only (libxl_domain_qualifier_to_domid, libxl_mac_to_device_nic,
 * libxl_vdev_to_device_disk), so what a guest writes in its own frontends changes nothing.
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { vbd } from "../../lib/libxl/devices/vbd.ts";
import { vif } from "../../lib/libxl/devices/vif.ts";
import { makeDomain } from "../../lib/libxl/domain_create.ts";
import { DeviceConfigError, DomainNotFoundError } from "../../lib/libxl/errors.ts";
import { findDiskByVdev, findNicByMac, resolveDomain } from "../../lib/libxl/lookup.ts";
import { forEachServer } from "../_helpers/servers.ts";
import { testHypervisor } from "./_helpers.ts";

forEachServer("lookups find domains, nics and disks from /libxl only", async (_t, server) => {
  await using xs = await connect({ path: server.socket });
  const hv = testHypervisor(server, xs);
  const web = await makeDomain(xs, {
    hypervisor: hv.hypervisor,
    name: "web",
    maxMemKb: 65536,
    devices: (d) => [
      vbd({ domid: d, vdev: "xvda", target: "/dev/vg/web" }),
      vbd({ domid: d, vdev: "xvdb", target: "/dev/vg/data" }),
      vif({ domid: d, devid: 0, mac: "00:16:3e:0a:0b:0c" }),
      vif({ domid: d, devid: 1, mac: "00:16:3e:0a:0b:0d" }),
    ],
  });
  const db = await makeDomain(xs, { hypervisor: hv.hypervisor, name: "db", maxMemKb: 65536 });

  assert.equal(await resolveDomain(xs, "web"), web.domid);
  assert.equal(await resolveDomain(xs, "db"), db.domid);
  assert.equal(await resolveDomain(xs, String(db.domid)), db.domid);
  assert.equal(await resolveDomain(xs, `00${db.domid}`), db.domid, "digits are an id (strtoul)");
  assert.equal(await xs.transaction((tx) => resolveDomain(tx, db.domid)), db.domid);
  await assert.rejects(
    resolveDomain(xs, "mail"),
    (e: unknown) => e instanceof DomainNotFoundError && e.domain === "mail",
  );
  await assert.rejects(
    resolveDomain(xs, "77"),
    (e: unknown) => e instanceof DomainNotFoundError && e.domain === 77,
  );
  assert.throws(() => resolveDomain(xs, ""), TypeError);
  assert.throws(() => resolveDomain(xs, -1), RangeError);

  const nic = await findNicByMac(xs, web.domid, { mac: "00:16:3E:0A:0B:0D" });
  assert.equal(nic?.devid, 1);
  assert.equal(nic?.backendPath, `/local/domain/0/backend/vif/${web.domid}/1`);
  assert.equal(await findNicByMac(xs, db.domid, { mac: "00:16:3e:0a:0b:0d" }), undefined);
  const disk = await findDiskByVdev(xs, web.domid, { vdev: "xvdb" });
  assert.equal(disk?.devid, 51728);
  assert.equal(disk?.keys.params, "/dev/vg/data");
  assert.equal((await findDiskByVdev(xs, web.domid, { vdev: "51712" }))?.keys.dev, "xvda");
  assert.equal(await findDiskByVdev(xs, web.domid, { vdev: "xvdc" }), undefined);

  // The guest rewrites what it owns: its frontends' mac and its name is not its to change.
  await using guest = await connect({ path: hv.guestSocket(web.domid) });
  await guest.write(`device/vif/0/mac`, "00:16:3e:ff:ff:ff");
  assert.equal(await findNicByMac(xs, web.domid, { mac: "00:16:3e:ff:ff:ff" }), undefined);
  assert.equal((await findNicByMac(xs, web.domid, { mac: "00:16:3e:0a:0b:0c" }))?.devid, 0);
  await assert.rejects(guest.write("name", "db"), { code: "EACCES" });

  // Bad input names the field.
  for (const mac of ["00:16:3e:0a:0b", "zz:16:3e:0a:0b:0c", ""]) {
    assert.throws(
      () => findNicByMac(xs, web.domid, { mac }),
      (e: unknown) => e instanceof DeviceConfigError && e.field === "mac",
    );
  }
  assert.throws(
    () => findDiskByVdev(xs, web.domid, { vdev: "qq" }),
    (e: unknown) => e instanceof DeviceConfigError && e.field === "vdev",
  );
});
