/**
 * Operations on a running domain, on every server, with the values and permissions libxl
 * leaves (Xen 4.17):
 * - libxl_set_memory_target (libxl_mem.c): memory/target = new KiB, /vm/<uuid>/memory =
 *   KiB / 1024, both in one transaction; existing nodes keep their permissions, the mirror
 *   inherits /vm/<uuid>'s (n0, r<domid>, set by libxl__domain_make's roperm);
 * - libxl__set_vcpuonline_xenstore (libxl_domain.c): cpu/<n>/availability online|offline for
 *   n = 0..vcpu_max_id, one transaction (the nodes keep ~/cpu's roperm);
 * - libxl__domain_pvcontrol: control/shutdown = request, outside a transaction, then a wait
 *   until it is "" or gone (suspend: anything but "suspend"); the node stays the guest's
 *   (rwperm: n<domid>);
 * - libxl_send_sysrq (libxl.c): control/sysrq = "%c" (node also the guest's).
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { sendSysrq, shutdownDomain } from "../../lib/libxl/domain_control.ts";
import { makeDomain } from "../../lib/libxl/domain_create.ts";
import { setMemoryTarget, setVcpusOnline } from "../../lib/libxl/domain_resources.ts";
import {
  ControlTimeoutError,
  DomainNotFoundError,
  NoParavirtError,
} from "../../lib/libxl/errors.ts";
import { forEachServer } from "../_helpers/servers.ts";
import { lastTransaction, manualTimer, recording, testHypervisor, until } from "./_helpers.ts";

const UUID = "4f1c2b3a-5d6e-4f70-8a9b-c0d1e2f3a4b5";

forEachServer(
  "setMemoryTarget() writes memory/target and the /vm mirror as libxl does",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    const { domid } = await makeDomain(xs, { hypervisor, name: "m", uuid: UUID, maxMemKb: 524288 });
    const home = `/local/domain/${domid}`;
    const rec = recording(xs);
    assert.deepEqual(await setMemoryTarget(rec.store, domid, { targetKb: 262144 }), {
      targetKb: 262144,
      vmMemoryMb: 256,
    });
    assert.deepEqual(lastTransaction(rec.log).filter((l) => l.startsWith("WRITE")), [
      `WRITE | ${home}/memory/target | 262144`,
      `WRITE | /vm/${UUID}/memory | 256`,
    ]);
    const ro = [{ domid: 0, access: "none" }, { domid, access: "read" }];
    assert.deepEqual(await xs.getPerms(`${home}/memory/target`), ro);
    assert.deepEqual(await xs.getPerms(`/vm/${UUID}/memory`), ro);
    // Relative: added to the current target; a KiB remainder is dropped from the MiB mirror.
    await setMemoryTarget(xs, domid, { targetKb: -1000, relative: true });
    assert.equal(await xs.read(`${home}/memory/target`), "261144");
    assert.equal(await xs.read(`/vm/${UUID}/memory`), "255");
    await setMemoryTarget(xs, domid, { targetKb: -10_000_000, relative: true });
    assert.equal(await xs.read(`${home}/memory/target`), "0", "a negative result is 0");
    // Absolute targets count videoram in: target = asked - videoram.
    await xs.write(`${home}/memory/videoram`, "8192");
    await setMemoryTarget(xs, domid, { targetKb: 262144 });
    assert.equal(await xs.read(`${home}/memory/target`), "253952");
    // Above static-max: refused, nothing written.
    await assert.rejects(
      setMemoryTarget(xs, domid, { targetKb: 524288 + 8192 + 1 }),
      (e: unknown) => e instanceof RangeError && /memory_static_max/.test(e.message),
    );
    assert.equal(await xs.read(`${home}/memory/target`), "253952");
    assert.equal(await xs.read(`/vm/${UUID}/memory`), "248");
  },
);

forEachServer("setMemoryTarget() rejects bad input", async (_t, server) => {
  await using xs = await connect({ path: server.socket });
  const { hypervisor } = testHypervisor(server, xs);
  const { domid } = await makeDomain(xs, { hypervisor, name: "m", maxMemKb: 65536 });
  assert.throws(() => setMemoryTarget(xs, domid, { targetKb: -1 }), RangeError);
  assert.throws(() => setMemoryTarget(xs, domid, { targetKb: 1.5 }), RangeError);
  assert.throws(() => setMemoryTarget(xs, -1, { targetKb: 1 }), RangeError);
  await assert.rejects(setMemoryTarget(xs, 99, { targetKb: 1 }), DomainNotFoundError);
  await xs.write(`/local/domain/${domid}/memory/target`, "12x");
  await assert.rejects(
    setMemoryTarget(xs, domid, { targetKb: 1024 }),
    (e: unknown) => e instanceof RangeError && /Invalid memory value "12x"/.test(e.message),
  );
});

forEachServer(
  "setVcpusOnline() writes every cpu/<n>/availability in one transaction",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    const { domid } = await makeDomain(xs, { hypervisor, name: "v", maxMemKb: 65536, vcpus: 4 });
    const cpu = `/local/domain/${domid}/cpu`;
    const rec = recording(xs);
    assert.deepEqual(await setVcpusOnline(rec.store, domid, { vcpus: 2 }), [0, 1]);
    assert.deepEqual(lastTransaction(rec.log).filter((l) => l.startsWith("WRITE")), [
      `WRITE | ${cpu}/0/availability | online`,
      `WRITE | ${cpu}/1/availability | online`,
      `WRITE | ${cpu}/2/availability | offline`,
      `WRITE | ${cpu}/3/availability | offline`,
    ]);
    assert.deepEqual(await xs.getPerms(`${cpu}/3/availability`), [
      { domid: 0, access: "none" },
      { domid, access: "read" },
    ]);
    await setVcpusOnline(xs, domid, { vcpus: [3, 0] });
    const states = await Promise.all([0, 1, 2, 3].map((i) => xs.read(`${cpu}/${i}/availability`)));
    assert.deepEqual(states, ["online", "offline", "offline", "online"]);
    // Bad input: libxl's words; nothing written.
    assert.throws(() => setVcpusOnline(xs, domid, { vcpus: 0 }), /Requested 0 VCPUs!/);
    assert.throws(() => setVcpusOnline(xs, domid, { vcpus: -1 }), RangeError);
    await assert.rejects(
      setVcpusOnline(xs, domid, { vcpus: 5 }),
      /Requested 5 VCPUs, however maxcpus is 4!/,
    );
    await assert.rejects(setVcpusOnline(xs, domid, { vcpus: [7] }), /vCPU 7 does not exist/);
    await assert.rejects(setVcpusOnline(xs, 99, { vcpus: 1 }), DomainNotFoundError);
    assert.equal(await xs.read(`${cpu}/3/availability`), "online");
  },
);

forEachServer(
  "shutdownDomain() writes control/shutdown and waits for the guest to clear it",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const hv = testHypervisor(server, xs);
    const { domid } = await makeDomain(xs, {
      hypervisor: hv.hypervisor,
      name: "s",
      maxMemKb: 65536,
    });
    const node = `/local/domain/${domid}/control/shutdown`;
    await using guest = await connect({ path: hv.guestSocket(domid) });
    const rec = recording(xs);
    const done = shutdownDomain(rec.store, domid, { request: "reboot" });
    // The guest (its own unprivileged connection) sees the request and acknowledges it.
    await until(async () => (await guest.tryRead(node)) === "reboot", "the request");
    assert.deepEqual(rec.log.filter((e) => e.line.startsWith("WRITE")), [
      { tx: 0, line: `WRITE | ${node} | reboot` },
    ], "written outside a transaction");
    await guest.write(node, "");
    await done;
    assert.deepEqual(await xs.getPerms(node), [{ domid, access: "none" }], "still the guest's");
    // Suspend is acknowledged by any other value.
    const suspending = shutdownDomain(xs, domid, { request: "suspend" });
    await until(async () => (await guest.tryRead(node)) === "suspend", "the suspend request");
    await guest.write(node, "done");
    await suspending;
  },
);

forEachServer(
  "shutdownDomain() times out as libxl does, cancelling only a suspend",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    const { domid } = await makeDomain(xs, { hypervisor, name: "t", maxMemKb: 65536 });
    const node = `/local/domain/${domid}/control/shutdown`;
    let clock = 0;
    const timer = manualTimer();
    const pending = shutdownDomain(xs, domid, { delay: timer.delay, now: () => clock });
    await until(() => timer.waiting === 1, "the timer");
    clock = 60_000;
    timer.fire();
    await assert.rejects(pending, (e: unknown) => {
      assert.ok(e instanceof ControlTimeoutError);
      assert.equal(e.request, "poweroff");
      assert.equal(e.value, "poweroff");
      assert.equal(e.waitedMs, 60_000);
      return true;
    });
    assert.equal(await xs.read(node), "poweroff", "a poweroff request is left in place");
    const suspend = shutdownDomain(xs, domid, { request: "suspend", delay: timer.delay });
    await until(() => timer.waiting === 1, "the timer");
    timer.fire();
    await assert.rejects(suspend, ControlTimeoutError);
    assert.equal(await xs.read(node), "", "an unanswered suspend is cancelled");
  },
);

forEachServer(
  "shutdownDomain() refuses an HVM guest without PV drivers, and bad input",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    const { domid } = await makeDomain(xs, { hypervisor, name: "h", type: "hvm", maxMemKb: 65536 });
    const control = `/local/domain/${domid}/control`;
    await assert.rejects(
      shutdownDomain(xs, domid, { request: "reboot" }),
      (e: unknown) => e instanceof NoParavirtError && /feature-reboot is ""/.test(e.message),
    );
    assert.equal(await xs.read(`${control}/shutdown`), "", "nothing was written");
    await xs.write(`${control}/feature-reboot`, "1"); // what the guest's PV drivers write
    await shutdownDomain(xs, domid, { request: "reboot", wait: false });
    assert.equal(await xs.read(`${control}/shutdown`), "reboot");
    await shutdownDomain(xs, domid, { request: "halt", pvDrivers: true, wait: false });
    assert.equal(await xs.read(`${control}/shutdown`), "halt");
    await assert.rejects(shutdownDomain(xs, domid, { request: "explode" as never }), TypeError);
    await assert.rejects(shutdownDomain(xs, 99), DomainNotFoundError);
    await assert.rejects(shutdownDomain(xs, domid, { timeoutMs: -1 }), RangeError);
  },
);

forEachServer("sendSysrq() writes one character to control/sysrq", async (_t, server) => {
  await using xs = await connect({ path: server.socket });
  const { hypervisor } = testHypervisor(server, xs);
  const { domid } = await makeDomain(xs, { hypervisor, name: "q", maxMemKb: 65536 });
  const node = `/local/domain/${domid}/control/sysrq`;
  await xs.transaction((tx) => sendSysrq(tx, domid, { key: "b" }));
  assert.equal(await xs.read(node), "b");
  assert.deepEqual(await xs.getPerms(node), [{ domid, access: "none" }]);
  for (const key of ["", "ab", " ", "\n"]) {
    assert.throws(() => sendSysrq(xs, domid, { key }), /Only one sysrq letter allowed/);
  }
  await assert.rejects(sendSysrq(xs, 99, { key: "s" }), DomainNotFoundError);
  assert.equal(await xs.exists("/local/domain/99"), false);
});
