/**
 * The device order of a new domain, dxl against Xen 4.17's own `xl create` (Debian's xl and
 * libxl under ../shared/fakexl, with the real C xenstored): a PV guest with two qcow2 disks
 * and a framebuffer. libxl adds each device in its own transaction, so the order its
 * `/libxl` records and backends appear in (seen by a watch) is the order it adds them;
 * dxl's single transaction is compared through the requests it sends.
 *
 * `xl create` does not finish here: no xenconsoled writes `console/tty`, so after adding
 * every device libxl waits 10 s and destroys the domain again (it kills the QEMU it
 * started); every device has been added by then.
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { vbd } from "../../lib/libxl/devices/vbd.ts";
import { vfb } from "../../lib/libxl/devices/vfb.ts";
import { vkbd } from "../../lib/libxl/devices/vkbd.ts";
import { parseDiskSpec } from "../../lib/libxl/disk_spec.ts";
import { makeDomain } from "../../lib/libxl/domain_create.ts";
import { forEachServer, REFXS_DIR } from "../_helpers/servers.ts";
import { vif } from "../../lib/libxl/devices/vif.ts";
import { SimulatedBackend } from "../../lib/libxl/sim_backend.ts";
import { formatTree } from "../../lib/libxl/tree.ts";
import { parseBackendPath } from "../../lib/libxl/paths.ts";
import { recording, testHypervisor } from "./_helpers.ts";
import { realXl } from "./_xl.ts";

forEachServer(
  "makeDomain() adds devices in the order real xl create adds them",
  async (_t, server) => {
    const xl = await realXl(server.socket);
    const initDom0 = await realXl(server.socket, "xen-init-dom0");
    if (xl === undefined || initDom0 === undefined) return;
    const init = await initDom0([]);
    assert.equal(init.code, 0, init.stderr);

    const dir = await Deno.makeTempDir({ prefix: "dxl-xl-create-", dir: "/tmp" });
    try {
      const disks = [`qcow2:${dir}/a.qcow2,xvda,w`, `qcow2:${dir}/b.qcow2,xvdb,w`];
      for (const f of ["vmlinuz", "a.qcow2", "b.qcow2"]) {
        await Deno.writeTextFile(`${dir}/${f}`, "");
      }
      await Deno.writeTextFile(
        `${dir}/guest.cfg`,
        [
          'name = "xlguest"',
          'type = "pv"',
          `kernel = "${dir}/vmlinuz"`,
          "memory = 256",
          'vfb = [ "vnc=0" ]',
          `disk = [ ${disks.map((d) => `"${d}"`).join(", ")} ]`,
        ].join("\n") + "\n",
      );

      // What xl adds, in order: the first event of each /libxl record and backend directory.
      await using xs = await connect({ path: server.socket });
      const records: string[] = [];
      const backends: string[] = [];
      const follow = async (path: string, pattern: RegExp, into: string[]) => {
        const watch = xs.watch(path);
        await watch.ready;
        return {
          watch,
          done: (async () => {
            for await (const event of watch) {
              if (!("path" in event)) continue;
              const m = pattern.exec(event.path);
              if (m !== null && !into.includes(m[1]!)) into.push(m[1]!);
            }
          })(),
        };
      };
      const a = await follow("/libxl", /^\/libxl\/\d+\/device\/([^/]+\/\d+)/, records);
      const b = await follow(
        "/local/domain/0/backend",
        /^\/local\/domain\/0\/backend\/([^/]+)\/\d+\/\d+/,
        backends,
      );
      const run = await xl(["create", `${dir}/guest.cfg`]);
      assert.match(run.stderr, /console tty: timed out/, "xl got as far as the console wait");
      await xs.read("/"); // every event of xl's transactions has been delivered before this
      await a.watch.close();
      await b.watch.close();
      await Promise.all([a.done, b.done]);
      assert.deepEqual(records, ["vbd/51712", "vbd/51728", "vfb/0", "vkbd/0", "console/0"]);

      // dxl, given the same devices in another order, adds them in xl's.
      const { hypervisor } = testHypervisor(server, xs, 50);
      const rec = recording(xs);
      const { domid } = await makeDomain(rec.store, {
        hypervisor,
        name: "dxlguest",
        maxMemKb: 262144,
        kernel: `${dir}/vmlinuz`,
        devices: (d) => [
          vkbd({ domid: d, devid: 0 }),
          vbd({ domid: d, ...parseDiskSpec(disks[0]!) }),
          vfb({ domid: d, devid: 0 }),
          vbd({ domid: d, ...parseDiskSpec(disks[1]!) }),
        ],
      });
      const ours = (kindAt: RegExp) => {
        const seen: string[] = [];
        for (const { line } of rec.log) {
          const m = kindAt.exec(line);
          if (m !== null && !seen.includes(m[1]!)) seen.push(m[1]!);
        }
        return seen;
      };
      assert.deepEqual(
        ours(new RegExp(`^WRITE \\| /libxl/${domid}/device/([^/]+/\\d+)/`)),
        records,
      );
      assert.deepEqual(
        ours(new RegExp(`^(?:RM|MKDIR) \\| /local/domain/0/backend/([^/]+)/${domid}/\\d+$`)),
        backends,
        "the same backends (qdisk for the qcow2 images), in the same order",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
  { kinds: ["c"] },
);

forEachServer(
  "makeDomain() leaves the /libxl registry real xl create leaves (phy disks, nics, console)",
  async (_t, server) => {
    const xl = await realXl(server.socket);
    const initDom0 = await realXl(server.socket, "xen-init-dom0");
    if (xl === undefined || initDom0 === undefined) return;
    assert.equal((await initDom0([])).code, 0);
    const scripts = `${REFXS_DIR}/../fakexl/scripts`; // stand-ins with the real scripts' contract
    const dir = await Deno.makeTempDir({ prefix: "dxl-xl-create-", dir: "/tmp" });
    await using xs = await connect({ path: server.socket });
    // The kernel backends (state 1 -> 2, then 4 once libxl's hotplug script has said
    // "connected"; 5 -> 6) and xenconsoled's console/tty.
    await using _backend = await SimulatedBackend.start(xs, {
      kinds: ["vbd", "vif"],
      hotplug: async (store, be) => {
        // Only xl's devices (domids below 50) have a toolstack running their scripts.
        if ((parseBackendPath(be)?.domid ?? 50) >= 50) return;
        const watch = store.watch(`${be}/hotplug-status`);
        const giveUp = setTimeout(() => watch.close(), 20_000);
        for await (const _ of watch) {
          if ((await store.tryRead(`${be}/hotplug-status`)) === "connected") break;
        }
        clearTimeout(giveUp);
        await watch.close();
      },
    });
    const consoled = xs.watch("/local/domain");
    await consoled.ready;
    const playing = (async () => {
      for await (const event of consoled) {
        if (!("path" in event) || !/^\/local\/domain\/\d+\/console\/tty$/.test(event.path)) {
          continue;
        }
        if ((await xs.tryRead(event.path)) === "") await xs.write(event.path, "/dev/pts/9");
      }
    })();
    try {
      const disks = [
        `${dir}/a.img,raw,xvda,w,script=${scripts}/block`,
        `phy:${dir}/b.img,xvdb,r,script=${scripts}/block`,
      ];
      const nics = [
        { mac: "00:16:3e:00:00:0a", rate: "10Mb/s" },
        { mac: "00:16:3e:00:00:0b", rate: "1MB/s@20ms" },
      ];
      for (const f of ["vmlinuz", "a.img", "b.img"]) await Deno.writeTextFile(`${dir}/${f}`, "");
      await Deno.writeTextFile(
        `${dir}/guest.cfg`,
        [
          'name = "xlguest"',
          'type = "pv"',
          `kernel = "${dir}/vmlinuz"`,
          "memory = 256",
          `disk = [ ${disks.map((d) => `"${d}"`).join(", ")} ]`,
          `vif = [ ${
            nics.map((n) => `"mac=${n.mac},rate=${n.rate},script=${scripts}/vif-bridge"`).join(
              ", ",
            )
          } ]`,
        ].join("\n") + "\n",
      );
      const created = await xl(["create", "-e", `${dir}/guest.cfg`]);
      assert.equal(created.code, 0, created.stderr);
      const theirDomid = Number((await xl(["domid", "xlguest"])).stdout.trim());

      const { hypervisor } = testHypervisor(server, xs, 50);
      const rec = recording(xs);
      const { domid } = await makeDomain(rec.store, {
        hypervisor,
        name: "dxlguest",
        maxMemKb: 262144,
        kernel: `${dir}/vmlinuz`,
        devices: (d) => [
          ...nics.map((n, devid) =>
            vif({ domid: d, devid, ...n, script: `${scripts}/vif-bridge` })
          ),
          ...disks.map((spec) => vbd({ domid: d, ...parseDiskSpec(spec) })),
        ],
      });
      const registry = async (of: number) =>
        (await formatTree(xs, `/libxl/${of}/device`))
          .replaceAll(`/libxl/${of}/`, "/libxl/D/")
          .replaceAll(`/local/domain/${of}/`, "/local/domain/D/")
          .replace(new RegExp(`(/backend/[^/]+/)${of}/`, "g"), "$1D/")
          .replaceAll(`frontend-id = "${of}"`, 'frontend-id = "D"');
      assert.equal(await registry(domid), await registry(theirDomid));
      assert.deepEqual(
        await xs.directory(`/libxl/${domid}/device`),
        await xs.directory(`/libxl/${theirDomid}/device`),
      );
      assert.deepEqual(await xs.directory(`/libxl/${domid}/device`), ["vbd", "console", "vif"]);
      await xl(["destroy", "xlguest"]);
    } finally {
      await consoled.close();
      await playing;
      await Deno.remove(dir, { recursive: true });
    }
  },
  { kinds: ["c"] },
);
