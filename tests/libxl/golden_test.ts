/**
 * The tree and the requests our code produces, against every server, compared with what
 * Xen 4.17's own `xl` produced (tests/testdata/libxl, derived from ../shared/golden).
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { addDevice } from "../../lib/libxl/device_add.ts";
import { removeDevice } from "../../lib/libxl/device_remove.ts";
import { pvConsole, vuart } from "../../lib/libxl/devices/console.ts";
import { vkbd } from "../../lib/libxl/devices/vkbd.ts";
import { vfb } from "../../lib/libxl/devices/vfb.ts";
import { p9 } from "../../lib/libxl/devices/p9.ts";
import { vtpm } from "../../lib/libxl/devices/vtpm.ts";
import { vusb } from "../../lib/libxl/devices/vusb.ts";
import { vdispl } from "../../lib/libxl/devices/vdispl.ts";
import { vsnd } from "../../lib/libxl/devices/vsnd.ts";
import { pci } from "../../lib/libxl/devices/pci.ts";
import type { DeviceSpec } from "../../lib/libxl/device.ts";
import { makeDomain } from "../../lib/libxl/domain.ts";
import { backendPath, frontendPath, libxlDevicePath } from "../../lib/libxl/paths.ts";
import { SimulatedBackend } from "../../lib/libxl/sim_backend.ts";
import type { LibxlStore } from "../../lib/libxl/store.ts";
import { formatTree } from "../../lib/libxl/tree.ts";
import { XenbusState } from "../../lib/libxl/xenbus_state.ts";
import { waitForXenbusState } from "../../lib/libxl/xenbus_wait.ts";
import { forEachServer, REFXS_DIR, type TestServer } from "../_helpers/servers.ts";
import {
  expectedLayout,
  fixture,
  GOLDEN_DEVICES,
  lastTransaction,
  recording,
  testHypervisor,
} from "./_helpers.ts";

const UUID = "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b";

/** oxenstored lists children sorted (real-daemons.md D4): compare its trees as sets. */
function comparable(server: TestServer, text: string): string[] {
  const lines = text.split("\n").filter((l) => l !== "");
  return server.kind === "ocaml" ? lines.sort() : lines;
}

async function deviceTree(xs: LibxlStore, spec: DeviceSpec): Promise<string> {
  return (await formatTree(xs, frontendPath(spec))) + (await formatTree(xs, backendPath(spec))) +
    (await formatTree(xs, libxlDevicePath(spec)));
}

function makeGuest1(
  xs: LibxlStore,
  server: TestServer,
  hvStore: Parameters<typeof testHypervisor>[1],
) {
  return makeDomain(xs, {
    hypervisor: testHypervisor(server, hvStore).hypervisor,
    name: "guest1",
    uuid: UUID,
    maxMemKb: 262144,
    vcpus: 2,
    kernel: "/srv/xen/vmlinuz",
    now: () => 1795611510820,
  });
}

const TRACE_IGNORED = /^(READ|DIRECTORY) /;

forEachServer("makeDomain() writes what xl create writes, in xl's order", async (_t, server) => {
  await using xs = await connect({ path: server.socket });
  const rec = recording(xs);
  const dom = await makeGuest1(rec.store, server, xs);
  assert.equal(dom.domid, 1);
  await xs.write("/local/domain/1/console/tty", "/dev/pts/11");
  const tree = (await formatTree(xs, "/local/domain/1")) + (await formatTree(xs, `/vm/${UUID}`)) +
    (await formatTree(xs, "/libxl/1")) + (await formatTree(xs, "/local/domain/0/backend"));
  assert.deepEqual(
    comparable(server, tree),
    comparable(server, await fixture("create-pv.connected.tree")),
  );
  // xl ran make, build and console add as three transactions with dm-version written
  // between them; writeNewDomain sends the same requests, in the same order, in one.
  const starts = rec.log.filter((e) => e.line === "TRANSACTION_START");
  assert.equal(starts.length, 1, "one transaction");
  assert.deepEqual(rec.log.filter((e) => e.tx === 0).map((e) => e.line), [], "nothing outside it");
  const sent = lastTransaction(rec.log).filter((l) => !TRACE_IGNORED.test(l));
  const lines = async (name: string) =>
    (await fixture(name)).split("\n").filter((l) => l !== "" && !TRACE_IGNORED.test(l));
  assert.deepEqual(sent, [
    ...(await lines("create-pv.make.trace")),
    "WRITE | /libxl/1/dm-version | qemu_xen",
    ...(await lines("create-pv.build.trace")),
    "WRITE | /libxl/1/dm-version | qemu_xen",
    ...(await lines("create-pv.console.trace")),
  ]);
});

/** What the golden run's block script wrote for each disk (physical-device and friends). */
const HOTPLUG: Record<string, [string, string][]> = {
  "/local/domain/0/backend/vbd/1/51728": [["physical-device", "7:0"], [
    "physical-device-path",
    "/dev/loop0",
  ]],
  "/local/domain/0/backend/vbd/1/51744": [["physical-device", "7:1"], [
    "physical-device-path",
    "/dev/loop1",
  ]],
  "/local/domain/0/backend/vbd/1/51760": [["node", "/dev/loop7"], ["physical-device", "7:7"], [
    "physical-device-path",
    "/dev/loop7",
  ]],
  "/local/domain/0/backend/vbd/1/51808": [["physical-device", "7:2"], [
    "physical-device-path",
    "/dev/loop2",
  ]],
};

forEachServer(
  "addDevice() leaves each device exactly as xl block-attach / network-attach do",
  async (t, server) => {
    await using xs = await connect({ path: server.socket });
    await makeGuest1(xs, server, xs);
    await using _backend = await SimulatedBackend.start(xs, {
      kinds: ["vbd", "vif"],
      hotplug: async (store, be) => {
        for (const [k, v] of HOTPLUG[be] ?? []) await store.write(`${be}/${k}`, v);
      },
    });
    for (const { name, build, trace } of GOLDEN_DEVICES) {
      await t.step(name, async () => {
        const spec = build();
        const rec = recording(xs);
        await addDevice(rec.store, spec);
        if (trace !== undefined) {
          const want = (await fixture(`${trace}.add.trace`)).trim().split("\n");
          assert.deepEqual(lastTransaction(rec.log), want);
        }
        if (spec.waitsForBackend) {
          await waitForXenbusState(xs, `${backendPath(spec)}/state`, {
            state: XenbusState.Connected,
          });
        }
        assert.deepEqual(
          comparable(server, await deviceTree(xs, spec)),
          comparable(server, await fixture(`${name}.connected.tree`)),
        );
      });
    }
  },
);

forEachServer("formatTree() prints what the real xenstore-ls -f -p prints", async (_t, server) => {
  await using xs = await connect({ path: server.socket });
  await makeGuest1(xs, server, xs);
  await xs.write(
    "/local/domain/1/odd",
    new Uint8Array([0x61, 0x0a, 0x09, 0x0d, 0x01, 0x1f, 0x7f, 0xc3, 0xa9, 0x22, 0x5c, 0x7e]),
  );
  const env = `${Deno.env.get("REFXS_HOME") ?? `${REFXS_DIR}/.work`}/env.sh`;
  const out = await new Deno.Command("bash", {
    args: ["-c", `. ${env} && XENSTORED_PATH=${server.socket} xenstore-ls -f -p /local/domain/1`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.success, true, new TextDecoder().decode(out.stderr));
  const ours = await formatTree(xs, "/local/domain/1", { root: false });
  assert.equal(ours, new TextDecoder().decode(out.stdout));
}, { kinds: ["c"] });

const OTHER_KINDS: [string, (domid: number) => DeviceSpec][] = [
  ["vkbd (qemu)", (domid) => vkbd({ domid, devid: 0 })],
  [
    "vkbd (linux, vinput)",
    (domid) => vkbd({ domid, devid: 1, backend: "linux", uniqueId: "k1", width: 800, height: 600 }),
  ],
  ["vfb", (domid) => vfb({ domid, devid: 0 })],
  ["9pfs", (domid) => p9({ domid, devid: 0, tag: "share", path: "/srv/share" })],
  ["vtpm", (domid) => vtpm({ domid, devid: 0, uuid: UUID })],
  ["vusb (pv)", (domid) => vusb({ domid, devid: 0 })],
  [
    "vusb (devicemodel, /libxl only)",
    (domid) => vusb({ domid, devid: 1, type: "devicemodel", version: 1, ports: 2 }),
  ],
  [
    "vdispl",
    (domid) =>
      vdispl({
        domid,
        devid: 0,
        beAlloc: true,
        connectors: [{ width: 1024, height: 768, uniqueId: "c0" }, {
          width: 800,
          height: 600,
          uniqueId: "c1",
        }],
      }),
  ],
  [
    "vsnd",
    (domid) =>
      vsnd({
        domid,
        devid: 0,
        shortName: "card",
        pcms: [{ name: "p0", streams: [{ uniqueId: "s0", type: "p" }] }],
      }),
  ],
  ["console 1 (secondary)", (domid) => pvConsole({ domid, devid: 1, name: "chan" })],
  ["vuart", (domid) => vuart({ domid, port: 5, ringRef: 4242 })],
  ["pci", (domid) => pci({ domid, domainName: "guest1", functions: [{ bdf: "0000:03:00.0" }] })],
];

forEachServer(
  "addDevice() lays out every other kind as §6 describes (keys, order, permissions)",
  async (t, server) => {
    await using xs = await connect({ path: server.socket });
    const { domid } = await makeGuest1(xs, server, xs);
    // A devicemodel USB controller is QEMU's: libxl adds it only with a device model running.
    await xs.write(`/local/domain/${domid}/image/device-model-pid`, "4242");
    const specs = OTHER_KINDS.map(([name, build]) => [name, build(domid)] as const);
    for (const [name, spec] of specs) {
      await t.step(name, async () => {
        await addDevice(xs, spec);
        assert.deepEqual(
          comparable(server, await deviceTree(xs, spec)),
          comparable(server, expectedLayout(spec)),
        );
      });
    }
    await using _backend = await SimulatedBackend.start(xs);
    for (const [name, spec] of specs) {
      const result = await removeDevice(xs, spec);
      const byCleanupOnly = spec.kind === "console" || spec.kind === "vuart";
      assert.equal(result.forced, byCleanupOnly, name);
      assert.equal(await deviceTree(xs, spec), "", `${name} left paths behind`);
    }
    for (const gone of ["vuart", "device/vkbd", "device/vusb", "device/pci"]) {
      assert.equal(await xs.exists(`/local/domain/${domid}/${gone}`), false, `~/${gone} emptied`);
    }
    assert.equal(await xs.exists(`/local/domain/${domid}/console/backend`), true, "console 0 kept");
  },
);
