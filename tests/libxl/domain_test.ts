/** Domains: rename, list, find, destroy; concurrent device adds. */

import assert from "node:assert/strict";
import { connect, type XenstoreClient } from "../../lib/client/mod.ts";
import { addDevice } from "../../lib/libxl/device_add.ts";
import { listDevices } from "../../lib/libxl/device_list.ts";
import { vif } from "../../lib/libxl/devices/vif.ts";
import { vbd } from "../../lib/libxl/devices/vbd.ts";
import { findDomain, listDomains, makeDomain, renameDomain } from "../../lib/libxl/domain.ts";
import { destroyDomain } from "../../lib/libxl/domain_destroy.ts";
import {
  DeviceConfigError,
  DomainNameInUseError,
  DomainRenameConflictError,
} from "../../lib/libxl/errors.ts";
import { SimulatedBackend } from "../../lib/libxl/sim_backend.ts";
import type { LibxlStore } from "../../lib/libxl/store.ts";
import { formatTree } from "../../lib/libxl/tree.ts";
import { forEachServer } from "../_helpers/servers.ts";
import { recording, testHypervisor } from "./_helpers.ts";

forEachServer(
  "renameDomain(), listDomains() and findDomain() keep names unique",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    const a = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536 });
    const b = await makeDomain(xs, { hypervisor, name: "db", maxMemKb: 65536 });
    await assert.rejects(
      makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536 }),
      (e: unknown) => e instanceof DomainNameInUseError && e.holder === a.domid,
    );
    assert.equal(await xs.exists(`/local/domain/${b.domid + 1}`), false, "failed make cleaned up");
    assert.deepEqual(hypervisor.domains, [a.domid, b.domid], "failed make destroyed its domain");
    assert.deepEqual(
      (await listDomains(xs)).map((d) => [d.domid, d.name, d.uuid, d.type]),
      [[a.domid, "web", a.uuid, "pv"], [b.domid, "db", b.uuid, "pv"]],
    );
    await assert.rejects(renameDomain(xs, b.domid, { name: "web" }), DomainNameInUseError);
    await assert.rejects(
      renameDomain(xs, b.domid, { name: "cache", expectedName: "nope" }),
      DomainRenameConflictError,
    );
    await renameDomain(xs, b.domid, { name: "cache", expectedName: "db" });
    await renameDomain(xs, b.domid, { name: "cache" });
    assert.equal(await xs.read(`/vm/${b.uuid}/name`), "cache");
    assert.equal(await findDomain(xs, "cache"), b.domid);
    assert.equal(await findDomain(xs, "db"), undefined);
    assert.throws(() => renameDomain(xs, b.domid, { name: "" }), DeviceConfigError);
  },
);

forEachServer(
  "renameDomain() checks uniqueness inside its transaction: of two racing renames one wins",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    const a = await makeDomain(xs, { hypervisor, name: "a", maxMemKb: 65536 });
    const b = await makeDomain(xs, { hypervisor, name: "b", maxMemKb: 65536 });
    await using xs2 = await connect({ path: server.socket });
    for (let round = 0; round < 5; round++) {
      const target = `same-${round}`;
      const results = await Promise.allSettled([
        renameDomain(xs, a.domid, { name: target, attempts: 50 }),
        renameDomain(xs2, b.domid, { name: target, attempts: 50 }),
      ]);
      const won = results.filter((r) => r.status === "fulfilled").length;
      assert.equal(won, 1, `round ${round}: ${JSON.stringify(results.map((r) => r.status))}`);
      const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      assert.ok(lost.reason instanceof DomainNameInUseError);
      const names = (await listDomains(xs)).map((d) => d.name);
      assert.equal(names.filter((n) => n === target).length, 1);
      await renameDomain(xs, a.domid, { name: `a${round}` });
      await renameDomain(xs, b.domid, { name: `b${round}` });
    }
  },
);

forEachServer(
  "destroyDomain() removes the devices, ~, /vm/<uuid> and /libxl/<domid> and nothing else",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    await using _backend = await SimulatedBackend.start(xs, { kinds: ["vbd", "vif"] });
    const keep = await makeDomain(xs, { hypervisor, name: "keep", maxMemKb: 65536 });
    await addDevice(xs, vif({ domid: keep.domid, devid: 0 }));
    const before = await formatTree(xs, "/");
    const dom = await makeDomain(xs, { hypervisor, name: "doomed", maxMemKb: 65536, vcpus: 2 });
    await addDevice(xs, vbd({ domid: dom.domid, vdev: "xvda", target: "/dev/loop0" }));
    await addDevice(xs, vif({ domid: dom.domid, devid: 0 }));
    const result = await destroyDomain(xs, dom.domid, { hypervisor, timeoutMs: 10_000 });
    assert.deepEqual(
      result.devices.map((d) => `${d.record.kind}:${d.closed ? "closed" : "cleaned"}`).sort(),
      ["console:cleaned", "vbd:closed", "vif:closed"],
    );
    const after = await formatTree(xs, "/");
    const strip = (t: string) =>
      server.kind === "ocaml"
        ? t.split("\n").filter((l) => !l.startsWith("/tool") && !l.startsWith("@")).sort().join(
          "\n",
        )
        : t;
    assert.equal(strip(after), strip(before));
    assert.equal(await findDomain(xs, "doomed"), undefined);
  },
);

forEachServer(
  "8 clients adding devices to the same domains concurrently: each lands once with a unique devid",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    const domains = [
      (await makeDomain(xs, { hypervisor, name: "c1", maxMemKb: 65536, console: false })).domid,
      (await makeDomain(xs, { hypervisor, name: "c2", maxMemKb: 65536, console: false })).domid,
    ];
    const clients: XenstoreClient[] = [];
    for (let i = 0; i < 8; i++) clients.push(await connect({ path: server.socket }));
    const PER_CLIENT = 3;
    try {
      const recorded = clients.map((client) => recording(client));
      const added = await Promise.all(
        recorded.flatMap(({ store }, c) =>
          domains.map(async (domid) => {
            const out: number[] = [];
            for (let i = 0; i < PER_CLIENT; i++) {
              const spec = await addDevice(store, {
                domid,
                kind: "vif",
                build: (devid) => vif({ domid, devid, bridge: `br-c${c}-i${i}` }),
              });
              out.push(spec.devid);
            }
            return out;
          })
        ),
      );
      assert.equal(added.flat().length, 8 * 2 * PER_CLIENT);
      const runs = recorded.flatMap(({ log }) => log).filter((e) => e.line === "TRANSACTION_START");
      assert.ok(
        runs.length > added.flat().length,
        `the adds conflicted and were rerun (${runs.length} runs for ${added.flat().length} adds)`,
      );
      for (const domid of domains) {
        const list = await listDevices(xs, domid, { kind: "vif" });
        const devids = list.map((d) => d.devid).sort((x, y) => x - y);
        assert.deepEqual(devids, Array.from({ length: 8 * PER_CLIENT }, (_, i) => i));
        const bridges = new Set(list.map((d) => d.keys.bridge));
        assert.equal(bridges.size, 8 * PER_CLIENT, "no add overwrote another");
        for (const d of list) {
          assert.equal(await xs.read(`${d.backendPath}/handle`), String(d.devid));
          assert.equal(await xs.read(`${d.frontendPath}/backend`), d.backendPath);
        }
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  },
);

forEachServer(
  "SimulatedHypervisor never hands out an id that xenstore still uses",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    await xs.write("/libxl/1/type", "pv");
    await xs.write("/local/domain/2/name", "foreign");
    const { hypervisor } = testHypervisor(server, xs);
    const dom = await makeDomain(xs, { hypervisor, name: "fresh", maxMemKb: 65536 });
    assert.equal(dom.domid, 3);
    assert.equal(await xs.read("/local/domain/2/name"), "foreign");
    await assert.rejects(
      makeDomain(xs, { hypervisor, name: "clash", maxMemKb: 65536, domid: 1 }),
      { name: "RangeError", message: /domain 1 already exists/ },
    );
  },
  { kinds: ["embedded", "c"] },
);

forEachServer(
  "destroyDomain() carries on when a listed device is removed by someone else meanwhile",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    const { domid } = await makeDomain(xs, { hypervisor, name: "gone", maxMemKb: 65536 });
    await addDevice(xs, vif({ domid, devid: 0 }));
    await addDevice(xs, vif({ domid, devid: 1 }));
    await using _backend = await SimulatedBackend.start(xs, { kinds: ["vif"] });
    let transactions = 0;
    const { store } = recording(xs);
    const racing: LibxlStore = {
      ...store,
      async transaction(fn, options) {
        // After listDevices' transaction, another toolstack removes vif 1's record.
        if (++transactions === 2) await xs.rm(`/libxl/${domid}/device/vif/1`);
        return await store.transaction(fn, options);
      },
    };
    const result = await destroyDomain(racing, domid, { hypervisor });
    assert.deepEqual(
      result.devices.map((d) => `${d.record.kind}/${d.record.devid}`).sort(),
      ["console/0", "vif/0"],
    );
    assert.equal(await xs.exists(`/local/domain/${domid}`), false);
    assert.equal(await xs.exists(`/libxl/${domid}`), false);
  },
);
