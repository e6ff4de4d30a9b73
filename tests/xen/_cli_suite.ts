/**
 * The CLI on a fake Xen host, run by cli_host_test.ts through `_shim_run.ts` (a `deno test`
 * subprocess with `LD_PRELOAD` of fakexl in a private mount namespace). `dxl` runs through
 * its entry point with `--hypervisor xen`; real `xl` 4.17 runs against the same domain table
 * and xenstored. Not a `_test.ts` file: it only makes sense in that environment.
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { XenbusState } from "../../lib/libxl/xenbus_state.ts";
import { waitForXenbusState } from "../../lib/libxl/xenbus_wait.ts";
import { XenHypervisor } from "../../lib/xen/xen_hypervisor.ts";
import { runDxl } from "../cli/_run.ts";
import { tryRun } from "./_prereq.ts";
import { ENV, type ShimHost, startShimHost } from "./_shim_host.ts";

const KERNEL = "/srv/xen/vmlinuz";
const SITE = "/srv/xen/site.ts";
const MOD = new URL("../../mod.ts", import.meta.url).href;

/** A config script like scripts/examples/web.ts, with the files the fake host has. */
async function site(): Promise<void> {
  await Deno.mkdir("/srv/xen", { recursive: true });
  await Deno.writeTextFile(KERNEL, "not a kernel: the shim stands in for the image build\n");
  await Deno.writeTextFile("/srv/xen/web.img", "");
  await Deno.writeTextFile(
    SITE,
    `import { defineConfig } from "${MOD}";
export default defineConfig({
  domains: [{
    name: "web",
    memory: "256M",
    vcpus: 2,
    kernel: "${KERNEL}",
    cmdline: "root=/dev/xvda ro console=hvc0",
    disks: ["file:/srv/xen/web.img,xvda,w"],
    nics: [{ bridge: "xenbr0", mac: "00:16:3e:10:00:01" }],
  }],
});
`,
  );
}

/** `dxl --xenstore <host> --hypervisor xen ...args` with `env` added, whatever its status. */
function dxlRun(host: ShimHost, args: string[], env: Record<string, string> = {}) {
  return runDxl(["-q", "--xenstore", host.socket, "--hypervisor", "xen", ...args], {
    stateHome: host.dir,
    // the hotplug scripts' xenstore-write reach the host's store as on a real host, where
    // it is the standard socket
    env: { NO_COLOR: "1", XENSTORED_PATH: host.socket, ...env },
  });
}

/** `dxl --xenstore <host> --hypervisor xen ...args`; rejects unless it exits 0. */
async function dxl(host: ShimHost, ...args: string[]): Promise<string> {
  const run = await dxlRun(host, args);
  assert.equal(run.code, 0, `dxl ${args.join(" ")}: ${run.stderr}${run.stdout}`);
  return run.stdout;
}

/** Real `xl ...args` with `env` added (FAKEXL_LOG for one run), whatever its status. */
async function xlRun(args: string[], env: Record<string, string>) {
  const r = await tryRun(ENV.xl, args, { env: { ...Deno.env.toObject(), ...env } });
  return { ok: r.ok, output: r.stdout + r.stderr };
}

/** The shim's log of one run (FAKEXL_LOG): its domctl lines, `dom=<domid>` as `dom=D`. */
async function domctls(log: string, domid: number): Promise<string[]> {
  const text = await Deno.readTextFile(log).catch(() => "");
  return text.split("\n").map((l) => l.replace(/^\[fakexl \d+\] /, ""))
    .filter((l) => l.startsWith("domctl ")).map((l) => l.replace(` dom=${domid}`, " dom=D"));
}

/** The shim's record of a domain ($FAKEHV_DIR/xl-domN): its max memory in KiB. */
async function shimMaxMemKb(host: ShimHost, domid: number): Promise<number> {
  const text = await Deno.readTextFile(`${host.dir}/xl-dom${domid}`);
  return Number(/^maxmem_kb=(\d+)$/m.exec(text)?.[1]);
}

/** `xl list`'s row for `name`: [name, id, mem, vcpus, state, time]. */
function xlRow(listing: string, name: string): string[] | undefined {
  return listing.split("\n").map((l) => l.trim().split(/\s+/)).find((cols) => cols[0] === name);
}

/** libxl's userdata files of guests (xen-init-dom0 wrote dom0's). */
async function userdataFiles(): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir("/var/lib/xen"))).map((e) => e.name)
    .filter((n) => n.startsWith("userdata-") && n.split(".")[1] !== "0");
}

/** Applies the site; checks what real xl and the store show of "web"; returns its domid. */
async function applyWeb(host: ShimHost): Promise<number> {
  await dxl(host, "apply", "--yes", SITE);
  const row = xlRow(await host.xl("list"), "web");
  assert.ok(row !== undefined, "xl list shows web");
  const domid = Number(row[1]);
  assert.deepEqual(row.slice(2, 5), ["257", "2", "r-----"], "memory, vcpus, unpaused");
  await using xs = await connect({ path: host.socket });
  for (const be of [`vbd/${domid}/51712`, `vif/${domid}/0`]) {
    const path = `/local/domain/0/backend/${be}`;
    assert.equal(await xs.read(`${path}/hotplug-status`), "connected", be);
    await waitForXenbusState(xs, `${path}/state`, { state: XenbusState.Connected });
  }
  const log = await host.hotplugLog();
  assert.ok(log.some((l) => l.startsWith(`block add XENBUS_PATH=backend/vbd/${domid}/51712`)));
  assert.ok(
    log.some((l) =>
      l.startsWith(`vif-bridge online type_if=vif XENBUS_PATH=backend/vif/${domid}/0`)
    ),
  );
  // xl sees the domain's config file with dxl's devices
  const config = JSON.parse(await host.xl("list", "-l", "web"))[0].config;
  assert.equal(config.c_info.name, "web");
  assert.deepEqual(config.disks.map((d: { vdev: string }) => d.vdev), ["xvda"]);
  assert.deepEqual(config.nics.map((n: { mac: string }) => n.mac), ["00:16:3e:10:00:01"]);
  assert.equal((await userdataFiles()).length, 1, String(await userdataFiles()));
  return domid;
}

Deno.test("dxl apply --hypervisor xen: real xl lists the domain, its disk and nic connect after their scripts", async () => {
  await using host = await startShimHost();
  await site();
  const domid = await applyWeb(host);
  // dxl list shows the hypervisor's columns, as xl list does
  const table = (await dxl(host, "list")).split("\n");
  assert.match(table[0]!, /^Name +ID +Mem +VCPUs +State +Time\(s\)$/);
  const web = table.find((l) => l.startsWith("web "))?.trim().split(/\s+/);
  assert.deepEqual(web?.slice(0, 5), ["web", String(domid), "257", "2", "r-----"]);
  assert.match(web?.[5] ?? "", /^\d+\.\d$/);
  const json = JSON.parse(await dxl(host, "list", "--json", "web"));
  assert.deepEqual(json[0].hypervisor, { state: "r-----", memMb: 257, vcpus: 2, cpuTimeS: 2 });
  // applying again: nothing to do
  assert.match(await dxl(host, "apply", "--yes", SITE), /No changes/);
  // dxl destroy FILE: removal scripts, the domain gone from the table and xl's list
  await dxl(host, "destroy", "--yes", SITE);
  const log = await host.hotplugLog();
  assert.ok(log.some((l) => l.startsWith(`block remove XENBUS_PATH=backend/vbd/${domid}/51712`)));
  assert.ok(
    log.some((l) =>
      l.startsWith(`vif-bridge offline type_if=vif XENBUS_PATH=backend/vif/${domid}/0`)
    ),
  );
  assert.equal(xlRow(await host.xl("list"), "web"), undefined);
  assert.equal(await host.ctlList(), "OK 0");
  assert.deepEqual(await userdataFiles(), []);
});

Deno.test("dxl destroy DOMAIN --hypervisor xen: removal scripts run, no userdata file left", async () => {
  await using host = await startShimHost();
  await site();
  const domid = await applyWeb(host);
  await dxl(host, "destroy", "web");
  const log = await host.hotplugLog();
  assert.ok(log.some((l) => l.startsWith(`block remove XENBUS_PATH=backend/vbd/${domid}/51712`)));
  assert.equal(xlRow(await host.xl("list"), "web"), undefined);
  assert.equal(await host.ctlList(), "OK 0");
  assert.deepEqual(await userdataFiles(), []);
  await using xs = await connect({ path: host.socket });
  assert.deepEqual(await xs.directory("/local/domain"), ["0"]);
});

Deno.test("dxl list on the host: a domain xl created shows with the hypervisor's view", async () => {
  await using host = await startShimHost();
  await site();
  await Deno.writeTextFile(
    "/srv/xen/xlguest.cfg",
    `name = "xlguest"\ntype = "pv"\nmemory = 128\nvcpus = 1\nkernel = "${KERNEL}"\n`,
  );
  await host.xl("create", "-p", "/srv/xen/xlguest.cfg");
  const json = JSON.parse(await dxl(host, "list", "--json"));
  const dom0 = json.find((d: { domid: number }) => d.domid === 0);
  assert.equal(typeof dom0?.hypervisor?.state, "string");
  const xlg = json.find((d: { name: string }) => d.name === "xlguest");
  assert.equal(xlg?.hypervisor?.state, "--p---"); // created paused (-p)
  assert.equal(xlg?.hypervisor?.vcpus, 1);
  await host.xl("destroy", "xlguest");
  // a domain only the hypervisor has (created, never introduced): listed as xl lists it
  await using xs = await connect({ path: host.socket });
  using hv = new XenHypervisor(xs);
  const orphan = await hv.createDomain({
    uuid: crypto.randomUUID(),
    name: "orphan",
    maxMemKb: 65536,
    kernel: KERNEL,
  });
  const listed = JSON.parse(await dxl(host, "list", "--json"));
  const row = listed.find((d: { domid: number }) => d.domid === orphan.domid);
  assert.equal(row?.name, `(domain ${orphan.domid})`);
  assert.equal(row?.hypervisor?.state, "--p---");
  // and dxl destroy takes it by id (no records to remove; the hypervisor destroys it)
  await dxl(host, "destroy", String(orphan.domid));
  assert.equal(await hv.getInfo(orphan.domid), undefined);
});

Deno.test("dxl's xl commands --hypervisor xen: scripts run and xl's config file follows", async () => {
  await using host = await startShimHost();
  await site();
  await Deno.writeTextFile("/srv/xen/data.img", "");
  const domid = await applyWeb(host);
  const config = async () => JSON.parse(await host.xl("list", "-l", String(domid)))[0].config;
  await dxl(host, "block-attach", "web", "file:/srv/xen/data.img,xvdb,w");
  await dxl(host, "network-attach", "web", "mac=00:16:3e:10:00:02", "bridge=xenbr0");
  await using xs = await connect({ path: host.socket });
  for (const be of [`vbd/${domid}/51728`, `vif/${domid}/1`]) {
    const path = `/local/domain/0/backend/${be}`;
    assert.equal(await xs.read(`${path}/hotplug-status`), "connected", be);
    await waitForXenbusState(xs, `${path}/state`, { state: XenbusState.Connected });
  }
  let c = await config();
  assert.deepEqual(c.disks.map((d: { vdev: string }) => d.vdev), ["xvda", "xvdb"]);
  assert.deepEqual(c.nics.map((n: { mac: string }) => n.mac), [
    "00:16:3e:10:00:01",
    "00:16:3e:10:00:02",
  ]);
  // xl block-list sees the disk dxl attached
  assert.match(await host.xl("block-list", "web"), /^51728 /m);
  await dxl(host, "block-detach", "web", "xvdb");
  await dxl(host, "network-detach", "web", "1");
  const log = await host.hotplugLog();
  assert.ok(log.some((l) => l.startsWith(`block remove XENBUS_PATH=backend/vbd/${domid}/51728`)));
  assert.ok(
    log.some((l) =>
      l.startsWith(`vif-bridge offline type_if=vif XENBUS_PATH=backend/vif/${domid}/1`)
    ),
  );
  c = await config();
  assert.deepEqual(c.disks.map((d: { vdev: string }) => d.vdev), ["xvda"]);
  assert.deepEqual(c.nics.map((n: { mac: string }) => n.mac), ["00:16:3e:10:00:01"]);
  await dxl(host, "rename", "web", "www");
  await dxl(host, "mem-set", "www", "128");
  c = await config();
  assert.equal(c.c_info.name, "www");
  assert.equal(c.b_info.target_memkb, 131072);
  // xl list shows the new name, and the new limit (target + 1024 KiB)
  assert.deepEqual(xlRow(await host.xl("list"), "www")?.slice(0, 3), ["www", String(domid), "129"]);
  await dxl(host, "destroy", "www");
  assert.equal(await host.ctlList(), "OK 0");
  assert.deepEqual(await userdataFiles(), []);
});

Deno.test("dxl mem-set (and apply of a new memory) --hypervisor xen: the hypervisor's limit follows, as with real xl mem-set", async () => {
  await using host = await startShimHost();
  await site();
  const domid = await applyWeb(host);
  await Deno.writeTextFile(
    "/srv/xen/xlguest.cfg",
    `name = "xlguest"\ntype = "pv"\nmemory = 256\nvcpus = 2\nkernel = "${KERNEL}"\n`,
  );
  await host.xl("create", "/srv/xen/xlguest.cfg");
  const xlDom = Number(xlRow(await host.xl("list"), "xlguest")?.[1]);
  assert.equal(await shimMaxMemKb(host, domid), 263168);
  assert.equal(await shimMaxMemKb(host, xlDom), 263168);

  const xlLog = `${host.dir}/xl-mem-set.log`;
  const dxlLog = `${host.dir}/dxl-mem-set.log`;
  const xl = await xlRun(["mem-set", "xlguest", "128"], { FAKEXL_LOG: xlLog });
  assert.ok(xl.ok, xl.output);
  const run = await dxlRun(host, ["mem-set", "web", "128"], { FAKEXL_LOG: dxlLog });
  assert.equal(run.code, 0, run.stderr);
  // the same hypercall (XEN_DOMCTL_max_mem), once, with the same value: target + 1024 KiB
  assert.deepEqual(await domctls(xlLog, xlDom), ["domctl cmd=11 dom=D"]);
  assert.deepEqual(await domctls(dxlLog, domid), ["domctl cmd=11 dom=D"]);
  assert.equal(await shimMaxMemKb(host, xlDom), 132096);
  assert.equal(await shimMaxMemKb(host, domid), 132096);
  const listing = await host.xl("list");
  assert.deepEqual(xlRow(listing, "web")?.slice(2, 3), ["129"]);
  assert.deepEqual(xlRow(listing, "xlguest")?.slice(2, 3), ["129"]);
  await using xs = await connect({ path: host.socket });
  for (const d of [domid, xlDom]) {
    assert.equal(await xs.read(`/local/domain/${d}/memory/target`), "131072");
    const vm = await xs.read(`/local/domain/${d}/vm`);
    assert.equal(await xs.read(`${vm}/memory`), "128");
  }
  const json = JSON.parse(await dxl(host, "list", "--json", "web"));
  assert.equal(json[0].hypervisor.memMb, 129);
  // apply changing the memory in place does what mem-set does
  const site192 = (await Deno.readTextFile(SITE)).replace(
    'memory: "256M",',
    'memory: "192M",\n    maxmem: "256M",',
  );
  await Deno.writeTextFile(SITE, site192);
  const applyLog = `${host.dir}/dxl-apply.log`;
  const applied = await dxlRun(host, ["apply", "--yes", SITE], { FAKEXL_LOG: applyLog });
  assert.equal(applied.code, 0, applied.stderr);
  assert.deepEqual(await domctls(applyLog, domid), ["domctl cmd=11 dom=D"]);
  assert.equal(await shimMaxMemKb(host, domid), 197632);
  assert.equal(await xs.read(`/local/domain/${domid}/memory/target`), "196608");
  assert.deepEqual(xlRow(await host.xl("list"), "web")?.slice(2, 3), ["193"]);

  // above static-max: both refuse before any hypercall, and nothing changes
  const xlBad = await xlRun(["mem-set", "xlguest", "512"], { FAKEXL_LOG: `${xlLog}.2` });
  assert.equal(xlBad.ok, false);
  assert.match(xlBad.output, /memory_dynamic_max must be less than or equal to memory_static_max/);
  const bad = await dxlRun(host, ["mem-set", "web", "512"], { FAKEXL_LOG: `${dxlLog}.2` });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /memory_dynamic_max must be less than or equal to memory_static_max/);
  assert.deepEqual(await domctls(`${xlLog}.2`, xlDom), []);
  assert.deepEqual(await domctls(`${dxlLog}.2`, domid), []);
  assert.equal(await shimMaxMemKb(host, domid), 197632);
  assert.equal(await xs.read(`/local/domain/${domid}/memory/target`), "196608");
  await host.xl("destroy", "xlguest");
  await dxl(host, "destroy", "web");
});

/** A vif script that fails as a real one does (hotplug-error, status error, exit 1). */
const VIF_FAIL = `#!/bin/bash
echo "vif-fail $* XENBUS_PATH=$XENBUS_PATH" >> "$GOLDEN_HOTPLUG_LOG"
case "$1" in
  online|add)
    xenstore-write "$XENBUS_PATH/hotplug-error" "no bridge xenbr9" "$XENBUS_PATH/hotplug-status" error
    exit 1;;
esac
exit 0
`;

Deno.test("dxl apply --hypervisor xen: a domain whose nic's script fails is destroyed, as real xl create does", async () => {
  await using host = await startShimHost();
  await site();
  await Deno.writeTextFile("/srv/xen/vif-fail", VIF_FAIL);
  await Deno.chmod("/srv/xen/vif-fail", 0o755);
  await Deno.writeTextFile(
    "/srv/xen/fail.cfg",
    `name = "failguest"\ntype = "pv"\nmemory = 256\nvcpus = 2\nkernel = "${KERNEL}"\n` +
      `disk = [ "file:/srv/xen/web.img,xvda,w" ]\n` +
      `vif = [ "mac=00:16:3e:10:00:09,bridge=xenbr0,script=/srv/xen/vif-fail" ]\n`,
  );
  await Deno.writeTextFile(
    "/srv/xen/fail.ts",
    `import { defineConfig } from "${MOD}";
export default defineConfig({
  domains: [{
    name: "failguest",
    memory: "256M",
    vcpus: 2,
    kernel: "${KERNEL}",
    disks: ["file:/srv/xen/web.img,xvda,w"],
    nics: [{ bridge: "xenbr0", mac: "00:16:3e:10:00:09", script: "/srv/xen/vif-fail" }],
  }],
});
`,
  );
  await using xs = await connect({ path: host.socket });
  const nothingLeft = async (what: string) => {
    assert.equal(await host.ctlList(), "OK 0", `${what}: the domain is gone from the table`);
    assert.equal(xlRow(await host.xl("list"), "failguest"), undefined, what);
    assert.deepEqual(await xs.directory("/local/domain"), ["0"], what);
    assert.deepEqual((await xs.directory("/libxl")).filter((d) => d !== "0"), [], what);
    assert.deepEqual(await xs.directory("/local/domain/0/backend/vbd").catch(() => []), [], what);
    assert.deepEqual(await xs.directory("/local/domain/0/backend/vif").catch(() => []), [], what);
    assert.deepEqual(await userdataFiles(), [], what);
  };
  // the script runs of one create, with its domid as D, in order of name (xl runs the
  // removals of a failed create concurrently)
  const runs = async (from: number, domid: number) =>
    (await host.hotplugLog()).slice(from).map((l) => l.replaceAll(`/${domid}/`, "/D/")).sort();

  const xl = await host.xlStatus("create", "/srv/xen/fail.cfg");
  assert.equal(xl.ok, false);
  assert.match(xl.output, /script: no bridge xenbr9/);
  assert.match(xl.output, /unable to add vif devices/);
  const xlRuns = await runs(0, 1);
  await nothingLeft("after xl create");

  const before = (await host.hotplugLog()).length;
  const run = await dxlRun(host, ["apply", "--yes", "/srv/xen/fail.ts"]);
  assert.equal(run.code, 1, run.stderr);
  assert.match(
    run.stderr,
    /^dxl: Hotplug script \/srv\/xen\/vif-fail online type_if=vif failed \(exit 1\) for \/local\/domain\/0\/backend\/vif\/2\/0; script: no bridge xenbr9$/m,
  );
  assert.match(run.stderr, /^dxl: destroyed domain failguest \(domid 2\)$/m);
  await nothingLeft("after dxl apply");
  // the same scripts ran: block add and vif-fail online, then both removals
  assert.deepEqual(await runs(before, 2), xlRuns);
  assert.deepEqual(xlRuns.map((l) => l.split(" XENBUS_TYPE")[0]), [
    "block add XENBUS_PATH=backend/vbd/D/51712",
    "block remove XENBUS_PATH=backend/vbd/D/51712",
    "vif-fail offline type_if=vif XENBUS_PATH=backend/vif/D/0",
    "vif-fail online type_if=vif XENBUS_PATH=backend/vif/D/0",
  ]);
});

/**
 * The shim's log of one run from its createdomain on, `dom=<domid>` as D, without the
 * read-only queries that differ: physinfo (libxenctrl caches `xc_get_max_cpus` per process
 * and xl asked it earlier, so dxl makes one more), the XSM label lookups (hypercall 27) of
 * xl's `libxl_domain_info` calls (dxl reads no security labels), handle opens.
 */
async function createCalls(log: string, domid: number, from = "domctl cmd=1 "): Promise<string[]> {
  const lines = (await Deno.readTextFile(log)).split("\n")
    .map((l) => l.replace(/^\[fakexl \d+\] /, ""));
  return lines.slice(Math.max(0, lines.findIndex((l) => l.startsWith(from))))
    .filter((l) => l !== "" && l !== "sysctl cmd=3" && !l.startsWith("xen_version"))
    .filter((l) => !l.startsWith("xencall_open") && !/^hypercall 27 /.test(l))
    .map((l) =>
      l.replaceAll(`dom=${domid}`, "dom=D").replace(`ctl 'destroy ${domid}'`, "ctl 'destroy D'")
        .replace(/^ctl 'create \d+' -> OK .*$/, "ctl create D")
        .replace(/^createdomain -> \d+ /, "createdomain -> D ")
    );
}

Deno.test("dxl apply and destroy --hypervisor xen make the hypercalls real xl create and destroy make, in the same order", async () => {
  await using host = await startShimHost();
  await site();
  await Deno.writeTextFile(
    "/srv/xen/plain.cfg",
    `name = "xlplain"\ntype = "pv"\nmemory = 256\nvcpus = 2\nkernel = "${KERNEL}"\n` +
      `cmdline = "root=/dev/xvda ro"\n`,
  );
  await Deno.writeTextFile(
    "/srv/xen/plain.ts",
    `import { defineConfig } from "${MOD}";
export default defineConfig({
  domains: [{
    name: "dxlplain",
    memory: "256M",
    vcpus: 2,
    kernel: "${KERNEL}",
    cmdline: "root=/dev/xvda ro",
  }],
});
`,
  );
  const xlLog = `${host.dir}/xl-create.log`;
  const dxlLog = `${host.dir}/dxl-apply.log`;
  const xl = await xlRun(["create", "/srv/xen/plain.cfg"], { FAKEXL_LOG: xlLog });
  assert.ok(xl.ok, xl.output);
  const run = await dxlRun(host, ["apply", "--yes", "/srv/xen/plain.ts"], { FAKEXL_LOG: dxlLog });
  assert.equal(run.code, 0, run.stderr);
  const listing = await host.xl("list");
  const xlDom = Number(xlRow(listing, "xlplain")?.[1]);
  const dxlDom = Number(xlRow(listing, "dxlplain")?.[1]);
  const want = await createCalls(xlLog, xlDom);
  assert.deepEqual(await createCalls(dxlLog, dxlDom), want);
  // what libxl does, in order: create, max vcpus, NUMA placement, max memory, the event
  // channels, memmap limit, TSC, CPUID, the image build, scheduler parameters, unpause
  assert.ok(want.includes("domctl cmd=68 dom=D"), want.join("\n")); // node affinity
  assert.equal(want.at(-1), "domctl cmd=4 dom=D", want.join("\n")); // unpause

  // and destroying them: pause, (devices, records), destroy
  const xlGone = await xlRun(["destroy", "xlplain"], { FAKEXL_LOG: `${xlLog}.destroy` });
  assert.ok(xlGone.ok, xlGone.output);
  const gone = await dxlRun(host, ["destroy", "dxlplain"], { FAKEXL_LOG: `${dxlLog}.destroy` });
  assert.equal(gone.code, 0, gone.stderr);
  const xlDestroy = await createCalls(`${xlLog}.destroy`, xlDom, "");
  assert.deepEqual(xlDestroy.filter((l) => l.startsWith("domctl")), [
    "domctl cmd=3 dom=D",
    "domctl cmd=2 dom=D",
  ]);
  assert.deepEqual(await createCalls(`${dxlLog}.destroy`, dxlDom, ""), xlDestroy);
  assert.deepEqual(
    (await Deno.readTextFile("/var/run/xen/domid-history")).trim().split("\n")
      .map((l) => Number(l.split(" ")[1])),
    [xlDom, dxlDom],
  );
});
