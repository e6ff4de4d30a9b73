/**
 * The embedded-only CONTROL `dxl-domain` commands, the `ControlHypervisor` over them (a
 * toolstack in another process than the server), the real daemons' refusal, and the domain
 * table surviving a restart with a state file.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import {
  ControlHypervisor,
  DomainControlUnsupportedError,
} from "../../lib/libxl/control_hypervisor.ts";
import { destroyDomain, makeDomain } from "../../lib/libxl/mod.ts";
import { XenstoreError } from "../../lib/protocol/mod.ts";
import { startXenstored } from "../../lib/xenstored/mod.ts";
import { forEachServer } from "../_helpers/servers.ts";
import { Harness } from "./_table.ts";
import { RawConn } from "./_raw.ts";

Deno.test("dxl-domain: create, list and destroy drive the simulated domain table", () => {
  const h = new Harness();
  h.run([
    ["dom0", "-", "control", ["dxl-domain", "list"], "0 introduced\n|"],
    ["dom0", "-", "control", ["dxl-domain", "create"], `domid=1 ${rings(1)}|`],
    ["dom0", "-", "control", ["dxl-domain", "create", "1"], "EEXIST"],
    ["dom0", "-", "write", ["/local/domain/2/x", ""], "OK|"],
    ["dom0", "-", "write", ["/libxl/3/x", ""], "OK|"],
    // 2 and 3 are in use in the store: the next free id is 4.
    ["dom0", "-", "control", ["dxl-domain", "create"], `domid=4 ${rings(4)}|`],
    ["dom0", "-", "control", ["dxl-domain", "create", "7"], `domid=7 ${rings(7)}|`],
    [
      "dom0",
      "-",
      "control",
      ["dxl-domain", "list"],
      "0 introduced\n1 created\n4 created\n7 created\n|",
    ],
    ["dom0", "-", "watch", ["@releaseDomain", "r"], "OK|", { dom0: ["@releaseDomain|r|"] }],
    ["dom0", "-", "introduce", ["7", "0", "1"], "OK|"],
    [
      "dom0",
      "-",
      "control",
      ["dxl-domain", "list"],
      "0 introduced\n1 created\n4 created\n7 introduced\n|",
    ],
    ["dom0", "-", "control", ["dxl-domain", "destroy", "7"], "OK|", {
      dom0: ["@releaseDomain|r|"],
    }],
    ["dom0", "-", "isintroduced", ["7"], "F|"],
    ["dom0", "-", "control", ["dxl-domain", "destroy", "7"], "ENOENT"],
    ["dom0", "-", "control", ["dxl-domain", "list"], "0 introduced\n1 created\n4 created\n|"],
  ]);
});

function rings(domid: number): string {
  const gfn = 0x101000 + 2 * domid;
  return `store-gfn=${gfn} store-port=1 console-gfn=${gfn - 1} console-port=2`;
}

Deno.test("dxl-domain: bad ids and arguments are EINVAL; guests get EACCES", () => {
  const h = new Harness();
  h.guest(5);
  for (const bad of ["0", "32752", "65535", "-1", "x", "", "123456"]) {
    h.run([
      ["dom0", "-", "control", ["dxl-domain", "create", bad], "EINVAL"],
      ["dom0", "-", "control", ["dxl-domain", "destroy", bad], "EINVAL"],
    ]);
  }
  h.run([
    ["dom0", "-", "control", ["dxl-domain"], "EINVAL"],
    ["dom0", "-", "control", ["dxl-domain", "bogus"], "EINVAL"],
    ["dom0", "-", "control", ["dxl-domain", "create", "1", "2"], "EINVAL"],
    ["dom0", "-", "control", ["dxl-domain", "list", "x"], "EINVAL"],
    ["g5", "-", "control", ["dxl-domain", "list"], "EACCES"],
    ["g5", "-", "control", ["dxl-domain", "create"], "EACCES"],
  ]);
});

forEachServer("dxl-domain: the real daemons answer it with an error", async (_t, server) => {
  await using xs = await connect({ path: server.socket });
  if (server.kind === "embedded") {
    assert.equal(await ControlHypervisor.supported(xs), true);
    return;
  }
  // C: EINVAL (unknown command); oxenstored: OK to any command it does not know.
  if (server.kind === "c") await assert.rejects(xs.control(["dxl-domain", "list"]), XenstoreError);
  else assert.equal(await xs.control(["dxl-domain", "list"]), "OK");
  assert.equal(await ControlHypervisor.supported(xs), false);
  await assert.rejects(
    new ControlHypervisor(xs).createDomain({ uuid: crypto.randomUUID() }),
    (e: unknown) => {
      assert.ok(e instanceof DomainControlUnsupportedError);
      assert.match(e.message, /only dxl's embedded xenstored/);
      assert.equal(e.answer, server.kind === "c" ? "EINVAL" : "OK");
      return true;
    },
  );
});

/** Starts the embedded xenstored in a child process; resolves with its socket path. */
async function serveInChild(dir: string, state?: string): Promise<{
  socket: string;
  stop: () => Promise<void>;
}> {
  const server = new URL("../../lib/xenstored/mod.ts", import.meta.url).href;
  const code = `
    import { startXenstored } from ${JSON.stringify(server)};
    const xs = await startXenstored({ dir: ${JSON.stringify(dir)}, state: ${
    JSON.stringify(state)
  } });
    console.log(xs.socket);
    Deno.addSignalListener("SIGTERM", async () => { await xs.close(); Deno.exit(0); });
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const first = await reader.read();
  const socket = (first.value ?? "").trim();
  assert.ok(socket.endsWith("/socket"), `the child printed ${JSON.stringify(first.value)}`);
  return {
    socket,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await reader.cancel();
    },
  };
}

Deno.test("ControlHypervisor: makeDomain and destroyDomain against a server in another process", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dxl-ctlhv-", dir: "/tmp" });
  const server = await serveInChild(dir);
  try {
    await using xs = await connect({ path: server.socket });
    const hypervisor = new ControlHypervisor(xs);
    const made = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 262144 });
    assert.equal(made.domid, 1);
    assert.equal(await xs.isDomainIntroduced(1), true);
    assert.equal(await xs.read("/local/domain/1/name"), "web");
    assert.deepEqual(await xs.getPerms("/local/domain/1"), [
      { domid: 0, access: "none" },
      { domid: 1, access: "read" },
    ]);
    // The domain's own socket listens: its connections are that guest.
    const guest = await RawConn.open(`${dir}/domains/1.sock`);
    assert.equal((await guest.request(2, "name\0")).body, "web");
    await guest.close();
    const second = await makeDomain(xs, { hypervisor, name: "db", maxMemKb: 131072, domid: 5 });
    assert.equal(second.domid, 5);
    await assert.rejects(
      hypervisor.createDomain({ uuid: crypto.randomUUID(), domid: 5 }),
      /domain 5 already exists/,
    );
    await destroyDomain(xs, 1, { hypervisor });
    assert.equal(await xs.isDomainIntroduced(1), false);
    assert.equal(await xs.exists("/local/domain/1"), false); // destroyDomain removed it
    assert.deepEqual(await hypervisor.list(), [
      { domid: 0, introduced: true },
      { domid: 5, introduced: true },
    ]);
    await assert.rejects(hypervisor.destroyDomain(1), /no domain 1/);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("state: the simulated domain table survives a restart (existing and introduced domains)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dxl-ctlst-", dir: "/tmp" });
  const state = `${dir}/xs.sqlite`;
  try {
    {
      await using xsd = await startXenstored({ dir, state });
      await using xs = await connect({ path: xsd.socket });
      const hypervisor = new ControlHypervisor(xs);
      await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 262144 });
      await hypervisor.createDomain({ uuid: crypto.randomUUID(), domid: 9 }); // not introduced
      await xs.write("/shared", "x");
      await xs.setPerms("/shared", "n0,r1,r9");
    }
    {
      await using xsd = await startXenstored({ dir, state });
      await using xs = await connect({ path: xsd.socket });
      const hypervisor = new ControlHypervisor(xs);
      assert.deepEqual(await hypervisor.list(), [
        { domid: 0, introduced: true },
        { domid: 1, introduced: true },
        { domid: 9, introduced: false },
      ]);
      assert.equal(await xs.isDomainIntroduced(1), true);
      // Domain 1 is a guest again on its socket, with its permissions and quota counts.
      const guest = await RawConn.open(`${dir}/domains/1.sock`);
      assert.equal((await guest.request(2, "name\0")).body, "web");
      assert.equal((await guest.request(2, "/shared\0")).body, "x");
      assert.equal((await guest.request(2, "/local/domain/0/name\0")).type, 16);
      await guest.close();
      assert.match(await xs.control(["quota", "1"]), /nodes\s+:\s+[1-9]/);
      // Permission entries naming the restored domains still count (not flagged ignored).
      await xs.setPerms("/shared", "n0,r9");
      assert.deepEqual(await xs.getPerms("/shared"), [
        { domid: 0, access: "none" },
        { domid: 9, access: "read" },
      ]);
      await hypervisor.destroyDomain(1);
      await hypervisor.destroyDomain(9);
    }
    {
      await using xsd = await startXenstored({ dir, state });
      await using xs = await connect({ path: xsd.socket });
      assert.deepEqual(await new ControlHypervisor(xs).list(), [{ domid: 0, introduced: true }]);
      assert.equal(await xs.isDomainIntroduced(1), false);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
