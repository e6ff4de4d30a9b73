/**
 * parseRate() and vif({ rate }): xl's rate syntax (xlu_vif_parse_rate, libxlu_vif.c) and the
 * backend `rate` key libxl writes (libxl__set_xenstore_nic: "%"PRIu64",%"PRIu32), as tables;
 * also checked against Xen 4.17's own `xl -N network-attach` when it can run here.
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { addDevice } from "../../lib/libxl/device_add.ts";
import { vif } from "../../lib/libxl/devices/vif.ts";
import { makeDomain } from "../../lib/libxl/domain.ts";
import { DeviceConfigError, RateSpecError } from "../../lib/libxl/errors.ts";
import { formatRate, parseRate } from "../../lib/libxl/rate.ts";
import { startXenstored } from "../../lib/xenstored/mod.ts";
import { forEachServer } from "../_helpers/servers.ts";
import { testHypervisor } from "./_helpers.ts";
import { realXl } from "./_xl.ts";

/** [rate, bytes per interval, interval in µs]: bytes/s × µs / 10^6, rounded down. */
const GOOD: [string, number, number][] = [
  ["10Mb/s", 62500, 50000], // 10e6 bits/s = 1.25e6 B/s, × 0.05 s
  ["10MB/s", 500000, 50000],
  ["1MB/s@20ms", 20000, 20000],
  ["1MB/s@20000us", 20000, 20000],
  ["1MB/s@20000u", 20000, 20000],
  ["1MB/s@20m", 20000, 20000],
  ["1KB/s@1s", 1000, 1000000],
  ["1KB/s@2", 2000, 2000000], // no unit: seconds
  ["1Gb/s", 6250000, 50000],
  ["100B/s", 5, 50000],
  ["8b/s@1s", 1, 1000000],
  ["1b/s", 0, 50000], // 1 bit/s is 0 bytes/s after the integer division
  ["010KB/s@1s", 8000, 1000000], // strtoull base 0: 010 is octal 8
  ["019Mb/s", 0, 50000], // octal stops at 9: 1 byte/s, and the unit is then ignored
  ["4294967295B/s@1s", 4294967295, 1000000],
  ["1B/s@4294967295us", 4294, 4294967295],
];

/** [rate, part named, xl's words]. */
const BAD: [string, string, string][] = [
  ["", "", "no rate specified"],
  ["@20ms", "@20ms", "no rate specified"],
  ["10Mb", "10Mb", "invalid rate"],
  ["10mb/s", "10mb/s", "invalid rate"],
  ["10 Mb/s", "10 Mb/s", "invalid rate"],
  ["-1Mb/s", "-1Mb/s", "invalid rate"],
  ["0x10Mb/s", "0x10Mb/s", "invalid rate"],
  ["10TB/s", "10TB/s", "invalid rate"],
  ["0Mb/s", "0Mb/s", "rate overflow"],
  ["08Mb/s", "08Mb/s", "rate overflow"], // octal: just "0"
  ["4294967296B/s", "4294967296B/s", "rate overflow"],
  ["10Mb/s@", "", "invalid replenishment interval"],
  ["10Mb/s@20ns", "20ns", "invalid replenishment interval"],
  ["10Mb/s@20ms@1s", "20ms@1s", "invalid replenishment interval"],
  ["10Mb/s@0x", "0x", "invalid replenishment interval"],
  ["10Mb/s@0ms", "0ms", "replenishment interval overflow"],
  ["10Mb/s@4294967296us", "4294967296us", "replenishment interval overflow"],
  ["10Mb/s@4295s", "4295s", "replenishment interval overflow"], // 4295e6 µs > 2^32-1
  ["10Mb/s@4294968ms", "4294968ms", "replenishment interval overflow"],
  ["4294967295GB/s@1s", "4294967295GB/s@1s", "rate overflow"], // B/s × µs > 2^64-1
];

Deno.test("parseRate() reads xl's syntax into libxl's two fields", async (t) => {
  for (const [rate, bytes, usecs] of GOOD) {
    await t.step(rate, () => {
      const parsed = parseRate(rate);
      assert.deepEqual(parsed, { bytesPerInterval: bytes, intervalUsecs: usecs });
      assert.equal(formatRate(parsed), `${bytes},${usecs}`);
    });
  }
});

Deno.test("parseRate() rejects every bad part with a RateSpecError naming it", async (t) => {
  for (const [rate, part, problem] of BAD) {
    await t.step(JSON.stringify(rate), () => {
      assert.throws(() => parseRate(rate), (e: unknown) => {
        assert.ok(e instanceof RateSpecError && e instanceof TypeError, String(e));
        assert.equal(e.rate, rate);
        assert.equal(e.part, part);
        assert.equal(
          e.message,
          `Invalid rate ${JSON.stringify(rate)}: ${problem} near ${JSON.stringify(part)}`,
        );
        return true;
      });
    });
  }
});

Deno.test("vif() writes libxl's rate key from xl's syntax or the two fields", () => {
  const rateOf = (spec: ReturnType<typeof vif>) => spec.back.find(([k]) => k === "rate")?.[1];
  const mac = "00:16:3e:00:00:01";
  assert.equal(rateOf(vif({ domid: 1, devid: 0, mac, rate: "10Mb/s" })), "62500,50000");
  assert.equal(rateOf(vif({ domid: 1, devid: 0, mac, rate: "1MB/s@20ms" })), "20000,20000");
  assert.equal(
    rateOf(vif({ domid: 1, devid: 0, mac, rate: { bytesPerInterval: 0, intervalUsecs: 50000 } })),
    "0,50000",
  );
  assert.equal(rateOf(vif({ domid: 1, devid: 0, mac })), undefined);
  // libxl__set_xenstore_nic: rate comes after ip/gatewaydev, before mtu and bridge.
  const keys = vif({ domid: 1, devid: 0, mac, rate: "10Mb/s", mtu: 9000 }).back.map(([k]) => k);
  assert.deepEqual(keys.slice(keys.indexOf("mac")), [
    "mac",
    "rate",
    "mtu",
    "bridge",
    "handle",
    "type",
    "hotplug-status",
  ]);
  assert.throws(
    () => vif({ domid: 1, devid: 0, mac, rate: "10Mb" }),
    (e: unknown) =>
      e instanceof DeviceConfigError && e.field === "rate" && e.cause instanceof RateSpecError &&
      e.message.includes('invalid rate near "10Mb"'),
  );
  assert.throws(
    () => vif({ domid: 1, devid: 0, mac, rate: { bytesPerInterval: 1, intervalUsecs: 0 } }),
    (e: unknown) => e instanceof DeviceConfigError && e.field === "rate.intervalUsecs",
  );
});

forEachServer(
  "a vif with rate 10Mb/s has rate=62500,50000 in its backend and /libxl",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    const { domid } = await makeDomain(xs, { hypervisor, name: "r", maxMemKb: 65536 });
    const nic = await addDevice(
      xs,
      vif({ domid, devid: 0, mac: "00:16:3e:00:00:02", rate: "10Mb/s" }),
    );
    const be = `/local/domain/0/backend/vif/${domid}/0`;
    assert.equal(await xs.read(`${be}/rate`), "62500,50000");
    assert.deepEqual(await xs.getPerms(`${be}/rate`), [
      { domid: 0, access: "none" },
      { domid, access: "read" },
    ]);
    assert.equal(await xs.read(`/libxl/${domid}/device/vif/0/rate`), "62500,50000");
    assert.deepEqual(await xs.getPerms(`/libxl/${domid}/device/vif/0/rate`), [
      { domid: 0, access: "none" },
    ]);
    assert.equal(nic.devid, 0);
  },
);

Deno.test("parseRate() agrees with Xen 4.17's xl -N network-attach", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "dxl-xl-rate-", dir: "/tmp" });
  try {
    await using xsd = await startXenstored({ dir });
    const xl = await realXl(xsd.socket);
    if (xl === undefined) return;
    for (const [rate] of GOOD) {
      await t.step(`ok ${rate}`, async () => {
        const out = await xl(["-N", "network-attach", "0", `rate=${rate}`]);
        assert.equal(out.code, 0, out.stderr);
        const json = JSON.parse(out.stdout.replace(/^vif: /, ""));
        const want = parseRate(rate);
        assert.equal(json.rate_bytes_per_interval ?? 0, want.bytesPerInterval);
        assert.equal(json.rate_interval_usecs, want.intervalUsecs);
      });
    }
    for (const [rate, part, problem] of BAD) {
      if (rate === "" || rate.startsWith("@")) continue; // xl reads "rate=" differently
      await t.step(`bad ${rate}`, async () => {
        const out = await xl(["-N", "network-attach", "0", `rate=${rate}`]);
        assert.equal(out.code, 1);
        assert.ok(out.stderr.includes(`${problem} in \`${part}'`), out.stderr);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
