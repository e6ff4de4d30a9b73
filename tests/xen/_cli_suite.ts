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
import { type ShimHost, startShimHost } from "./_shim_host.ts";

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

/** `dxl --xenstore <host> --hypervisor xen ...args`; rejects unless it exits 0. */
async function dxl(host: ShimHost, ...args: string[]): Promise<string> {
  const run = await runDxl(["-q", "--xenstore", host.socket, "--hypervisor", "xen", ...args], {
    stateHome: host.dir,
    // the hotplug scripts' xenstore-write reach the host's store as on a real host, where
    // it is the standard socket
    env: { NO_COLOR: "1", XENSTORED_PATH: host.socket },
  });
  assert.equal(run.code, 0, `dxl ${args.join(" ")}: ${run.stderr}${run.stdout}`);
  return run.stdout;
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
  assert.ok(xlRow(await host.xl("list"), "www") !== undefined, "xl list shows the new name");
  await dxl(host, "destroy", "www");
  assert.equal(await host.ctlList(), "OK 0");
  assert.deepEqual(await userdataFiles(), []);
});
