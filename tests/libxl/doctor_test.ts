/**
 * doctor(): what interrupted runs and hostile guests leave behind, found and (the stale part)
 * removed in one transaction — against the embedded, C and OCaml xenstored, with hostile
 * writes made through real guest connections.
 */

import assert from "node:assert/strict";
import { connect, type XenstoreClient } from "../../lib/client/mod.ts";
import { addDevice } from "../../lib/libxl/device_add.ts";
import { vbd } from "../../lib/libxl/devices/vbd.ts";
import { vif } from "../../lib/libxl/devices/vif.ts";
import { doctor, type DoctorReport, type DoctorStore } from "../../lib/libxl/doctor.ts";
import { makeDomain } from "../../lib/libxl/domain.ts";
import { destroyDomain } from "../../lib/libxl/domain_destroy.ts";
import { backendPath } from "../../lib/libxl/paths.ts";
import { SimulatedBackend } from "../../lib/libxl/sim_backend.ts";
import { SimulatedHypervisor } from "../../lib/libxl/hypervisor.ts";
import { formatTree } from "../../lib/libxl/tree.ts";
import { XenbusState } from "../../lib/libxl/xenbus_state.ts";
import { waitForXenbusState } from "../../lib/libxl/xenbus_wait.ts";
import { forEachServer, refxsCtl, type TestServer } from "../_helpers/servers.ts";
import { recording, type TestHypervisor, testHypervisor } from "./_helpers.ts";

interface World {
  xs: XenstoreClient;
  hv: TestHypervisor;
  /** Domains destroyed behind the toolstack's back (embedded server bookkeeping). */
  killed: Set<number>;
  /** The hypervisor's domain table, as `listDomains` wants it. */
  listDomains: () => Promise<number[]>;
  /** Kills a domain in the hypervisor without any toolstack cleanup. */
  kill(domid: number): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function world(server: TestServer): Promise<World> {
  const xs = await connect({ path: server.socket });
  const hv = testHypervisor(server, xs);
  const killed = new Set<number>();
  return {
    xs,
    hv,
    killed,
    listDomains: async () => {
      if (server.kind === "embedded") {
        return [0, ...hv.hypervisor.domains.filter((d) => !killed.has(d))];
      }
      const reply = await refxsCtl(server.dir, "list"); // "OK 0 5:mapped"
      return reply.split(/\s+/).slice(1).map((t) => Number.parseInt(t, 10));
    },
    async kill(domid) {
      killed.add(domid);
      await server.destroyDomain(domid);
    },
    async [Symbol.asyncDispose]() {
      await xs.close();
    },
  };
}

/** Makes a domain with a disk and a NIC, as `xl create` + block-attach + network-attach. */
async function guest(w: World, name: string): Promise<number> {
  const { domid } = await makeDomain(w.xs, {
    hypervisor: w.hv.hypervisor,
    name,
    maxMemKb: 65536,
  });
  await addDevice(w.xs, vbd({ domid, vdev: "xvda", target: `/dev/loop${domid}` }));
  await addDevice(w.xs, vif({ domid, devid: 0, mac: `00:16:3e:00:00:0${domid}` }));
  for (const kind of ["vbd", "vif"] as const) {
    const devid = kind === "vbd" ? 51712 : 0;
    const be = backendPath({ domid, devid, backendDomid: 0, backendKind: kind });
    await waitForXenbusState(w.xs, `${be}/state`, { state: XenbusState.Connected });
  }
  return domid;
}

/** Everything doctor can touch, as `xenstore-ls -f -p` lines. */
async function tree(xs: XenstoreClient): Promise<string> {
  return (await formatTree(xs, "/libxl")) + (await formatTree(xs, "/vm")) +
    (await formatTree(xs, "/local"));
}

function kinds(report: DoctorReport): string[] {
  return report.findings.map((f) => `${f.kind} ${f.path}`);
}

forEachServer("doctor() finds nothing in a healthy store", async (_t, server) => {
  await using w = await world(server);
  await using _backend = await SimulatedBackend.start(w.xs, { kinds: ["vbd", "vif"] });
  await guest(w, "web");
  await guest(w, "db");
  assert.deepEqual(kinds(await doctor(w.xs)), []);
  const report = await doctor(w.xs, { listDomains: w.listDomains, fix: true });
  assert.deepEqual(kinds(report), []);
  assert.deepEqual(report.changes, []);
  assert.equal(report.usedDomainList, true);
});

forEachServer(
  "doctor() removes a dead domain's records, home, /vm and backends in one transaction, leaving what destroyDomain leaves",
  async (_t, server) => {
    await using w = await world(server);
    await using _backend = await SimulatedBackend.start(w.xs, { kinds: ["vbd", "vif"] });
    const survivor = await guest(w, "survivor");
    const expected = await tree(w.xs);
    const dead = await guest(w, "dead");
    await w.kill(dead); // the hypervisor lost it; nobody ran the toolstack's teardown

    // Without the hypervisor's list, a not-introduced domain may be one being built: left.
    const cautious = await doctor(w.xs, { fix: true });
    assert.deepEqual(kinds(cautious), [`unverified-domain /libxl/${dead}`]);
    assert.deepEqual(cautious.changes, []);
    assert.equal(await w.xs.exists(`/libxl/${dead}`), true);

    const { store, log } = recording(w.xs);
    const doctorStore: DoctorStore = Object.assign(store, {
      isDomainIntroduced: (d: number) => w.xs.isDomainIntroduced(d),
    });
    const report = await doctor(doctorStore, { fix: true, listDomains: w.listDomains });
    assert.deepEqual(kinds(report), [`stale-domain /libxl/${dead}`]);
    const removed = report.changes.map((c) => c.path);
    assert.ok(removed.includes(`/libxl/${dead}`) && removed.includes(`/local/domain/${dead}`));
    assert.ok(removed.includes(`/local/domain/0/backend/vbd/${dead}/51712`));
    assert.ok(removed.some((p) => p.startsWith("/vm/")));
    const rmTx = new Set(log.filter((e) => e.line.startsWith("RM |")).map((e) => e.tx));
    assert.equal(rmTx.size, 1, "every removal in one transaction");
    assert.notEqual([...rmTx][0], 0);
    assert.equal(await tree(w.xs), expected);
    assert.equal((await w.xs.directory("/libxl")).includes(String(survivor)), true);
    assert.deepEqual(kinds(await doctor(w.xs, { listDomains: w.listDomains })), []);
  },
);

forEachServer(
  "doctor() finishes a teardown that stopped after removing the home, without the hypervisor's list",
  async (_t, server) => {
    await using w = await world(server);
    await using _backend = await SimulatedBackend.start(w.xs, { kinds: ["vbd", "vif"] });
    await guest(w, "survivor");
    const expected = await tree(w.xs);
    const half = await guest(w, "half");
    // destroyDomain's order: devices, /vm/<uuid>, ~, /libxl/<domid>; stop before the last.
    const vm = await w.xs.read(`/local/domain/${half}/vm`);
    await w.xs.rm(vm);
    await w.xs.rm(`/local/domain/${half}`);
    const report = await doctor(w.xs, { fix: true });
    assert.deepEqual(kinds(report), [`stale-domain /libxl/${half}`]);
    assert.equal(await tree(w.xs), expected);
    await w.kill(half);
  },
);

forEachServer(
  "doctor() removes stale /vm entries, unrecorded backends and emptied parents, and says what it removed",
  async (_t, server) => {
    await using w = await world(server);
    await using _backend = await SimulatedBackend.start(w.xs, { kinds: ["vbd", "vif"] });
    const d = await guest(w, "web");
    const expected = await tree(w.xs);
    const uuid = "0badc0de-0000-4000-8000-000000000001";
    await w.xs.write(`/vm/${uuid}/name`, "ghost");
    await w.xs.write(`/local/domain/0/backend/vbd/${d}/51800/state`, "4");
    await w.xs.write(`/local/domain/0/backend/vif/99/0/state`, "6");
    await w.xs.mkdir(`/local/domain/0/backend/vkbd/${d}`);
    await w.xs.mkdir(`/libxl/${d}/device/vfb`);
    await w.xs.mkdir(`/local/domain/${d}/device/vkbd`);
    const damaged = await tree(w.xs);
    const report = await doctor(w.xs, { listDomains: w.listDomains });
    assert.equal(await tree(w.xs), damaged, "reporting changes nothing");
    assert.deepEqual(
      kinds(report).sort(),
      [
        `orphan-backend /local/domain/0/backend/vbd/${d}/51800`,
        `orphan-backend /local/domain/0/backend/vif/99/0`,
        `empty-parent /local/domain/0/backend/vkbd/${d}`,
        `empty-parent /local/domain/${d}/device/vkbd`,
        `empty-parent /libxl/${d}/device/vfb`,
        `stale-vm /vm/${uuid}`,
      ].sort(),
    );
    const fixed = await doctor(w.xs, { listDomains: w.listDomains, fix: true });
    assert.deepEqual(
      fixed.changes.map((c) => c.path).sort(),
      [
        `/libxl/${d}/device/vfb`,
        `/local/domain/${d}/device/vkbd`,
        `/local/domain/0/backend/vbd/${d}/51800`,
        `/local/domain/0/backend/vif/99`,
        `/local/domain/0/backend/vif/99/0`,
        `/local/domain/0/backend/vkbd`,
        `/local/domain/0/backend/vkbd/${d}`,
        `/vm/${uuid}`,
      ].sort(),
    );
    assert.equal(await tree(w.xs), expected);
  },
);

forEachServer(
  "doctor() reports trust-rule violations (guest-readable /libxl, redirected frontend, guest-owned backend node) and never 'fixes' them",
  async (_t, server) => {
    await using w = await world(server);
    await using _backend = await SimulatedBackend.start(w.xs, { kinds: ["vbd", "vif"] });
    const victim = await guest(w, "victim");
    const evil = await guest(w, "evil");
    const victimDisk = `/local/domain/0/backend/vbd/${victim}/51712`;
    const evilDisk = `/local/domain/0/backend/vbd/${evil}/51712`;
    // A buggy toolstack let the guest read its record and own a backend node.
    await w.xs.setPerms(`/libxl/${evil}/device/vif/0`, `n0,r${evil}`);
    await w.xs.setPerms(`${evilDisk}/state`, `n${evil},r0`);
    // A malformed record: its backend is another domain's.
    await w.xs.write(`/libxl/${evil}/device/vbd/51728/backend`, victimDisk);
    await w.xs.write(`/libxl/${evil}/device/vbd/51728/frontend`, `/local/domain/${evil}/x`);
    {
      // The guest redirects its frontend and scribbles on the backend node it was given.
      await using g = await connect({ path: w.hv.guestSocket(evil) });
      await g.write("device/vbd/51712/backend", victimDisk);
      await g.write(`${evilDisk}/state`, "4");
      assert.ok((await g.directory(`/libxl/${evil}/device/vif/0`)).includes("mac"));
    }
    const before = await tree(w.xs);
    const report = await doctor(w.xs, { listDomains: w.listDomains, fix: true });
    assert.deepEqual(report.changes, []);
    assert.equal(await tree(w.xs), before);
    const got = new Set(kinds(report));
    for (
      const want of [
        `libxl-guest-access /libxl/${evil}/device/vif/0`,
        `frontend-redirected /local/domain/${evil}/device/vbd/51712/backend`,
        `guest-owned-backend-node ${evilDisk}/state`,
        `malformed-record /libxl/${evil}/device/vbd/51728`,
      ]
    ) {
      assert.ok(got.has(want), `${want} in ${[...got].join(", ")}`);
    }
    const redirect = report.findings.find((f) => f.kind === "frontend-redirected")!;
    assert.equal(redirect.domid, evil);
    assert.match(redirect.message, new RegExp(`domain ${evil} redirected its frontend`));
    // The toolstack still tears the right things down.
    await destroyDomain(w.xs, evil, { hypervisor: w.hv.hypervisor, timeoutMs: 2000 });
    assert.equal(await w.xs.exists(victimDisk), true);
  },
);

forEachServer(
  "doctor() reports a domain a killed apply left in the hypervisor without records, and leaves it",
  async (_t, server) => {
    await using w = await world(server);
    // The embedded test server's guest() also writes a home and INTRODUCEs: a bare
    // simulated hypervisor (whose table is the list) stands for the hypervisor there.
    const bare = new SimulatedHypervisor(w.xs);
    const embedded = server.kind === "embedded";
    const made = embedded
      ? await bare.createDomain({ uuid: crypto.randomUUID() })
      : await w.hv.hypervisor.createDomain({ uuid: crypto.randomUUID() });
    const listDomains = embedded ? () => Promise.resolve([0, ...bare.domains]) : w.listDomains;
    const report = await doctor(w.xs, { listDomains, fix: true });
    assert.deepEqual(kinds(report), [`orphaned-domain /local/domain/${made.domid}`]);
    assert.match(report.findings[0]!.message, /killed before writing them/);
    assert.deepEqual(report.changes, []);
    // Without the hypervisor's list it cannot be seen at all.
    assert.deepEqual(kinds(await doctor(w.xs)), []);
  },
);

forEachServer(
  "doctor({ fix }) proves staleness at commit: a change between its reads and its commit reruns it",
  async (_t, server) => {
    await using w = await world(server);
    await using other = await connect({ path: server.socket });
    const uuid = "0badc0de-0000-4000-8000-000000000002";
    await w.xs.write(`/vm/${uuid}/name`, "claimed meanwhile");
    let calls = 0;
    const report = await doctor(w.xs, {
      fix: true,
      listDomains: async () => {
        calls++;
        // Call 1 ends the first look (outside a transaction), which finds the /vm entry
        // unowned; call 2 comes after the transaction's reads, before its commit: then a
        // toolstack makes domain 42, whose ~/vm claims the entry.
        if (calls === 2) await other.write("/local/domain/42/vm", `/vm/${uuid}`);
        return [...await w.listDomains(), 42];
      },
    });
    if (server.kind === "ocaml") {
      // real-daemons.md D13: oxenstored merges ("coalesces") transactions whose changes do
      // not overlap, where C says EAGAIN: the removal commits against the concurrent claim.
      // On oxenstored doctor's proof holds only against changes to the nodes it removes.
      assert.equal(calls, 2);
      assert.equal(await w.xs.exists(`/vm/${uuid}`), false);
      return;
    }
    assert.ok(calls >= 3, `the transaction ran again (${calls - 1} runs)`);
    assert.equal(await w.xs.exists(`/vm/${uuid}`), true, "the now-owned /vm entry stays");
    assert.deepEqual(report.changes, []);
    assert.ok(!report.findings.some((f) => f.kind === "stale-vm"), JSON.stringify(report));
  },
);
