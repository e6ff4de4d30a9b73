/**
 * insertCdrom() / ejectCdrom() on every server, against what libxl_cdrom_insert (Xen 4.17
 * libxl_disk.c) writes: transaction 1 (cdrom_insert_ejected) reads <libxl>/frontend, then
 * writes type=qdisk and params="" to the backend, then the same to the /libxl record;
 * transaction 2 (cdrom_insert_inserted) reads it again and writes type=qdisk and
 * params=<format string>:<image> ("aio" for raw; "" when empty) the same way. The nodes
 * exist already, so they keep their permissions: the backend's n0,r<domid> and the
 * record's n0.
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { ejectCdrom, insertCdrom } from "../../lib/libxl/cdrom.ts";
import { vbd } from "../../lib/libxl/devices/vbd.ts";
import { parseDiskSpec } from "../../lib/libxl/disk_spec.ts";
import { makeDomain } from "../../lib/libxl/domain_create.ts";
import {
  DeviceConfigError,
  DeviceNotFoundError,
  DomainNotFoundError,
} from "../../lib/libxl/errors.ts";
import { forEachServer } from "../_helpers/servers.ts";
import { recording, testHypervisor } from "./_helpers.ts";

forEachServer(
  "insertCdrom() and ejectCdrom() swap params as libxl_cdrom_insert does",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    const { domid } = await makeDomain(xs, {
      hypervisor,
      name: "win",
      type: "hvm",
      maxMemKb: 65536,
      devices: (d) => [
        vbd({ domid: d, ...parseDiskSpec("/dev/vg/win,,hda", { domainType: "hvm" }) }),
        vbd({ domid: d, ...parseDiskSpec("/srv/a.iso,,hdc,cdrom", { domainType: "hvm" }) }),
      ],
    });
    const be = `/local/domain/0/backend/qdisk/${domid}/5632`;
    const lx = `/libxl/${domid}/device/vbd/5632`;
    assert.equal(await xs.read(`${be}/params`), "aio:/srv/a.iso");
    const rec = recording(xs);
    await insertCdrom(rec.store, domid, { vdev: "hdc", target: "/srv/b.qcow2", format: "qcow2" });
    const byTx = new Map<number, string[]>();
    for (const e of rec.log) {
      if (e.tx !== 0 && !/^(DIRECTORY|TRANSACTION_START)/.test(e.line)) {
        byTx.set(e.tx, [...(byTx.get(e.tx) ?? []), e.line]);
      }
    }
    // Each transaction: the sanity read of the record's frontend, then the four writes.
    const txs = [...byTx.values()].map((lines) =>
      lines.slice(lines.lastIndexOf(`READ | ${lx}/frontend`)).filter((l) =>
        l.startsWith("WRITE") || l.startsWith("READ | /libxl")
      )
    );
    assert.equal(txs.length, 2, "two transactions");
    const media = (params: string) => [
      `READ | ${lx}/frontend`,
      `WRITE | ${be}/type | qdisk`,
      params === "" ? `WRITE | ${be}/params` : `WRITE | ${be}/params | ${params}`,
      `WRITE | ${lx}/type | qdisk`,
      params === "" ? `WRITE | ${lx}/params` : `WRITE | ${lx}/params | ${params}`,
    ];
    assert.deepEqual(txs[0], media(""));
    assert.deepEqual(txs[1], media("qcow2:/srv/b.qcow2"));
    assert.equal(await xs.read(`${lx}/params`), "qcow2:/srv/b.qcow2");
    assert.deepEqual(await xs.getPerms(`${be}/params`), [
      { domid: 0, access: "none" },
      { domid, access: "read" },
    ]);
    assert.deepEqual(await xs.getPerms(`${lx}/params`), [{ domid: 0, access: "none" }]);
    // Raw media is "aio:", in the caller's transaction too.
    await xs.transaction((tx) => insertCdrom(tx, domid, { vdev: "hdc", target: "/srv/c.iso" }));
    assert.equal(await xs.read(`${be}/params`), "aio:/srv/c.iso");
    await ejectCdrom(xs, domid, { vdev: "hdc" });
    assert.equal(await xs.read(`${be}/params`), "");
    assert.equal(await xs.read(`${lx}/params`), "");
    assert.equal(await xs.read(`${be}/type`), "qdisk");
  },
);

forEachServer("insertCdrom() refuses what libxl refuses, writing nothing", async (_t, server) => {
  await using xs = await connect({ path: server.socket });
  const { hypervisor } = testHypervisor(server, xs);
  const hvm = await makeDomain(xs, {
    hypervisor,
    name: "win",
    type: "hvm",
    maxMemKb: 65536,
    devices: (d) => [
      vbd({ domid: d, vdev: "hda", target: "/dev/vg/win", protocol: false }),
      vbd({ domid: d, vdev: "hdd", target: "/dev/sr0", cdrom: true, protocol: false }), // phy
    ],
  });
  const pv = await makeDomain(xs, {
    hypervisor,
    name: "lin",
    maxMemKb: 65536,
    devices: (d) => [vbd({ domid: d, ...parseDiskSpec(",hdc:cdrom,r") })],
  });
  const cases: [number, string, (e: unknown) => boolean][] = [
    [
      pv.domid,
      "hdc",
      (e) => e instanceof DeviceConfigError && /requires an HVM domain/.test(e.message),
    ],
    [
      hvm.domid,
      "hda",
      (e) => e instanceof DeviceConfigError && /not a cdrom drive/.test(e.message),
    ],
    [hvm.domid, "hdc", (e) => e instanceof DeviceNotFoundError],
    [hvm.domid, "hdd", (e) => e instanceof DeviceConfigError && /must be Qdisk/.test(e.message)],
    [99, "hdc", (e) => e instanceof DomainNotFoundError],
  ];
  for (const [domid, vdev, check] of cases) {
    await assert.rejects(insertCdrom(xs, domid, { vdev, target: "/srv/x.iso" }), check, vdev);
  }
  assert.throws(() => insertCdrom(xs, hvm.domid, { vdev: "qq", target: "/x" }), DeviceConfigError);
  assert.throws(
    () => insertCdrom(xs, hvm.domid, { vdev: "hdc", target: "/x", format: "iso" as never }),
    (e: unknown) => e instanceof DeviceConfigError && e.field === "format",
  );
  assert.throws(
    () => insertCdrom(xs, hvm.domid, { vdev: "hdc", target: "/x\n" }),
    (e: unknown) => e instanceof DeviceConfigError && e.field === "target",
  );
  assert.equal(await xs.read(`/local/domain/0/backend/vbd/${hvm.domid}/5696/params`), "/dev/sr0");
  assert.equal(await xs.read(`/local/domain/0/backend/qdisk/${pv.domid}/5632/params`), "aio:");
});
