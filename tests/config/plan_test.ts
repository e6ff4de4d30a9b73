/**
 * plan() as tables: (config, live tree in a real store) → actions. The live tree is laid out
 * in an embedded xenstored and read back with readLive, so each row also covers what readLive
 * takes from the tree.
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { startXenstored } from "../../lib/xenstored/mod.ts";
import { vbd } from "../../lib/libxl/devices/vbd.ts";
import { vif } from "../../lib/libxl/devices/vif.ts";
import { ConfigValidationError, PlanConflictError } from "../../lib/config/errors.ts";
import { readLive } from "../../lib/config/live.ts";
import type { PlanOptions } from "../../lib/config/plan.ts";
import { plan, planChanges, planJson } from "../../lib/config/plan.ts";
import { validateConfig } from "../../lib/config/validate.ts";
import type { SeedDomain } from "./_helpers.ts";
import { seedDomain, summary } from "./_helpers.ts";

const MAC = "00:16:3e:00:00:01";
const web = (extra: Record<string, unknown> = {}) => ({
  name: "web",
  memory: "512M",
  disks: ["phy:/dev/vg0/web,xvda,w"],
  nics: [{ mac: MAC }],
  ...extra,
});
/** The live web domain as `web()` creates it. */
const liveWeb = (extra: Partial<SeedDomain> = {}): SeedDomain => ({
  domid: 3,
  name: "web",
  maxMemKb: 524288,
  devices: (domid) => [
    vbd({ domid, vdev: "xvda", target: "/dev/vg0/web" }),
    vif({ domid, devid: 0, mac: MAC }),
  ],
  ...extra,
});

interface Row {
  what: string;
  config: unknown[];
  live: SeedDomain[];
  options?: PlanOptions;
  expect: string[];
}

const ROWS: Row[] = [
  { what: "an empty host: create", config: [web()], live: [], expect: ["create domain web"] },
  { what: "as declared: noop", config: [web()], live: [liveWeb()], expect: ["noop domain web"] },
  {
    what: "memory target and vcpus online change in place",
    config: [web({ memory: "256M", maxmem: "512M", vcpus: 1, maxvcpus: 2 })],
    live: [liveWeb({ vcpus: 2, online: 2 })],
    expect: ["update domain web (memory 512M -> 256M, vcpus 2 -> 1)"],
  },
  {
    what: "maxmem cannot change: replace",
    config: [web({ memory: "1G" })],
    live: [liveWeb()],
    expect: ["replace domain web (maxmem 512M -> 1G)"],
  },
  {
    what: "type and kernel cannot change: replace",
    config: [web({ type: "pvh", kernel: "/boot/vmlinuz" })],
    live: [liveWeb()],
    expect: ["replace domain web (type pv -> pvh, kernel - -> /boot/vmlinuz)"],
  },
  {
    what: "a new disk and nic, a removed one",
    config: [web({ disks: ["phy:/dev/vg0/web2,xvdb,w"], nics: [{ mac: MAC }, {}] })],
    live: [liveWeb()],
    expect: ["create xvdb of web", "create vif 1 of web", "remove xvda of web"],
  },
  {
    what: "a disk's target changes: replace the device, listing the keys",
    config: [web({ disks: ["phy:/dev/vg0/other,xvda,w"] })],
    live: [liveWeb()],
    expect: ["replace xvda of web (params /dev/vg0/web -> /dev/vg0/other)"],
  },
  {
    what: "a nic's bridge changes: replace",
    config: [web({ nics: [{ mac: MAC, bridge: "xenbr1" }] })],
    live: [liveWeb()],
    expect: ["replace vif 0 of web (bridge xenbr0 -> xenbr1)"],
  },
  {
    what: "a nic without a mac keeps the live one",
    config: [web({ nics: [{}] })],
    live: [liveWeb()],
    expect: ["noop domain web"],
  },
  {
    what: "an HVM guest's cdrom media changes in place",
    config: [web({
      type: "hvm",
      disks: ["phy:/dev/vg0/web,xvda,w", "/srv/b.iso,raw,hdc,r,devtype=cdrom"],
    })],
    live: [liveWeb({
      type: "hvm",
      devices: (domid) => [
        vbd({ domid, vdev: "xvda", target: "/dev/vg0/web", protocol: false }),
        vbd({
          domid,
          vdev: "hdc",
          target: "/srv/a.iso",
          cdrom: true,
          backend: "qdisk",
          protocol: false,
        }),
        vif({ domid, devid: 0, mac: MAC }),
      ],
    })],
    expect: ["update hdc of web (params aio:/srv/a.iso -> aio:/srv/b.iso)"],
  },
  {
    what: "a PV guest's cdrom media cannot change in place: replace",
    config: [web({ disks: ["phy:/dev/vg0/web,xvda,w", "/srv/b.iso,raw,hdc,r,devtype=cdrom"] })],
    live: [liveWeb({
      devices: (domid) => [
        vbd({ domid, vdev: "xvda", target: "/dev/vg0/web" }),
        vbd({ domid, vdev: "hdc", target: "/srv/a.iso", cdrom: true }),
        vif({ domid, devid: 0, mac: MAC }),
      ],
    })],
    expect: ["replace hdc of web (params /srv/a.iso -> /srv/b.iso)"],
  },
  {
    what: "domains dxl created but the config no longer declares are kept without prune",
    config: [web()],
    live: [liveWeb(), { domid: 4, name: "old" }],
    expect: ["noop domain web"],
  },
  {
    what: "... and removed with prune",
    config: [web()],
    live: [liveWeb(), { domid: 4, name: "old" }],
    options: { prune: true },
    expect: ["noop domain web", "remove domain old"],
  },
  {
    what: "prune never touches a domain dxl did not create",
    config: [web()],
    live: [liveWeb(), { domid: 4, name: "foreign", managed: false }],
    options: { prune: true },
    expect: ["noop domain web"],
  },
  {
    what: "an unfinished removal is finished, and the name is free again",
    config: [web()],
    live: [liveWeb({ removing: true })],
    expect: ["remove domain web", "create domain web"],
  },
  {
    what: "destroy removes the declared domains only",
    config: [web()],
    live: [liveWeb(), { domid: 4, name: "old" }],
    options: { destroy: true },
    expect: ["remove domain web"],
  },
  {
    what: "driver domains are created first",
    config: [
      { name: "web", nics: [{ backend: "netdom" }] },
      { name: "netdom", driverDomain: true },
    ],
    live: [],
    expect: ["create domain netdom", "create domain web"],
  },
  {
    what: "a device whose backend domain is being created is replaced",
    config: [
      { name: "netdom", driverDomain: true },
      web({ nics: [{ mac: MAC, backend: "netdom" }] }),
    ],
    live: [liveWeb()],
    expect: [
      "create domain netdom",
      "replace vif 0 of web (backend 0 -> netdom)",
    ],
  },
  {
    what: "a backend domain on the host moves a nic there",
    config: [web({ nics: [{ mac: MAC, backend: "netdom" }] })],
    live: [liveWeb(), { domid: 9, name: "netdom", managed: false }],
    expect: ["replace vif 0 of web (backend 0 -> 9)"],
  },
];

for (const row of ROWS) {
  Deno.test(`plan(): ${row.what}`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "dxl-plan-", dir: "/tmp" });
    try {
      await using xsd = await startXenstored({ dir });
      await using xs = await connect({ path: xsd.socket });
      for (const d of row.live) {
        xsd.createDomain(d.domid); // xenstored refuses permissions naming unknown domains
        await seedDomain(xs, d);
      }
      const config = validateConfig({ domains: row.config }, { script: "site.ts" });
      const p = plan(config, await readLive(xs), row.options ?? {});
      assert.deepEqual(summary(p), row.expect);
      assert.deepEqual(JSON.parse(planJson(p)), p); // a plain value
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("plan() refuses a declared name held by a domain dxl did not create", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dxl-plan-", dir: "/tmp" });
  try {
    await using xsd = await startXenstored({ dir });
    await using xs = await connect({ path: xsd.socket });
    await seedDomain(xs, { domid: 5, name: "web", managed: false });
    const config = validateConfig({ domains: [web()] }, { script: "site.ts" });
    const live = await readLive(xs);
    assert.throws(() => plan(config, live), (e: unknown) => {
      assert.ok(e instanceof PlanConflictError);
      assert.equal(
        e.message,
        'site.ts: domain "web" (domid 5) exists and was not created by dxl; dxl never touches it (rename one of them)',
      );
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("plan() refuses to replace a domain that keeps its fixed domid", () => {
  const config = validateConfig({ domains: [{ name: "web", domid: 3, type: "hvm" }] }, {
    script: "site.ts",
  });
  const live = {
    domains: [{
      domid: 3,
      name: "web",
      managed: true,
      removing: false,
      type: "pv",
      maxMemKb: 32768,
      targetMemKb: 32768,
      vcpus: 1,
      vcpusOnline: 1,
      driverDomain: false,
      devices: [],
    }],
  };
  assert.throws(() => plan(config, live), {
    name: "PlanConflictError",
    message: 'site.ts: domain "web" must be replaced (type changed) but keeps its fixed domid 3, ' +
      "which the new domain cannot have while the old one exists: destroy it first, then apply",
  });
});

Deno.test("plan() reports a backend domain that exists nowhere", () => {
  const config = validateConfig({
    domains: [{ name: "web", nics: [{ backend: "ghost" }] }],
  }, { script: "site.ts" });
  assert.throws(() => plan(config, { domains: [] }), (e: unknown) => {
    assert.ok(e instanceof ConfigValidationError);
    assert.equal(
      e.message,
      'site.ts: domains["web"].nics[0].backend: backend domain "ghost" does not exist (neither on the host nor in the config)',
    );
    return true;
  });
});

Deno.test("planChanges() leaves out noops", () => {
  const config = validateConfig({ domains: [{ name: "a" }, { name: "b" }] });
  const p = plan(config, {
    domains: [{
      domid: 1,
      name: "a",
      managed: true,
      removing: false,
      type: "pv",
      maxMemKb: 32768,
      targetMemKb: 32768,
      vcpus: 1,
      vcpusOnline: 1,
      driverDomain: false,
      devices: [],
    }],
  });
  assert.deepEqual(summary(p), ["noop domain a", "create domain b"]);
  assert.deepEqual(planChanges(p).map((a) => a.domain), ["b"]);
});
