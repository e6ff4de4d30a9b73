/**
 * apply() and destroy() with `host`: what `xl` does on a Xen host besides xenstore, with
 * stand-in hotplug scripts (same contract: argv, XENBUS_* environment) and libxl's config
 * file in a temp dir, against the embedded, C and OCaml xenstored (the simulated backends
 * play blkback/netback). The same steps with the real hypervisor and real xl beside are in
 * tests/xen/cli_host_test.ts.
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { apply, destroy } from "../../lib/config/apply.ts";
import { readLive } from "../../lib/config/live.ts";
import { validateConfig } from "../../lib/config/validate.ts";
import { SimulatedBackend } from "../../lib/libxl/sim_backend.ts";
import { readDomainConfig } from "../../lib/xen/userdata.ts";
import { forEachServer } from "../_helpers/servers.ts";
import { testHypervisor } from "../libxl/_helpers.ts";

const UUID = "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b";

/** A stand-in script that logs `<name> <args> XENBUS_PATH=<...>` and exits `code`. */
async function script(dir: string, name: string, code = 0): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(
    path,
    `#!/bin/sh\necho "${name} $* XENBUS_PATH=$XENBUS_PATH" >> ${dir}/hotplug.log\nexit ${code}\n`,
  );
  await Deno.chmod(path, 0o755);
  return path;
}

async function hotplugLog(dir: string): Promise<string[]> {
  const text = await Deno.readTextFile(`${dir}/hotplug.log`).catch(() => "");
  return text.split("\n").filter((l) => l !== "");
}

forEachServer(
  "apply() with host: config file, hotplug scripts; destroy() runs removal and forgets the file",
  async (_t, server) => {
    const dir = await Deno.makeTempDir({ prefix: "dxl-host-", dir: "/tmp" });
    try {
      await using xs = await connect({ path: server.socket });
      await using _backends = await SimulatedBackend.start(xs);
      const { hypervisor } = testHypervisor(server, xs);
      const block = await script(dir, "block");
      const vifScript = await script(dir, "vif-bridge");
      const web = {
        name: "web",
        uuid: UUID,
        memory: "256M",
        vcpus: 2,
        disks: [`vdev=xvda,script=${block},target=/dev/vg0/web`],
        nics: [{ mac: "00:16:3e:aa:bb:cc", script: vifScript }],
      };
      const config = validateConfig({ domains: [web] }, { script: "web.ts" });
      const host = { userdataDir: dir };
      const result = await apply(xs, config, { hypervisor, host });
      const domid = result.created[0]!.domid;
      assert.deepEqual(
        (await hotplugLog(dir)).sort(), // the devices connect concurrently
        [
          `block add XENBUS_PATH=backend/vbd/${domid}/51712`,
          `vif-bridge online type_if=vif XENBUS_PATH=backend/vif/${domid}/0`,
        ],
      );
      const written = await readDomainConfig({ domid, uuid: UUID }, { dir });
      assert.equal(written?.c_info.name, "web");
      assert.equal(written?.b_info.max_memkb, 262144);
      assert.deepEqual(written?.disks?.map((d) => d.vdev), ["xvda"]);
      assert.deepEqual(written?.nics?.map((n) => n.mac), ["00:16:3e:aa:bb:cc"]);

      // a memory target changed in place goes into the file too (xl mem-set)
      const smaller = validateConfig({
        domains: [{ ...web, memory: "128M", maxmem: "256M" }],
      }, { script: "web.ts" });
      await apply(xs, smaller, { hypervisor, host });
      const resized = await readDomainConfig({ domid, uuid: UUID }, { dir });
      assert.equal(resized?.b_info.target_memkb, 131072);
      assert.equal(resized?.b_info.max_memkb, 262144);

      await destroy(xs, config, { hypervisor, host });
      const log = await hotplugLog(dir);
      assert.ok(log.includes(`block remove XENBUS_PATH=backend/vbd/${domid}/51712`), String(log));
      assert.ok(
        log.includes(`vif-bridge offline type_if=vif XENBUS_PATH=backend/vif/${domid}/0`),
        String(log),
      );
      assert.equal(await readDomainConfig({ domid, uuid: UUID }, { dir }), undefined);
      assert.deepEqual(
        (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).filter((n) =>
          n.startsWith("userdata-")
        ),
        [],
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

forEachServer(
  "apply() with host: a failing hotplug script fails the apply, naming it; the new domain is destroyed, never unpaused",
  async (_t, server) => {
    const dir = await Deno.makeTempDir({ prefix: "dxl-host-", dir: "/tmp" });
    try {
      await using xs = await connect({ path: server.socket });
      await using _backends = await SimulatedBackend.start(xs);
      const { hypervisor } = testHypervisor(server, xs);
      const unpaused: number[] = [];
      const hv = Object.assign(Object.create(hypervisor), {
        createDomain: hypervisor.createDomain.bind(hypervisor),
        introduceDomain: hypervisor.introduceDomain.bind(hypervisor),
        destroyDomain: hypervisor.destroyDomain.bind(hypervisor),
        unpauseDomain: (domid: number) => {
          unpaused.push(domid);
          return Promise.resolve();
        },
      });
      const bad = await script(dir, "block", 1);
      const vifScript = await script(dir, "vif-bridge");
      const good = validateConfig({ domains: [{ name: "ok", nics: [{ script: vifScript }] }] }, {
        script: "a.ts",
      });
      const config = validateConfig({
        domains: [{ name: "web", disks: [`vdev=xvda,script=${bad},target=/dev/vg0/web`] }],
      }, { script: "web.ts" });
      const first = await apply(xs, good, { hypervisor: hv, host: { userdataDir: dir } });
      assert.deepEqual(unpaused, [first.created[0]!.domid], "unpaused once its devices connected");
      await assert.rejects(
        apply(xs, config, { hypervisor: hv, host: { userdataDir: dir }, prune: false }),
        (e: unknown) => {
          assert.ok(e instanceof Error && e.name === "HotplugError", String(e));
          assert.match(e.message, /^Hotplug script .*\/block add failed \(exit 1\) for /);
          return true;
        },
      );
      assert.equal(unpaused.length, 1, "the domain whose disk failed was not unpaused");
      const live = await readLive(xs);
      const guests = live.domains.filter((d) => d.domid !== 0).map((d) => d.name);
      assert.deepEqual(guests, ["ok"], "the failed domain is gone, as after xl create");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
