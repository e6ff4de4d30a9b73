/**
 * `xl mem-set` and `xl vcpu-set` of Xen 4.17 (Debian's xl and libxl under ../shared/fakexl)
 * against dxl's setMemoryTarget() and setVcpusOnline() on one domain that real `xl create`
 * made, on the real C xenstored: the same nodes get the same values (memory/target in KiB
 * less videoram, /vm/<uuid>/memory in MiB, every cpu/<n>/availability).
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { setMemoryTarget, setVcpusOnline } from "../../lib/libxl/domain_resources.ts";
import { readDomainUuid } from "../../lib/libxl/domain.ts";
import { forEachServer } from "../_helpers/servers.ts";
import { realXl } from "./_xl.ts";

forEachServer(
  "setMemoryTarget() and setVcpusOnline() write what real xl mem-set / vcpu-set write",
  async (_t, server) => {
    const xl = await realXl(server.socket);
    const initDom0 = await realXl(server.socket, "xen-init-dom0");
    if (xl === undefined || initDom0 === undefined) return;
    assert.equal((await initDom0([])).code, 0);
    await using xs = await connect({ path: server.socket });
    const dir = await Deno.makeTempDir({ prefix: "dxl-xl-res-", dir: "/tmp" });
    // xenconsoled's part, so that xl create completes: fill in console/tty.
    const consoled = xs.watch("/local/domain");
    await consoled.ready;
    const playing = (async () => {
      for await (const event of consoled) {
        if (!("path" in event)) continue;
        const m = /^\/local\/domain\/(\d+)\/console\/tty$/.exec(event.path);
        if (m !== null && (await xs.tryRead(event.path)) === "") {
          await xs.write(event.path, `/dev/pts/${m[1]}`);
        }
      }
    })();
    try {
      await Deno.writeTextFile(`${dir}/vmlinuz`, "");
      await Deno.writeTextFile(
        `${dir}/guest.cfg`,
        [
          'name = "res"',
          'type = "pv"',
          `kernel = "${dir}/vmlinuz"`,
          "memory = 256",
          "maxmem = 512",
          "vcpus = 2",
          "maxvcpus = 4",
        ].join("\n") + "\n",
      );
      const created = await xl(["create", "-e", `${dir}/guest.cfg`]);
      assert.equal(created.code, 0, created.stderr);
      const domid = Number((await xl(["domid", "res"])).stdout.trim());
      const uuid = await readDomainUuid(xs, domid);
      const home = `/local/domain/${domid}`;
      const memory = async () => [
        await xs.read(`${home}/memory/target`),
        await xs.read(`/vm/${uuid}/memory`),
      ];
      const cpus = () =>
        Promise.all([0, 1, 2, 3].map((i) => xs.read(`${home}/cpu/${i}/availability`)));
      try {
        for (const mb of [300, 129]) {
          const run = await xl(["mem-set", "res", `${mb}m`]);
          assert.equal(run.code, 0, run.stderr);
          const theirs = await memory();
          await setMemoryTarget(xs, domid, { targetKb: 400 * 1024 }); // somewhere else first
          await setMemoryTarget(xs, domid, { targetKb: mb * 1024 });
          assert.deepEqual(await memory(), theirs, `${mb} MiB`);
        }
        assert.deepEqual(await memory(), [String(129 * 1024), "129"]);
        for (const n of [3, 1]) {
          const run = await xl(["vcpu-set", "res", String(n)]);
          assert.equal(run.code, 0, run.stderr);
          const theirs = await cpus();
          await setVcpusOnline(xs, domid, { vcpus: 4 });
          await setVcpusOnline(xs, domid, { vcpus: n });
          assert.deepEqual(await cpus(), theirs, `${n} vCPUs`);
        }
      } finally {
        await xl(["destroy", "res"]);
      }
    } finally {
      await consoled.close();
      await playing;
      await Deno.remove(dir, { recursive: true });
    }
  },
  { kinds: ["c"] },
);
