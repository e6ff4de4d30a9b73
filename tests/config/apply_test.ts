/**
 * apply() and destroy() against every server (embedded, real C xenstored, oxenstored): the
 * tree of a new domain is what `xl create` writes plus its devices; re-apply writes nothing;
 * two appliers at once both succeed; a guest that tampers with its frontends changes no plan
 * and is never followed (XSA-175); conflicts exhaust attempts cleanly; backends that do not
 * answer are named.
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import type { Transaction, TransactionOptions } from "../../lib/client/types.ts";
import { SimulatedBackend } from "../../lib/libxl/sim_backend.ts";
import type { LibxlStore } from "../../lib/libxl/store.ts";
import { formatTree } from "../../lib/libxl/tree.ts";
import { apply, destroy } from "../../lib/config/apply.ts";
import type { ApplyEvent } from "../../lib/config/apply.ts";
import {
  ApplyConflictError,
  DeviceWaitTimeoutError,
  StalePlanError,
} from "../../lib/config/errors.ts";
import { readLive } from "../../lib/config/live.ts";
import { plan, planJson } from "../../lib/config/plan.ts";
import { validateConfig } from "../../lib/config/validate.ts";
import { forEachServer, refxsUnavailable, startServer } from "../_helpers/servers.ts";
import type { ServerKind, TestServer } from "../_helpers/servers.ts";
import { fixture, lastTransaction, recording, testHypervisor } from "../libxl/_helpers.ts";
import { vbd } from "../../lib/libxl/devices/vbd.ts";
import { vif } from "../../lib/libxl/devices/vif.ts";
import { makeDomain } from "../../lib/libxl/domain_create.ts";
import { summary } from "./_helpers.ts";

const UUID = "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
const NOW = () => 1795611510820;

/** guest1 of the golden capture, with the disk and nic of the golden device captures. */
const GUEST1 = validateConfig({
  domains: [{
    name: "guest1",
    uuid: UUID,
    memory: "256M",
    vcpus: 2,
    kernel: "/srv/xen/vmlinuz",
    disks: ["phy:/dev/loop0,xvdb,w"],
    nics: [{ mac: "00:16:3e:aa:bb:cc" }],
  }],
}, { script: "guest1.ts" });

async function guest1Tree(xs: LibxlStore): Promise<string> {
  return (await formatTree(xs, "/local/domain/1")) + (await formatTree(xs, `/vm/${UUID}`)) +
    (await formatTree(xs, "/libxl/1")) + (await formatTree(xs, "/local/domain/0/backend"));
}

const WRITES = /^(WRITE|MKDIR|RM|SET_PERMS) /;

forEachServer(
  "apply() writes xl create's tree plus the devices, in one transaction",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    const rec = recording(xs);
    const result = await apply(rec.store, GUEST1, { hypervisor, wait: false, now: NOW });
    assert.deepEqual(result.created, [{ domain: "guest1", domid: 1 }]);
    // Every write went inside one transaction (tx id != 0).
    const writes = rec.log.filter((e) => WRITES.test(e.line));
    assert.ok(writes.length > 100);
    assert.deepEqual([...new Set(writes.map((e) => e.tx))].length, 1);
    assert.notEqual(writes[0]!.tx, 0);
    await xs.write("/local/domain/1/console/tty", "/dev/pts/11"); // xenconsoled's part
    const tree = (await guest1Tree(xs)).split("\n").filter((l) => l !== "");
    const expected = [
      ...(await fixture("create-pv.connected.tree")).split("\n"),
      ...(await fixture("vbd-phy-xvdb.added.tree")).split("\n"),
      ...(await fixture("vif-mac.added.tree")).split("\n"),
      '/libxl/1/dxl = ""   (n0)',
      '/libxl/1/dxl/managed = "1"   (n0)',
      '/libxl/1/dxl/driver-domain = "0"   (n0)',
    ].filter((l) => l !== "");
    const have = new Set(tree);
    for (const line of expected) assert.ok(have.has(line), `missing: ${line}`);
    // Anything else is a directory the writes created on the way (an ancestor of a line).
    const paths = expected.map((l) => l.slice(0, l.indexOf(" = ")));
    for (const line of tree.filter((l) => !expected.includes(l))) {
      const path = line.slice(0, line.indexOf(" = "));
      assert.match(line, / = "" {3}\(/, `unexpected: ${line}`);
      assert.ok(paths.some((p) => p.startsWith(`${path}/`)), `unexpected: ${line}`);
    }
  },
);

forEachServer(
  "apply() sends a new domain's writes in makeDomain's order (xl create's), without its no-op SET_PERMS",
  async (_t, server) => {
    const changesOf = (lines: string[]) => lines.filter((l) => WRITES.test(l));
    const treeOf = async (xs: LibxlStore) =>
      (await formatTree(xs, "/")).split("\n").filter((l) => !l.startsWith("/libxl/1/dxl"));
    let applied: string[];
    let appliedTree: string[];
    {
      await using xs = await connect({ path: server.socket });
      const rec = recording(xs);
      await apply(rec.store, GUEST1, {
        hypervisor: testHypervisor(server, xs).hypervisor,
        wait: false,
        now: NOW,
      });
      applied = changesOf(lastTransaction(rec.log));
      appliedTree = await treeOf(xs);
    }
    await using twin = await startServer(server.kind);
    await using xs = await connect({ path: twin.socket });
    const rec = recording(xs);
    await makeDomain(rec.store, {
      hypervisor: testHypervisor(twin, xs).hypervisor,
      name: "guest1",
      uuid: UUID,
      maxMemKb: 262144,
      vcpus: 2,
      kernel: "/srv/xen/vmlinuz",
      now: NOW,
      devices: (domid) => [
        vbd({ domid, vdev: "xvdb", target: "/dev/loop0" }),
        vif({ domid, devid: 0, mac: "00:16:3e:aa:bb:cc" }),
      ],
    });
    // libxl's requests in libxl's order, less SET_PERMS lines only, then dxl's marks ...
    const libxl = changesOf(lastTransaction(rec.log));
    const dropped: string[] = [];
    let i = 0;
    for (const line of libxl) {
      if (applied[i] === line) i++;
      else dropped.push(line);
    }
    assert.deepEqual(applied.slice(i), [
      "WRITE | /libxl/1/dxl/managed | 1",
      "WRITE | /libxl/1/dxl/driver-domain | 0",
    ]);
    assert.deepEqual(dropped.filter((l) => !l.startsWith("SET_PERMS | ")), []);
    assert.ok(dropped.length >= 20, `only ${dropped.length} SET_PERMS left out`);
    assert.ok(dropped.includes("SET_PERMS | /local/domain/1/device/vif/0/mac | n1 | r0"));
    // ... and they changed nothing: the same tree, permissions and order included.
    assert.deepEqual(appliedTree, await treeOf(xs));
  },
);

Deno.test("apply() gives the same tree on the embedded, C and OCaml xenstored", async (t) => {
  const kinds: ServerKind[] = ["embedded"];
  if ((await refxsUnavailable()) === undefined) kinds.push("c", "ocaml");
  else if (Deno.env.get("CI") === "true") throw new Error("CI=true and refxs is unavailable");
  const trees = new Map<ServerKind, string[]>();
  for (const kind of kinds) {
    await t.step(kind, async () => {
      await using server = await startServer(kind);
      await using xs = await connect({ path: server.socket });
      const { hypervisor } = testHypervisor(server, xs);
      await apply(xs, GUEST1, { hypervisor, wait: false, now: NOW });
      // oxenstored lists children sorted: compare as sorted lines.
      trees.set(kind, (await guest1Tree(xs)).split("\n").sort());
    });
  }
  for (const kind of kinds.slice(1)) assert.deepEqual(trees.get(kind), trees.get("embedded"));
});

forEachServer("apply() again writes nothing; changes go in place", async (_t, server) => {
  await using xs = await connect({ path: server.socket });
  const { hypervisor } = testHypervisor(server, xs);
  await using _backend = await SimulatedBackend.start(xs);
  const site = (memory: string, disks: string[]) =>
    validateConfig({
      domains: [{ name: "web", memory, maxmem: "1G", disks, nics: [{}] }],
    });
  const first = site("512M", ["phy:/dev/vg0/web,xvda,w"]);
  await apply(xs, first, { hypervisor });
  const rec = recording(xs);
  const again = await apply(rec.store, first, { hypervisor });
  assert.equal(again.attempts, 0);
  assert.deepEqual(rec.log.filter((e) => WRITES.test(e.line)), []);
  // In place: memory target; a disk swapped.
  const events: ApplyEvent[] = [];
  const second = await apply(xs, site("256M", ["phy:/dev/vg0/web2,xvdb,w"]), {
    hypervisor,
    onProgress: (e) => events.push(e),
  });
  assert.deepEqual(summary(second.plan), [
    "update domain web (memory 512M -> 256M)",
    "create xvdb of web",
    "remove xvda of web",
  ]);
  assert.equal(await xs.read("/local/domain/1/memory/target"), "262144");
  assert.deepEqual(
    events.filter((e) => e.type.startsWith("device-")).map((e) => e.type).sort(),
    ["device-closed", "device-connected"],
  );
  assert.deepEqual(await xs.directory("/libxl/1/device/vbd"), ["51728"]);
  assert.equal(await xs.tryRead("/local/domain/0/backend/vbd/1/51712"), undefined);
  // destroy: nothing of web is left.
  await destroy(xs, first, { hypervisor });
  assert.deepEqual((await readLive(xs)).domains.filter((d) => d.managed), []);
  assert.equal(await xs.tryRead("/libxl/1"), undefined);
  assert.equal(await xs.tryRead("/local/domain/0/backend/vif/1"), undefined);
});

forEachServer("two appliers of overlapping configs at once both succeed", async (_t, server) => {
  await using a = await connect({ path: server.socket });
  await using b = await connect({ path: server.socket });
  // Separate hypervisors hand out separate ids (a real one never hands out one twice).
  const hvA = testHypervisor(server, a, 1).hypervisor;
  const hvB = testHypervisor(server, b, 100).hypervisor;
  const web = { name: "web", memory: "512M", nics: [{ mac: "00:16:3e:00:00:01" }] };
  const configA = validateConfig({ domains: [web, { name: "db", disks: ["/dev/db,raw,xvda"] }] });
  const configB = validateConfig({ domains: [web, { name: "cache", nics: [{}] }] });
  const conflicts: number[] = [];
  const [ra, rb] = await Promise.all([
    apply(a, configA, { hypervisor: hvA, wait: false }),
    apply(b, configB, {
      hypervisor: hvB,
      wait: false,
      onProgress: (e) => e.type === "conflict" && conflicts.push(e.attempt),
    }),
  ]);
  const live = (await readLive(a)).domains.filter((d) => d.managed);
  assert.deepEqual(live.map((d) => d.name).sort(), ["cache", "db", "web"]);
  // No lost update: both configs hold, and each applier's plan is now empty.
  assert.deepEqual(plan(configA, await readLive(a)).actions.map((x) => x.kind), ["noop", "noop"]);
  assert.deepEqual(plan(configB, await readLive(b)).actions.map((x) => x.kind), ["noop", "noop"]);
  // web was made once; the loser's extra domain was destroyed again.
  const made = [...ra.created, ...rb.created].filter((c) => c.domain === "web");
  assert.equal(made.length, 1);
  assert.deepEqual(
    [...hvA.domains, ...hvB.domains].sort((x, y) => x - y),
    live.map((d) => d.domid).sort((x, y) => x - y),
  );
});

/**
 * A store whose apply transactions (the ones run with a single attempt) are each spoiled by
 * another writer just before they commit.
 */
function alwaysConflicting(xs: LibxlStore, other: LibxlStore): LibxlStore {
  let n = 0;
  return {
    ...xs,
    read: (p) => xs.read(p),
    readBytes: (p) => xs.readBytes(p),
    tryRead: (p) => xs.tryRead(p),
    write: (p, v) => xs.write(p, v),
    mkdir: (p) => xs.mkdir(p),
    rm: (p) => xs.rm(p),
    directory: (p) => xs.directory(p),
    exists: (p) => xs.exists(p),
    getPerms: (p) => xs.getPerms(p),
    setPerms: (p, perms) => xs.setPerms(p, perms),
    watch: (p, o) => xs.watch(p, o),
    transaction<T>(fn: (tx: Transaction) => Promise<T>, options?: TransactionOptions) {
      if (options?.attempts !== 1) return xs.transaction(fn, options);
      return xs.transaction(async (tx) => {
        const result = await fn(tx);
        await other.write(`/local/domain/${900 + (n++ % 50)}/name`, "intruder");
        return result;
      }, options);
    },
  };
}

forEachServer(
  "apply() gives up after its attempts and leaves no domain behind",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    await using other = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    const events: ApplyEvent[] = [];
    await assert.rejects(
      apply(alwaysConflicting(xs, other), GUEST1, {
        hypervisor,
        attempts: 3,
        onProgress: (e) => events.push(e),
      }),
      (e: unknown) => {
        assert.ok(e instanceof ApplyConflictError, String(e));
        assert.equal(e.attempts, 3);
        assert.match(e.message, /3 attempts/);
        return true;
      },
    );
    assert.deepEqual(events.filter((e) => e.type === "conflict").map((e) => e.type), [
      "conflict",
      "conflict",
      "conflict",
    ]);
    assert.deepEqual(hypervisor.domains, []);
    assert.equal(await xs.tryRead("/libxl/1"), undefined);
    assert.equal(await xs.tryRead("/local/domain/1/name"), undefined);
  },
);

forEachServer("apply() names each backend that did not connect", async (_t, server) => {
  await using xs = await connect({ path: server.socket });
  const { hypervisor } = testHypervisor(server, xs);
  await using _silent = await SimulatedBackend.start(xs, { behaviour: "silent" });
  await assert.rejects(
    apply(xs, GUEST1, { hypervisor, timeoutMs: 300, now: NOW }),
    (e: unknown) => {
      assert.ok(e instanceof DeviceWaitTimeoutError);
      assert.deepEqual(e.devices.map((d) => `${d.device} ${d.wanted} ${d.state}`), [
        "vbd 51728 of domain 1 connected 1 (Initialising)",
        "vif 0 of domain 1 connected 1 (Initialising)",
      ]);
      return true;
    },
  );
  // The transaction had committed: the domain is there, and a re-apply has nothing to do.
  assert.equal((await apply(xs, GUEST1, { hypervisor, wait: false })).attempts, 0);
});

/** What a malicious guest does to its own frontends and home. */
async function tamper(server: TestServer, socket: string, domid: number): Promise<void> {
  await using guest = await connect({ path: socket });
  const home = `/local/domain/${domid}`;
  await guest.rm(`${home}/device/vbd/51728`); // delete a frontend
  // redirect a frontend to another domain's backend
  await guest.write(`${home}/device/vif/0/backend`, "/local/domain/0/backend/vif/9/0");
  await guest.write(`${home}/device/vif/0/backend-id`, "7");
  // garbage wherever it may write
  await guest.write(`${home}/data/junk`, "\x00\xff garbage");
  await guest.write(`${home}/device/vif/0/junk`, "/libxl/9");
  await guest.write(`${home}/control/shutdown`, "poweroff");
  void server;
}

forEachServer(
  "a guest tampering with its frontends changes no plan and is never followed (XSA-175)",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const th = testHypervisor(server, xs);
    const config = validateConfig({
      domains: [{
        name: "evil",
        disks: ["phy:/dev/loop0,xvdb,w"],
        nics: [{ mac: "00:16:3e:00:00:07" }],
      }],
    });
    await apply(xs, config, { hypervisor: th.hypervisor, wait: false });
    // Another domain (not dxl's) whose backend the guest points at.
    await xs.write("/local/domain/0/backend/vif/9/0/state", "4");
    await xs.write("/local/domain/0/backend/vif/9/0/frontend", "/local/domain/9/device/vif/0");
    const before = plan(config, await readLive(xs));
    await tamper(server, th.guestSocket(1), 1);
    const after = plan(config, await readLive(xs));
    assert.deepEqual(after, before);
    assert.deepEqual(summary(after), ["noop domain evil"]);
    const rec = recording(xs);
    assert.equal((await apply(rec.store, config, { hypervisor: th.hypervisor })).attempts, 0);
    assert.deepEqual(rec.log.filter((e) => WRITES.test(e.line)), []);
    // destroy removes what /libxl records, nothing the guest pointed at.
    const rec2 = recording(xs);
    await destroy(rec2.store, config, { hypervisor: th.hypervisor, timeoutMs: 200 }).catch(
      () => {},
    );
    const touched = rec2.log.filter((e) => WRITES.test(e.line)).map((e) => e.line);
    assert.ok(touched.length > 0);
    for (const line of touched) {
      assert.ok(!line.includes("/backend/vif/9/"), `followed the guest: ${line}`);
      assert.ok(!line.includes("/libxl/9"), `followed the guest: ${line}`);
    }
    assert.equal(await xs.read("/local/domain/0/backend/vif/9/0/state"), "4");
    assert.equal(await xs.tryRead("/libxl/1"), undefined);
  },
);

forEachServer("apply() changes an HVM guest's cdrom media in place", async (_t, server) => {
  await using xs = await connect({ path: server.socket });
  const { hypervisor } = testHypervisor(server, xs);
  const site = (iso: string) =>
    validateConfig({
      domains: [{ name: "win", type: "hvm", disks: [`${iso},raw,hdc,r,devtype=cdrom`] }],
    });
  await apply(xs, site("/srv/a.iso"), { hypervisor, wait: false });
  const p = plan(site("/srv/b.iso"), await readLive(xs));
  assert.deepEqual(summary(p), ["update hdc of win (params aio:/srv/a.iso -> aio:/srv/b.iso)"]);
  await apply(xs, p, { hypervisor, wait: false });
  assert.equal(await xs.read("/local/domain/0/backend/qdisk/1/5632/params"), "aio:/srv/b.iso");
  assert.equal(await xs.read("/libxl/1/device/vbd/5632/params"), "aio:/srv/b.iso");
  assert.deepEqual(summary(plan(site("/srv/b.iso"), await readLive(xs))), ["noop domain win"]);
});

forEachServer("apply() replaces a domain libxl cannot change, and prunes", async (_t, server) => {
  await using xs = await connect({ path: server.socket });
  const { hypervisor } = testHypervisor(server, xs);
  await using _backend = await SimulatedBackend.start(xs);
  const web = (type: string) => ({ name: "web", type, disks: ["phy:/dev/vg0/web,xvda,w"] });
  await apply(xs, validateConfig({ domains: [web("pv"), { name: "old", nics: [{}] }] }), {
    hypervisor,
  });
  const events: ApplyEvent[] = [];
  const result = await apply(xs, validateConfig({ domains: [web("pvh")] }), {
    hypervisor,
    prune: true,
    onProgress: (e) => events.push(e),
  });
  assert.deepEqual(summary(result.plan), [
    "replace domain web (type pv -> pvh)",
    "remove domain old",
  ]);
  assert.deepEqual(result.created, [{ domain: "web", domid: 3 }]);
  assert.deepEqual(
    events.filter((e) => e.type === "domain-destroyed").map((e) =>
      e.type === "domain-destroyed" && e.domid
    ).sort(),
    [1, 2],
  );
  const live = (await readLive(xs)).domains.filter((d) => d.managed);
  assert.deepEqual(live.map((d) => [d.domid, d.name, d.type]), [[3, "web", "pvh"]]);
  for (const gone of [1, 2]) {
    assert.equal(await xs.tryRead(`/libxl/${gone}`), undefined);
    assert.equal(await xs.tryRead(`/local/domain/${gone}/name`), undefined);
  }
  assert.equal(await xs.tryRead("/local/domain/0/backend/vbd/1"), undefined);
  assert.equal(await xs.read("/local/domain/0/backend/vbd/3/51712/state"), "4");
  assert.deepEqual(hypervisor.domains, [3]);
});

forEachServer(
  "apply() takes a saved plan, and refuses one the store has moved past",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    const config = validateConfig({ domains: [{ name: "web", memory: "256M", maxmem: "1G" }] });
    // A plan saved as JSON (what `dxl plan --json` prints) applies as the value it was.
    const saved = JSON.parse(planJson(plan(config, await readLive(xs))));
    assert.deepEqual((await apply(xs, saved, { hypervisor, wait: false })).created, [
      { domain: "web", domid: 1 },
    ]);
    // Planned, then someone changes the memory target: the plan is stale, nothing is written.
    const grow = validateConfig({ domains: [{ name: "web", memory: "512M", maxmem: "1G" }] });
    const stale = plan(grow, await readLive(xs));
    await xs.write("/local/domain/1/memory/target", "524288");
    const rec = recording(xs);
    await assert.rejects(apply(rec.store, stale, { hypervisor }), (e: unknown) => {
      assert.ok(e instanceof StalePlanError);
      assert.deepEqual(e.actions, []);
      assert.match(e.message, /a fresh plan would: nothing/);
      return true;
    });
    assert.deepEqual(rec.log.filter((e) => WRITES.test(e.line)), []);
  },
);
