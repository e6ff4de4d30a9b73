/**
 * xl's domain-control commands (mem-set, vcpu-set, shutdown, reboot, sysrq, cd-insert,
 * cd-eject) and xl destroy: parity with the library call on twin servers, golden --json,
 * and bad input — through the real entry point on the embedded, C and OCaml xenstored. The
 * guest's acknowledgement of a shutdown request comes from a real guest connection.
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { ConnectionClosedError } from "../../lib/protocol/errors.ts";
import { ejectCdrom, insertCdrom } from "../../lib/libxl/cdrom.ts";
import { vbd } from "../../lib/libxl/devices/vbd.ts";
import { sendSysrq, shutdownDomain } from "../../lib/libxl/domain_control.ts";
import { destroyDomain } from "../../lib/libxl/domain_destroy.ts";
import { setMemoryTarget, setVcpusOnline } from "../../lib/libxl/domain_resources.ts";
import { forEachServer, startServer } from "../_helpers/servers.ts";
import { tempHome } from "./_run.ts";
import { XL_GOLDEN, type XlWorld, xlWorld } from "./xl_world.ts";

const UPDATE = Deno.env.get("UPDATE_GOLDEN") === "1";

/** A guest whose PV drivers acknowledge shutdown requests (clear `control/shutdown`). */
async function ackingGuest(
  w: XlWorld,
  domid: number,
): Promise<AsyncDisposable & { seen: string[] }> {
  const seen: string[] = [];
  const guest = await connect({ path: w.hv.guestSocket(domid) });
  const stop = new AbortController();
  const watch = guest.watch("control/shutdown", { signal: stop.signal });
  await watch.ready;
  const loop = (async () => {
    try {
      for await (const _event of watch) {
        const request = await guest.tryRead("control/shutdown");
        if (request) {
          seen.push(request);
          await guest.write("control/shutdown", "");
        }
      }
    } catch (error) {
      // Stopped, or the domain died and took its connection with it.
      if (!stop.signal.aborted && !(error instanceof ConnectionClosedError)) throw error;
    }
  })();
  return {
    seen,
    async [Symbol.asyncDispose]() {
      stop.abort();
      await loop;
      await guest.close();
    },
  };
}

/** A PV guest "web" (domid 1) and an HVM guest "win" (domid 2) with a cdrom drive hdc. */
async function layOut(w: XlWorld): Promise<{ web: number; win: number }> {
  const web = await w.domain("web");
  const win = await w.domain("win", {
    type: "hvm",
    devices: (d) => [vbd({ domid: d, vdev: "hdc", target: "", cdrom: true, backend: "qdisk" })],
  });
  return { web, win };
}

interface Case {
  args: string[];
  library: (w: XlWorld, ids: { web: number; win: number }) => Promise<unknown>;
}

const CASES: Case[] = [
  {
    args: ["mem-set", "web", "128"],
    library: (w, { web }) => setMemoryTarget(w.xs, web, { targetKb: 131072 }),
  },
  {
    args: ["mem-set", "1", "200000k"],
    library: (w, { web }) => setMemoryTarget(w.xs, web, { targetKb: 200000 }),
  },
  {
    args: ["vcpu-set", "web", "1"],
    library: (w, { web }) => setVcpusOnline(w.xs, web, { vcpus: 1 }),
  },
  {
    args: ["sysrq", "web", "s"],
    library: (w, { web }) => sendSysrq(w.xs, web, { key: "s" }),
  },
  {
    args: ["reboot", "web"],
    library: (w, { web }) => shutdownDomain(w.xs, web, { request: "reboot" }),
  },
  {
    args: ["shutdown", "web"],
    library: (w, { web }) => shutdownDomain(w.xs, web, { request: "poweroff" }),
  },
  {
    args: ["cd-insert", "win", "hdc", "/srv/iso/debian.iso"],
    library: (w, { win }) => insertCdrom(w.xs, win, { vdev: "hdc", target: "/srv/iso/debian.iso" }),
  },
  {
    args: ["cd-insert", "2", "hdc", "/srv/iso/rescue.iso"],
    library: (w, { win }) => insertCdrom(w.xs, win, { vdev: "hdc", target: "/srv/iso/rescue.iso" }),
  },
  {
    args: ["cd-eject", "win", "hdc"],
    library: (w, { win }) => ejectCdrom(w.xs, win, { vdev: "hdc" }),
  },
];

forEachServer(
  "xl parity: mem-set, vcpu-set, sysrq, reboot, shutdown, cd-insert, cd-eject, destroy DOMAIN",
  async (t, server) => {
    await using home = await tempHome();
    await using twin = await startServer(server.kind);
    await using a = await xlWorld(server, home.path);
    await using b = await xlWorld(twin, home.path);
    const ids = await layOut(a);
    assert.deepEqual(await layOut(b), ids);
    await using ackA = await ackingGuest(a, ids.web);
    await using ackB = await ackingGuest(b, ids.web);
    assert.equal(await a.tree(), await b.tree(), "the twins start equal");
    for (const c of CASES) {
      await t.step(`dxl ${c.args.join(" ")}`, async () => {
        const before = await a.tree();
        const run = await a.dxl(...c.args);
        assert.equal(run.code, 0, run.stderr);
        await c.library(b, ids);
        const after = await a.tree();
        if (c.args[0] === "shutdown" || c.args[0] === "reboot") {
          // The guest acknowledged (cleared the node) before the command returned.
          const request = c.args[0] === "shutdown" ? "poweroff" : "reboot";
          assert.equal(ackA.seen.at(-1), request);
          assert.equal(ackB.seen.at(-1), request);
        } else {
          assert.notEqual(after, before, "the command changed something");
        }
        assert.equal(after, await b.tree());
      });
    }
    await t.step("dxl destroy win (xl destroy: a domain, not a script)", async () => {
      // The simulated hypervisor: dxl's embedded server's domain table, or the reference
      // daemons' stand-in hypervisor through their control socket.
      const control = server.kind === "embedded" ? [] : ["--domain-control", `${server.dir}/ctl`];
      const run = await a.dxl(...control, "destroy", "win", "--json");
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stdout), { domid: ids.win, devices: 2, hypervisor: true });
      await destroyDomain(b.xs, ids.win, { hypervisor: b.hv.hypervisor });
      assert.equal(await a.xs.exists(`/libxl/${ids.win}`), false);
      // With the reference daemons' control socket, dxl also runs simulated backend drivers
      // (as it does there), which connect web's console meanwhile.
      const consoleState = (tree: string) =>
        tree.replace(/(\/backend\/console\/[0-9]+\/0\/state = )"[0-9]"/g, "$1?");
      assert.equal(consoleState(await a.tree()), consoleState(await b.tree()));
    });
  },
);

forEachServer(
  "the control commands' --json is golden; bad input is one line, exit 2",
  async (t, server) => {
    await using home = await tempHome();
    await using w = await xlWorld(server, home.path);
    const { web } = await layOut(w);
    await using _ack = await ackingGuest(w, web);
    const cases: [string, string[]][] = [
      ["mem_set.json", ["mem-set", "web", "200m", "--json"]],
      ["vcpu_set.json", ["vcpu-set", "web", "2", "--json"]],
      ["sysrq.json", ["sysrq", "web", "h", "--json"]],
      ["reboot.json", ["reboot", "web", "--json"]],
      ["cd_insert.json", ["cd-insert", "win", "hdc", "/srv/iso/a.iso", "--json"]],
      ["cd_eject.json", ["cd-eject", "win", "hdc", "--json"]],
    ];
    for (const [file, args] of cases) {
      await t.step(`dxl ${args.join(" ")}`, async () => {
        const run = await w.dxl(...args);
        assert.equal(run.code, 0, run.stderr);
        if (UPDATE) await Deno.writeTextFile(XL_GOLDEN + file, run.stdout);
        assert.equal(run.stdout, await Deno.readTextFile(XL_GOLDEN + file));
      });
    }
    const bad: [string[], RegExp][] = [
      [["mem-set", "web", "12x"], /^dxl: invalid memory size: "12x"/],
      [
        ["mem-set", "web", "4g"],
        /^dxl: memory_dynamic_max must be less than or equal to memory_static_max/,
      ],
      [["mem-set", "nosuch", "128"], /^dxl: .*"nosuch"/],
      [["vcpu-set", "web", "0"], /^dxl: Invalid vCPU count "0"/],
      [["vcpu-set", "web", "9"], /^dxl: Requested 9 VCPUs, however maxcpus is 2!$/],
      [["sysrq", "web", "sb"], /^dxl: Only one sysrq letter allowed, got "sb"$/],
      [["cd-insert", "web", "hdc", "/a.iso"], /HVM/],
      [["shutdown", "77"], /^dxl: .*77/],
    ];
    for (const [args, message] of bad) {
      await t.step(`dxl ${args.join(" ")} is refused`, async () => {
        const before = await w.tree();
        const run = await w.dxl("--quiet", ...args);
        assert.equal(run.code, 2, run.stderr);
        const lines = run.stderr.trimEnd().split("\n");
        assert.equal(lines.length, 1, run.stderr);
        assert.match(lines[0]!, message);
        assert.equal(await w.tree(), before, "nothing written");
      });
    }
  },
);

forEachServer(
  "dxl shutdown -w returns once xenstored has released the domain",
  async (_t, server) => {
    await using home = await tempHome();
    await using w = await xlWorld(server, home.path);
    const web = await w.domain("web");
    await using ack = await ackingGuest(w, web);
    const run = w.dxl("shutdown", "-w", "web", "--timeout", "20");
    // The guest acknowledges; then the hypervisor reports the domain dead.
    for (let i = 0; i < 2000 && ack.seen.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(ack.seen, ["poweroff"]);
    assert.equal(await w.xs.isDomainIntroduced(web), true);
    await w.server.destroyDomain(web);
    const result = await run;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await w.xs.isDomainIntroduced(web), false);
  },
);
