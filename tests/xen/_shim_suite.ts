/**
 * The real-host suite, run by real_host_test.ts in a `deno test` subprocess with
 * `LD_PRELOAD` of fakexl inside a private mount namespace (so /etc/xen/scripts holds the
 * stand-in scripts, /var/lib/xen and /srv are temp dirs). XenHypervisor calls Debian's real
 * libxenctrl/libxenguest; only the hypercalls underneath are emulated, and real `xl` 4.17
 * runs against the same domain table and xenstored. Not a `_test.ts` file: it only makes
 * sense in that environment.
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { addDevice } from "../../lib/libxl/device_add.ts";
import type { DeviceSpec } from "../../lib/libxl/device.ts";
import type { DeviceRecord } from "../../lib/libxl/device_list.ts";
import { removeDevice } from "../../lib/libxl/device_remove.ts";
import { vbd } from "../../lib/libxl/devices/vbd.ts";
import { vif } from "../../lib/libxl/devices/vif.ts";
import { makeDomain, readDomainUuid } from "../../lib/libxl/domain.ts";
import { destroyDomain } from "../../lib/libxl/domain_destroy.ts";
import type { DomainBuildRequest } from "../../lib/libxl/hypervisor.ts";
import type { LibxlStore } from "../../lib/libxl/store.ts";
import { formatTree } from "../../lib/libxl/tree.ts";
import { XenbusState } from "../../lib/libxl/xenbus_state.ts";
import { waitForXenbusState } from "../../lib/libxl/xenbus_wait.ts";
import {
  InsufficientMemoryError,
  XenBuildRequestError,
  XenCallError,
} from "../../lib/xen/errors.ts";
import {
  connectDevice,
  finishCreate,
  forgetDomain,
  removalHook as hostRemovalHook,
} from "../../lib/xen/host.ts";
import { setHostMemoryTarget } from "../../lib/xen/host_memory.ts";
import { XenHypervisor } from "../../lib/xen/xen_hypervisor.ts";
import { ENV, startShimHost, waitFor } from "./_shim_host.ts";

const UUID = "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
const KERNEL = "/srv/xen/vmlinuz";
/** The capture's start_time ("1795611510.82"), passed through `now`. */
const CAPTURE_NOW = 1795611510820;

async function kernel(): Promise<void> {
  await Deno.mkdir("/srv/xen", { recursive: true });
  await Deno.writeTextFile(KERNEL, "not a kernel: the shim stands in for the image build\n");
}

/** `xl create` with dxl: makeDomain, then the config file (finishCreate; unpaused by the caller). */
async function create(
  xs: LibxlStore,
  hv: XenHypervisor,
  request: DomainBuildRequest & { name: string; maxMemKb: number },
  now?: () => number,
): Promise<number> {
  const { domid } = await makeDomain(xs, {
    hypervisor: hv,
    ...request,
    ...(now === undefined ? {} : { now }),
  });
  await finishCreate(domid, request, { hypervisor: hv, unpause: false });
  return domid;
}

async function userdataFiles(domid: number): Promise<string[]> {
  const names = [];
  for await (const e of Deno.readDir("/var/lib/xen")) {
    if (e.name.startsWith("userdata-") && e.name.split(".")[1] === String(domid)) {
      names.push(e.name);
    }
  }
  return names;
}

/** `xl list`'s row for `name`: [name, id, mem, vcpus, state, time]. */
function xlRow(listing: string, name: string): string[] | undefined {
  return listing.split("\n").map((l) => l.trim().split(/\s+/)).find((cols) => cols[0] === name);
}

async function storeTree(xs: LibxlStore, domid: number, uuid: string): Promise<string> {
  return (await formatTree(xs, `/local/domain/${domid}`)) + (await formatTree(xs, `/vm/${uuid}`)) +
    (await formatTree(xs, `/libxl/${domid}`)) + (await formatTree(xs, "/local/domain/0/backend"));
}

Deno.test("makeDomain with XenHypervisor: xl create's tree, xl list shows it, destroyDomain removes it", async () => {
  await using host = await startShimHost();
  await kernel();
  await using xs = await connect({ path: host.socket });
  using hv = new XenHypervisor(xs);
  const request = { uuid: UUID, name: "guest1", maxMemKb: 262144, vcpus: 2, kernel: KERNEL };
  const domid = await create(xs, hv, request, () => CAPTURE_NOW);
  assert.equal(domid, 1);
  assert.equal(await host.ctlList(), "OK 0 1:mapped", "the domain is in the shared table");
  // fakebackend plays xenconsoled: console/tty, as in the capture
  await waitFor(() => xs.tryRead("/local/domain/1/console/tty"), "console/tty");
  const golden = await Deno.readTextFile(`${ENV.refxs}/../golden/create-pv.tree`);
  assert.equal(await storeTree(xs, domid, UUID), golden);

  assert.deepEqual(await hv.getInfo(domid), {
    domid,
    uuid: UUID,
    state: "--p---", // new domains start paused
    memKb: 263168, // max memory: target + LIBXL_MAXMEM_CONSTANT
    maxMemKb: 263168,
    vcpus: 2,
    cpuTimeNs: 2_000_000_000, // the shim's figure
  });
  await hv.unpauseDomain(domid); // as xl create does last
  const row = xlRow(await host.xl("list"), "guest1");
  assert.deepEqual(row?.slice(0, 5), ["guest1", "1", "257", "2", "r-----"]);
  const long = JSON.parse(await host.xl("list", "-l", "guest1"));
  assert.equal(long[0]?.config?.c_info?.name, "guest1");
  assert.equal(long[0]?.config?.b_info?.max_memkb, 262144);
  assert.deepEqual(long[0]?.config?.b_info?.avail_vcpus, [0, 1]);

  const released = xs.watch("@releaseDomain", { initial: false });
  await released.ready;
  await destroyDomain(xs, domid, { hypervisor: hv });
  // xc_domain_destroy; xenstored then sees the domain die and fires @releaseDomain
  const fired = await released.next();
  assert.equal(fired.done, false);
  await released.return?.();
  await forgetDomain({ domid, uuid: UUID });
  assert.equal(await host.ctlList(), "OK 0");
  assert.equal(xlRow(await host.xl("list"), "guest1"), undefined);
  assert.equal(await storeTree(xs, domid, UUID), await formatTree(xs, "/local/domain/0/backend"));
  assert.equal(await xs.tryRead("/local/domain/1"), undefined);
  assert.deepEqual(await userdataFiles(domid), []);
});

Deno.test("a failing image build (FAKEXL_FAIL_BUILD) leaves no domain and no xenstore entries", async () => {
  await using host = await startShimHost();
  await kernel();
  await using xs = await connect({ path: host.socket });
  using hv = new XenHypervisor(xs);
  const before = await formatTree(xs, "/");
  Deno.env.set("FAKEXL_FAIL_BUILD", "1");
  try {
    await assert.rejects(
      makeDomain(xs, { hypervisor: hv, name: "broken", maxMemKb: 65536, kernel: KERNEL }),
      (e: unknown) => {
        assert.ok(e instanceof XenCallError, String(e));
        assert.equal(e.step, "xc_dom_boot_xen_init");
        assert.equal(e.message, "xc_dom_boot_xen_init failed for domain 1: ENOSYS");
        return true;
      },
    );
  } finally {
    Deno.env.delete("FAKEXL_FAIL_BUILD");
  }
  assert.equal(await host.ctlList(), "OK 0", "the domain was destroyed again");
  assert.equal(await formatTree(xs, "/"), before, "nothing written to xenstore");
  assert.equal(xlRow(await host.xl("list"), "broken"), undefined);
});

Deno.test("a missing kernel file is refused before any hypercall", async () => {
  await using host = await startShimHost();
  await kernel();
  await using xs = await connect({ path: host.socket });
  using hv = new XenHypervisor(xs);
  const log = `${host.dir}/hypercalls.log`;
  Deno.env.set("FAKEXL_LOG", log);
  const before = await formatTree(xs, "/");
  await assert.rejects(
    makeDomain(xs, { hypervisor: hv, name: "nokernel", maxMemKb: 65536, kernel: "/srv/xen/nope" }),
    (e: unknown) =>
      e instanceof XenBuildRequestError && e.field === "kernel" &&
      e.message.startsWith('Cannot build domain: kernel "/srv/xen/nope": '),
  );
  // PVH and HVM too (see ../../lib/xen/_build.ts checkBuildRequest)
  for (const type of ["pvh", "hvm"] as const) {
    await assert.rejects(
      makeDomain(xs, { hypervisor: hv, name: type, type, maxMemKb: 65536, kernel: KERNEL }),
      (e: unknown) =>
        e instanceof XenBuildRequestError && e.field === "type" &&
        e.message.startsWith(`Cannot build domain: type "${type}": `),
    );
  }
  const calls = () => Deno.readTextFile(log).catch(() => "");
  assert.doesNotMatch(await calls(), /domctl|evtchn|xc_dom|sysctl/, "no hypercall was made");
  assert.equal(await host.ctlList(), "OK 0");
  assert.equal(await formatTree(xs, "/"), before);
  // the log does record hypercalls: the same request with the kernel there makes some
  const { domid } = await makeDomain(xs, {
    hypervisor: hv,
    name: "withkernel",
    maxMemKb: 65536,
    kernel: KERNEL,
  });
  assert.match(await calls(), /domctl cmd=1 /);
  await destroyDomain(xs, domid, { hypervisor: hv });
  hv.close();
  await assert.rejects(hv.getInfo(0), /XenHypervisor is closed/);
});

/** dxl's add of a device as xl does it: write, InitWait, hotplug script, config file; then Connected. */
async function dxlAdd(xs: LibxlStore, spec: DeviceSpec): Promise<DeviceRecord> {
  await addDevice(xs, spec);
  const { record, hotplug } = await connectDevice(xs, spec);
  assert.equal(hotplug.status, "connected");
  await waitForXenbusState(xs, `${record.backendPath}/state`, {
    state: XenbusState.Connected,
    timeoutMs: 10_000,
  });
  return record;
}

const removalHook = (xs: LibxlStore) =>
  hostRemovalHook(xs, {
    onScriptError: (e) => {
      throw e;
    },
  });

Deno.test("dxl and real xl on one host: devices, hotplug scripts, config files", async () => {
  await using host = await startShimHost();
  await kernel();
  await Deno.writeTextFile("/srv/xen/dxl-disk.img", "");
  await Deno.writeTextFile("/srv/xen/initrd.img", "");
  await Deno.writeTextFile("/srv/xen/xl-disk.img", "");
  await Deno.writeTextFile("/srv/xen/dxl-on-xl.img", "");
  await using xs = await connect({ path: host.socket });
  using hv = new XenHypervisor(xs);
  const uuid = "0b6f4c1e-2d3a-4b5c-8d9e-0f1a2b3c4d5e";
  const dom = await create(xs, hv, {
    uuid,
    name: "dxlguest",
    maxMemKb: 131072,
    vcpus: 1,
    kernel: KERNEL,
    ramdisk: "/srv/xen/initrd.img",
    cmdline: "root=/dev/xvda ro",
  });
  await hv.unpauseDomain(dom);
  await Deno.writeTextFile(
    "/srv/xen/xlguest.cfg",
    `name = "xlguest"\ntype = "pv"\nmemory = 128\nvcpus = 1\nkernel = "${KERNEL}"\n`,
  );
  await host.xl("create", "-e", "/srv/xen/xlguest.cfg");
  const xlDom = Number(xlRow(await host.xl("list"), "xlguest")?.[1]);
  assert.equal(xlDom, dom + 1);
  const xlUuid = await readDomainUuid(xs, xlDom);
  assert.ok(xlUuid !== undefined);

  // dxl's disk and nic reach Connected after dxl runs their scripts
  const disk = await dxlAdd(
    xs,
    vbd({ domid: dom, vdev: "xvda", target: "/srv/xen/dxl-disk.img" }),
  );
  const nic = await dxlAdd(
    xs,
    vif({ domid: dom, devid: 0, mac: "00:16:3e:01:02:03", bridge: "xenbr0" }),
  );
  const be = disk.backendPath as string;
  assert.equal(await xs.read(`${be}/hotplug-status`), "connected");
  assert.equal(await xs.read(`${be}/physical-device-path`), "/dev/loop7");
  assert.equal(await xs.read(`${nic.backendPath}/hotplug-status`), "connected");
  // and one on xl's domain, recorded in xl's own config file
  const onXl = await dxlAdd(
    xs,
    vbd({ domid: xlDom, vdev: "xvdb", target: "/srv/xen/dxl-on-xl.img" }),
  );

  // xl sees dxl's devices
  assert.match(await host.xl("block-list", "dxlguest"), /^51712 +0 +\d+ +\d+ .*\/vbd\/1\/51712$/m);
  assert.match(await host.xl("network-list", "dxlguest"), /00:16:3e:01:02:03/);
  const dxlConfig = JSON.parse(await host.xl("list", "-l", "dxlguest"))[0].config;
  assert.deepEqual(dxlConfig.disks.map((d: { vdev: string }) => d.vdev), ["xvda"]);
  assert.equal(dxlConfig.b_info.cmdline, "root=/dev/xvda ro");
  assert.equal(dxlConfig.b_info.ramdisk, "/srv/xen/initrd.img");
  assert.deepEqual(dxlConfig.nics.map((n: { mac: string }) => n.mac), ["00:16:3e:01:02:03"]);
  const xlConfig = JSON.parse(await host.xl("list", "-l", "xlguest"))[0].config;
  assert.deepEqual(xlConfig.disks.map((d: { vdev: string }) => d.vdev), ["xvdb"]);

  // xl attaches to dxl's domain; its disk has the same nodes as dxl's
  await host.xl("block-attach", "dxlguest", "file:/srv/xen/xl-disk.img,xvdb,w");
  const xlDisk = `/local/domain/0/backend/vbd/${dom}/51728`;
  await waitForXenbusState(xs, `${xlDisk}/state`, { state: XenbusState.Connected });
  const keys = async (path: string) => (await xs.directory(path)).sort();
  assert.deepEqual(await keys(xlDisk), await keys(be));
  assert.deepEqual(
    await keys(`/libxl/${dom}/device/vbd/51728`),
    await keys(`/libxl/${dom}/device/vbd/51712`),
  );
  // and xl's nic on it has the same nodes as dxl's
  await host.xl("network-attach", "dxlguest", "mac=00:16:3e:0a:0b:0c,bridge=xenbr0");
  const xlNic = `/local/domain/0/backend/vif/${dom}/1`;
  await waitForXenbusState(xs, `${xlNic}/state`, { state: XenbusState.Connected });
  assert.deepEqual(await keys(xlNic), await keys(nic.backendPath as string));
  assert.deepEqual(
    await keys(`/libxl/${dom}/device/vif/1`),
    await keys(`/libxl/${dom}/device/vif/0`),
  );

  // xl detaches dxl's disk (its removal script runs), dxl removes xl's (dxl runs it)
  await host.xl("block-detach", "dxlguest", "xvda");
  assert.equal(await xs.tryRead(be), undefined);
  await removeDevice(xs, { domid: dom, kind: "vbd", devid: 51728 }, {
    beforeCleanup: removalHook(xs),
  });
  assert.equal(await xs.tryRead(xlDisk), undefined);
  const removals = (await host.hotplugLog()).filter((l) => l.startsWith("block remove"));
  assert.deepEqual(removals.map((l) => l.split(" ")[2]), [
    `XENBUS_PATH=backend/vbd/${dom}/51712`, // by xl
    `XENBUS_PATH=backend/vbd/${dom}/51728`, // by dxl
  ]);

  // destroying both domains with dxl: removal scripts run, no config file is left behind
  await destroyDomain(xs, dom, { hypervisor: hv, beforeCleanup: removalHook(xs) });
  assert.deepEqual(await forgetDomain({ domid: dom, uuid }), [
    `/var/lib/xen/userdata-d.${dom}.${uuid}.libxl-json`,
  ]);
  await destroyDomain(xs, xlDom, { hypervisor: hv, beforeCleanup: removalHook(xs) });
  assert.deepEqual(await forgetDomain({ domid: xlDom, uuid: xlUuid }), [
    `/var/lib/xen/userdata-d.${xlDom}.${xlUuid}.libxl-json`,
  ]);
  const log = await host.hotplugLog();
  for (const devid of [0, 1]) { // dxl's nic and xl's, both removed by dxl's destroyDomain
    const offline = `vif-bridge offline type_if=vif XENBUS_PATH=backend/vif/${dom}/${devid}`;
    assert.ok(log.some((l) => l.startsWith(offline)), offline);
  }
  assert.ok(
    log.some((l) => l.startsWith(`block remove XENBUS_PATH=${onXl.backendPath?.slice(16)}`)),
  );
  assert.deepEqual(await userdataFiles(dom), []);
  assert.deepEqual(await userdataFiles(xlDom), []);
  assert.equal(await host.ctlList(), "OK 0");
  const listing = await host.xl("list");
  assert.equal(xlRow(listing, "dxlguest"), undefined);
  assert.equal(xlRow(listing, "xlguest"), undefined);
  assert.deepEqual(await xs.directory("/local/domain"), ["0"]);
});

Deno.test("setHostMemoryTarget: the hypervisor's limit follows; a limit it refuses leaves the target as it was", async () => {
  await using host = await startShimHost();
  await kernel();
  await using xs = await connect({ path: host.socket });
  using hv = new XenHypervisor(xs);
  const request = { uuid: UUID, name: "guest1", maxMemKb: 262144, vcpus: 1, kernel: KERNEL };
  const domid = await create(xs, hv, request);
  assert.deepEqual(await setHostMemoryTarget(xs, domid, { targetKb: 131072, hypervisor: hv }), {
    targetKb: 131072,
    vmMemoryMb: 128,
  });
  assert.equal((await hv.getInfo(domid))?.maxMemKb, 132096, "target + LIBXL_MAXMEM_CONSTANT");
  await assert.rejects(hv.setMaxMemory(domid, -1), /maxKb must be a non-negative integer, got -1/);
  // the domain gone from the hypervisor only (its records stay): XEN_DOMCTL_max_mem fails
  await hv.destroyDomain(domid);
  await assert.rejects(
    setHostMemoryTarget(xs, domid, { targetKb: 65536, hypervisor: hv }),
    (e: unknown) => {
      assert.ok(e instanceof XenCallError, String(e));
      assert.equal(e.message, `xc_domain_setmaxmem failed for domain ${domid}: ESRCH`);
      return true;
    },
  );
  assert.equal(await xs.read(`/local/domain/${domid}/memory/target`), "131072");
  assert.equal(await xs.read(`/vm/${UUID}/memory`), "128");
  await destroyDomain(xs, domid);
  await forgetDomain({ domid, uuid: UUID });
});

/** libxl's domid history: `<CLOCK_MONOTONIC seconds> <domid>` lines. */
async function domidHistory(): Promise<[number, number][]> {
  const text = await Deno.readTextFile("/var/run/xen/domid-history").catch(() => "");
  return text.split("\n").filter((l) => l !== "").map((l) => {
    assert.match(l, /^\d+ \d+$/);
    const [sec, domid] = l.split(" ").map(Number);
    return [sec as number, domid as number];
  });
}

Deno.test("destroyed domids go into libxl's domid-history; dxl and xl both skip a recent one", async () => {
  await using host = await startShimHost();
  await kernel();
  await Deno.remove("/var/run/xen/domid-history").catch(() => {});
  await using xs = await connect({ path: host.socket });
  using hv = new XenHypervisor(xs);
  await Deno.writeTextFile(
    "/srv/xen/xlguest.cfg",
    `name = "xlguest"\ntype = "pv"\nmemory = 128\nvcpus = 1\nkernel = "${KERNEL}"\n`,
  );
  await host.xl("create", "-p", "/srv/xen/xlguest.cfg"); // domid 1
  await host.xl("destroy", "xlguest");
  const afterXl = await domidHistory();
  assert.deepEqual(afterXl.map(([, d]) => d), [1], "xl destroy recorded 1");
  const request = { uuid: UUID, name: "guest1", maxMemKb: 65536, kernel: KERNEL };
  const dom = await create(xs, hv, request);
  assert.equal(dom, 2);
  await destroyDomain(xs, dom, { hypervisor: hv });
  await forgetDomain({ domid: dom, uuid: UUID });
  const afterDxl = await domidHistory();
  assert.deepEqual(afterDxl.map(([, d]) => d), [1, 2], "dxl kept xl's entry and added 2");
  const [[xlSec], [dxlSec]] = afterDxl as [[number, number], [number, number]];
  assert.ok(dxlSec >= xlSec && dxlSec - xlSec < 60, `same clock: ${xlSec} then ${dxlSec}`);

  // Xen's rover back at 0: it offers 1, then 2, both recent; dxl takes 3
  const rover = `${host.dir}/xl-rover`;
  await Deno.writeTextFile(rover, "0\n");
  const third = await create(xs, hv, { ...request, uuid: crypto.randomUUID(), name: "g3" });
  assert.equal(third, 3);
  assert.equal(await host.ctlList(), "OK 0 3:mapped", "1 and 2 were destroyed again");
  // and real xl, in the same position, skips 1 (its own) and 2 (dxl's) as well
  await Deno.writeTextFile(rover, "0\n");
  await host.xl("create", "-p", "/srv/xen/xlguest.cfg");
  assert.equal(xlRow(await host.xl("list"), "xlguest")?.[1], "4");
  // a recent domid asked for by number is refused, and nothing is left of it
  await assert.rejects(
    makeDomain(xs, { hypervisor: hv, ...request, uuid: crypto.randomUUID(), domid: 1 }),
    (e: unknown) =>
      e instanceof XenBuildRequestError && e.field === "domid" &&
      /destroyed less than 60 s ago \(\/var\/run\/xen\/domid-history\)/.test(e.message),
  );
  assert.equal(await host.ctlList(), "OK 0 3:mapped 4:mapped");
  // destroying a domain the hypervisor does not have records nothing
  const before = await domidHistory();
  await assert.rejects(hv.destroyDomain(7), /xc_domain_destroy failed for domain 7: ESRCH/);
  assert.deepEqual((await domidHistory()).map(([, d]) => d), before.map(([, d]) => d));
  await host.xl("destroy", "xlguest");
  await destroyDomain(xs, third, { hypervisor: hv });
});

const DOM0_VM = "/vm/00000000-0000-0000-0000-000000000000";

/** dom0's memory nodes as libxl's ballooning leaves them. */
async function dom0Memory(xs: LibxlStore): Promise<(string | undefined)[]> {
  return await Promise.all([
    xs.tryRead("/local/domain/0/memory/target"),
    xs.tryRead("/local/domain/0/memory/static-max"),
    xs.tryRead(`${DOM0_VM}/memory`),
  ]);
}

Deno.test("a domain bigger than the free memory: dxl balloons dom0 as xl create does, and honours xl.conf", async () => {
  await using host = await startShimHost();
  await kernel();
  await using xs = await connect({ path: host.socket });
  // the shim's host has 12 GiB free; 13 GiB + libxl's overheads is 1078 MiB too much
  await Deno.writeTextFile(
    "/srv/xen/big.cfg",
    `name = "big"\ntype = "pv"\nmemory = 13312\nvcpus = 1\nkernel = "${KERNEL}"\n`,
  );
  const xl = await host.xlStatus("create", "-p", "/srv/xen/big.cfg");
  assert.equal(xl.ok, false);
  assert.match(xl.output, /failed to free memory for the domain/);
  const afterXl = await dom0Memory(xs);
  // dom0's target lowered by what is missing (the shim's dom0 never gives memory back)
  assert.deepEqual(afterXl, ["3090432", "4194304", "3018"]);
  assert.equal(await host.ctlList(), "OK 0");
  await xs.rm("/local/domain/0/memory");
  await xs.rm(DOM0_VM);

  using hv = new XenHypervisor(xs);
  const big = { uuid: UUID, name: "big", maxMemKb: 13312 * 1024, vcpus: 1, kernel: KERNEL };
  await assert.rejects(makeDomain(xs, { hypervisor: hv, ...big }), (e: unknown) => {
    assert.ok(e instanceof InsufficientMemoryError, String(e));
    assert.equal(e.needKb, 13686784);
    assert.equal(e.freeKb, 12582912);
    assert.match(
      e.message,
      /dom0 did not get down to its target 3090432 KiB \(still 4194304 KiB\)/,
    );
    return true;
  });
  assert.deepEqual(await dom0Memory(xs), afterXl, "the same nodes as xl's");
  assert.equal(await host.ctlList(), "OK 0", "no domain made");

  // autoballoon=0 in xl.conf: neither touches dom0, both create the domain
  await xs.rm("/local/domain/0/memory");
  await xs.rm(DOM0_VM);
  await Deno.writeTextFile("/etc/xen/xl.conf", "autoballoon=0\n");
  try {
    await host.xl("create", "-p", "/srv/xen/big.cfg");
    using hv2 = new XenHypervisor(xs);
    const { domid } = await makeDomain(xs, { hypervisor: hv2, ...big, name: "big2" });
    assert.deepEqual(await dom0Memory(xs), [undefined, undefined, undefined]);
    await host.xl("destroy", "big");
    await destroyDomain(xs, domid, { hypervisor: hv2 });
  } finally {
    await Deno.writeTextFile("/etc/xen/xl.conf", "");
  }
});
