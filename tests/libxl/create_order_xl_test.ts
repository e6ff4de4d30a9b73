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
import { forEachServer } from "../_helpers/servers.ts";
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
