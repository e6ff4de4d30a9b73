import assert from "node:assert/strict";
import { vbd } from "../../lib/libxl/devices/vbd.ts";
import { randomMac, vif } from "../../lib/libxl/devices/vif.ts";
import { pvConsole, vuart } from "../../lib/libxl/devices/console.ts";
import { DeviceConfigError } from "../../lib/libxl/errors.ts";
import type { DeviceSpec } from "../../lib/libxl/device.ts";
import { expectedLayout, fixture, FIXTURE_READ, GOLDEN_DEVICES } from "./_helpers.ts";

const golden: [string, () => DeviceSpec][] = [
  ...GOLDEN_DEVICES.map(({ name, build }): [string, () => DeviceSpec] => [name, build]),
  ["vif-mac, MAC in upper case", () => vif({ domid: 1, devid: 0, mac: "00:16:3E:AA:BB:CC" })],
  ["console-0", () => pvConsole({ domid: 1, port: 2, ringRef: 1052673 })],
];

for (const [name, build] of golden) {
  Deno.test(
    `${name}: the builder's layout equals the capture of real xl`,
    FIXTURE_READ,
    async () => {
      const file = name.split(",")[0];
      assert.equal(expectedLayout(build()), await fixture(`${file}.added.tree`));
    },
  );
}

Deno.test("vbd() picks backend kinds and params as libxl does", { permissions: "none" }, () => {
  const tap = vbd({ domid: 2, vdev: "xvda", target: "/srv/a.vhd", backend: "tap", format: "vhd" });
  assert.equal(tap.backendKind, "vbd3");
  assert.deepEqual(tap.back.slice(0, 2), [["params", "vhd:/srv/a.vhd"], [
    "script",
    "/etc/xen/scripts/block-tap",
  ]]);
  assert.deepEqual(tap.back.find(([k]) => k === "type"), ["type", "vbd3"]);
  const empty = vbd({ domid: 2, vdev: "hdc", target: "", cdrom: true });
  assert.equal(empty.devid, 22 << 8);
  assert.deepEqual(empty.back[0], ["params", ""]);
  const hvm = vbd({
    domid: 2,
    vdev: "xvda",
    target: "/dev/sda",
    protocol: false,
    directIoSafe: true,
  });
  assert.equal(hvm.front.some(([k]) => k === "protocol"), false);
  assert.deepEqual(hvm.back.at(-3), ["direct-io-safe", "1"]);
  assert.equal(
    vbd({ domid: 2, vdev: "xvda", target: "/srv/a", backend: "qdisk" }).waitsForBackend,
    false,
  );
  assert.equal(vbd({ domid: 2, vdev: "xvda", target: "/dev/a" }).waitsForBackend, true);
});

Deno.test("vbd() rejects bad input naming the field", { permissions: "none" }, () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ vdev: "xvd", target: "/dev/a" }, "vdev"],
    [{ vdev: "xvda", target: "" }, "target"],
    [{ vdev: "xvda", target: "/a", backend: "nbd" }, "backend"],
    [{ vdev: "xvda", target: "/a", format: "qcow2" }, "format"],
    [{ vdev: "xvda", target: "/a", format: "empty" }, "format"],
    [{ vdev: "xvda", target: "/a", cdrom: true, readwrite: true }, "readwrite"],
    [{ vdev: "xvda", target: "/a", backend: "qdisk", script: "block" }, "script"],
    [{ vdev: "xvda", target: "/a\n" }, "target"],
    [{ vdev: "xvda", target: "/a", trusted: "yes" }, "trusted"],
  ];
  for (const [input, field] of cases) {
    assert.throws(
      () => vbd({ domid: 1, ...input } as never),
      (e: unknown) =>
        e instanceof DeviceConfigError && e.field === field && e.message.includes(field),
      `${JSON.stringify(input)} should blame ${field}`,
    );
  }
});

Deno.test(
  "randomMac() keeps Xen's OUI and clears the top bit of byte 4",
  { permissions: "none" },
  () => {
    assert.equal(randomMac(() => new Uint8Array([0xff, 0xfe, 0x01])), "00:16:3e:7f:fe:01");
    assert.equal(randomMac(() => new Uint8Array([0x80, 0x00, 0x00])), "00:16:3e:00:00:00");
    assert.match(randomMac(), /^00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$/);
  },
);

Deno.test(
  "vif() uses the injected random bytes when no mac is given",
  { permissions: "none" },
  () => {
    const nic = vif({ domid: 3, devid: 1, random: () => new Uint8Array([0xaa, 0xbb, 0xcc]) });
    assert.deepEqual(nic.front.find(([k]) => k === "mac"), ["mac", "00:16:3e:2a:bb:cc"]);
    assert.deepEqual(nic.back.find(([k]) => k === "mac"), ["mac", "00:16:3e:2a:bb:cc"]);
  },
);

Deno.test("vif() writes the optional keys in libxl's order", { permissions: "none" }, () => {
  const nic = vif({
    domid: 3,
    devid: 2,
    mac: "00:16:3e:00:00:01",
    vifname: "web0",
    ip: "10.0.0.2",
    gatewaydev: "eth0",
    rate: { bytesPerInterval: 125000, intervalUsecs: 50000 },
    mtu: 9000,
    vlan: "10",
    bridge: "br1",
    script: "/usr/local/vif-custom",
  });
  assert.deepEqual(nic.back.map(([k]) => k), [
    "frontend-id",
    "online",
    "state",
    "script",
    "vifname",
    "mac",
    "ip",
    "gatewaydev",
    "rate",
    "mtu",
    "vlan",
    "bridge",
    "handle",
    "type",
    "hotplug-status",
  ]);
  assert.deepEqual(nic.back.find(([k]) => k === "rate"), ["rate", "125000,50000"]);
  assert.deepEqual(nic.roFront, [["mtu", "9000"]]);
});

Deno.test("vif() rejects bad input naming the field", { permissions: "none" }, () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ devid: 0, mac: "00:16:3e:aa:bb" }, "mac"],
    [{ devid: 0, mac: "zz:16:3e:aa:bb:cc" }, "mac"],
    [{ devid: -1 }, "devid"],
    [{ devid: 0, mtu: 10 }, "mtu"],
    [{ devid: 0, type: "ioemu" }, "type"],
    [{ devid: 0, rate: { bytesPerInterval: -1, intervalUsecs: 1 } }, "rate.bytesPerInterval"],
  ];
  for (const [input, field] of cases) {
    assert.throws(
      () => vif({ domid: 1, ...input } as never),
      (e: unknown) => e instanceof DeviceConfigError && e.field === field,
      `${JSON.stringify(input)} should blame ${field}`,
    );
  }
});

Deno.test(
  "pvConsole() without domain-build state is a secondary console",
  { permissions: "none" },
  () => {
    const c = pvConsole({ domid: 4, devid: 1, name: "chan", connection: "socket", path: "/run/c" });
    assert.deepEqual(c.front, [["backend-id", "0"], ["state", "1"], ["protocol", "vt100"]]);
    assert.deepEqual(c.roFront.map(([k]) => k), ["name", "limit", "type", "output", "tty"]);
    assert.deepEqual(c.back.map(([k]) => k), [
      "frontend-id",
      "online",
      "state",
      "protocol",
      "name",
      "connection",
      "path",
    ]);
    assert.throws(() => pvConsole({ domid: 4, port: 2 } as never), {
      name: "DeviceConfigError",
      message: /ringRef/,
    });
  },
);

Deno.test("vuart() owns its frontend from the backend and has no guest keys", {
  permissions: "none",
}, () => {
  const u = vuart({ domid: 4, port: 3, ringRef: 77 });
  assert.equal(u.front.length, 0);
  assert.match(expectedLayout(u), /^\/local\/domain\/4\/vuart\/0 = "" {3}\(n0,r4\)$/m);
});
