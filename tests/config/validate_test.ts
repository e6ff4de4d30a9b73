/**
 * validateConfig as tables: a config value → the exact error lines (all at once), and the
 * defaults a valid config gets.
 */

import assert from "node:assert/strict";
import { ConfigValidationError } from "../../lib/config/errors.ts";
import { validateConfig } from "../../lib/config/validate.ts";

const VTPM_UUID = "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b";

/** (what, config, the exact message lines) */
const INVALID: [string, unknown, string[]][] = [
  ["not an object", [1], ["web.ts: (config): expected an object with domains, got an array"]],
  ["domains missing", {}, ["web.ts: domains: is required"]],
  ["domains not a list", { domains: 3 }, ["web.ts: domains: expected an array, got 3"]],
  ["unknown top-level field", { domains: [], domain: [] }, ["web.ts: domain: unknown field"]],
  ["a domain that is not an object", { domains: ["web"] }, [
    'web.ts: domains[0]: expected an object, got "web"',
  ]],
  ["name missing", { domains: [{ memory: "1G" }] }, ["web.ts: domains[0].name: is required"]],
  ["name empty", { domains: [{ name: "" }] }, ['web.ts: domains[""].name: must not be empty']],
  ["name all digits", { domains: [{ name: "12" }] }, [
    'web.ts: domains["12"].name: "12" is not a valid domain name: xl reads a number as a domid',
  ]],
  ["bad vdev in a disk object", {
    domains: [{ name: "web", disks: ["phy:/dev/vg0/web,xvda,w", { target: "/a", vdev: "xvd9" }] }],
  }, ['web.ts: domains["web"].disks[1].vdev: "xvd9" is not a valid virtual disk']],
  ["bad vdev in a disk spec string", {
    domains: [{ name: "web", disks: ["phy:/dev/vg0/web,xvd9,w"] }],
  }, ['web.ts: domains["web"].disks[0].vdev: "xvd9" is not a valid virtual disk']],
  ["bad disk spec", { domains: [{ name: "web", disks: ["/dev/vg0/web,xvda"] }] }, [
    'web.ts: domains["web"].disks[0]: Invalid disk spec "/dev/vg0/web,xvda": unknown value for format near "xvda"',
  ]],
  ["disk neither string nor object", { domains: [{ name: "web", disks: [4] }] }, [
    'web.ts: domains["web"].disks[0]: expected a string or an object, got 4',
  ]],
  ["disk object missing target, unknown key", {
    domains: [{ name: "web", disks: [{ vdev: "xvda", mode: "w" }] }],
  }, [
    'web.ts: domains["web"].disks[0].target: is required',
    'web.ts: domains["web"].disks[0].mode: unknown field',
  ]],
  ["memory", { domains: [{ name: "web", memory: "lots", maxmem: 0 }] }, [
    'web.ts: domains["web"].memory: "lots" is not a memory size: expected KiB as a number, or a whole number with K, M, G or T ("512M", "2G")',
    'web.ts: domains["web"].maxmem: 0 is not a memory size: a number is KiB and must be a whole number > 0',
  ]],
  ["memory over maxmem", { domains: [{ name: "web", memory: "2G", maxmem: "1G" }] }, [
    'web.ts: domains["web"].memory: "2G" is more than maxmem "1G"',
  ]],
  ["vcpus", { domains: [{ name: "web", vcpus: 4, maxvcpus: 2 }, { name: "db", vcpus: 0.5 }] }, [
    'web.ts: domains["web"].vcpus: 4 is more than maxvcpus 2',
    'web.ts: domains["db"].vcpus: 0.5 is not an integer from 1 to 4096',
  ]],
  ["type, uuid, domid", {
    domains: [{ name: "web", type: "xen", uuid: "nope", domid: 0 }],
  }, [
    'web.ts: domains["web"].type: expected "pv" or "pvh" or "hvm", got "xen"',
    'web.ts: domains["web"].uuid: "nope" is not a uuid (8-4-4-4-12 hex digits)',
    'web.ts: domains["web"].domid: 0 is not an integer from 1 to 32751',
  ]],
  ["a typo in a field", { domains: [{ name: "web", memroy: "1G" }] }, [
    'web.ts: domains["web"].memroy: unknown field',
  ]],
  ["nic fields", {
    domains: [{ name: "web", nics: [{ mac: "zz" }, { rate: "fast" }, { bridge: 3 }] }],
  }, [
    'web.ts: domains["web"].nics[2].bridge: expected a string, got 3',
    'web.ts: domains["web"].nics[0].mac: "zz" is not six hex bytes separated by colons',
    'web.ts: domains["web"].nics[1].rate: Invalid rate "fast": invalid rate near "fast"',
  ]],
  ["pci", { domains: [{ name: "web", pci: ["0000:03:00.0", { bdf: "x" }] }] }, [
    'web.ts: domains["web"].pci[1].bdf: "x" is not dddd:bb:dd.f',
  ]],
  ["backend naming the domain itself", { domains: [{ name: "web", backend: "web" }] }, [
    'web.ts: domains["web"].backend: "web" is this domain itself',
  ]],
  ["duplicate names", { domains: [{ name: "web" }, { name: "db" }, { name: "web" }] }, [
    'web.ts: domains[2].name: "web" is also the name of domains[0]',
  ]],
  ["duplicate uuids and domids", {
    domains: [
      { name: "a", uuid: VTPM_UUID, domid: 5 },
      { name: "b", uuid: VTPM_UUID.toUpperCase(), domid: 5 },
    ],
  }, [
    `web.ts: domains["b"].uuid: "${VTPM_UUID}" is also the uuid of domains["a"]`,
    'web.ts: domains["b"].domid: 5 is also the domid of domains["a"]',
  ]],
  ["two vdevs for one disk", {
    domains: [{ name: "web", disks: ["/dev/a,raw,xvda", "/dev/b,raw,51712", "/dev/c,raw,d0p0"] }],
  }, [
    'web.ts: domains["web"].disks[1].vdev: "51712" is the same disk (devid 51712) as disks[0] ("xvda")',
    'web.ts: domains["web"].disks[2].vdev: "d0p0" is the same disk (devid 51712) as disks[0] ("xvda")',
  ]],
  ["a MAC twice, across domains", {
    domains: [
      { name: "a", nics: [{ mac: "00:16:3e:00:00:01" }] },
      { name: "b", nics: [{ mac: "00:16:3E:00:00:01" }] },
    ],
  }, [
    'web.ts: domains["b"].nics[0].mac: "00:16:3e:00:00:01" is also the MAC of domains["a"].nics[0]',
  ]],
  ["a devid twice", { domains: [{ name: "web", nics: [{}, { devid: 0 }] }] }, [
    'web.ts: domains["web"].nics[1].devid: 0 is also the devid of nics[0]',
  ]],
  ["every error at once, across fields and domains", {
    domains: [
      { name: "web", memory: "1X", disks: [{ target: "/a", vdev: "nope" }], nics: [{ mac: "x" }] },
      { name: "db", type: "hvm", vcpus: -1 },
    ],
  }, [
    'web.ts: domains["web"].memory: "1X" is not a memory size: expected KiB as a number, or a whole number with K, M, G or T ("512M", "2G")',
    'web.ts: domains["web"].disks[0].vdev: "nope" is not a valid virtual disk',
    'web.ts: domains["web"].nics[0].mac: "x" is not six hex bytes separated by colons',
    'web.ts: domains["db"].vcpus: -1 is not an integer from 1 to 4096',
  ]],
];

for (const [what, config, lines] of INVALID) {
  Deno.test(`validateConfig() reports ${what}`, () => {
    let error: unknown;
    try {
      validateConfig(config, { script: "web.ts" });
    } catch (e) {
      error = e;
    }
    assert.ok(
      error instanceof ConfigValidationError,
      `expected a ConfigValidationError, got ${error}`,
    );
    assert.deepEqual(error.message.split("\n"), lines);
    assert.equal(error.issues.length, lines.length);
    assert.equal(error.script, "web.ts");
  });
}

Deno.test("validateConfig() fills in xl's defaults", () => {
  const config = validateConfig({ domains: [{ name: "web" }] });
  assert.deepEqual(config, {
    script: "config",
    domains: [{
      name: "web",
      type: "pv",
      maxMemKb: 32768,
      targetMemKb: 32768,
      videoramKb: 0,
      vcpus: 1,
      vcpusOnline: 1,
      driverDomain: false,
      devices: [],
    }],
  });
});

Deno.test("validateConfig() takes memory units, plain KiB, maxmem and maxvcpus", () => {
  const [a, b, c] = validateConfig({
    domains: [
      { name: "a", memory: "512M" },
      { name: "b", memory: 262144, maxmem: "1G", vcpus: 2, maxvcpus: 4 },
      { name: "c", maxmem: "2G", type: "hvm" },
    ],
  }).domains;
  assert.deepEqual([a!.targetMemKb, a!.maxMemKb], [524288, 524288]);
  assert.deepEqual([b!.targetMemKb, b!.maxMemKb, b!.vcpusOnline, b!.vcpus], [
    262144,
    1048576,
    2,
    4,
  ]);
  assert.deepEqual([c!.targetMemKb, c!.maxMemKb, c!.videoramKb], [2097152, 2097152, 8192]);
});

Deno.test("validateConfig() parses disks as xl does and orders devices as libxl_domain_create", () => {
  const [web] = validateConfig({
    domains: [{
      name: "web",
      nics: [{ bridge: "xenbr1", rate: "10Mb/s" }],
      disks: [
        "phy:/dev/vg0/web,xvda,w",
        { target: "/srv/web.qcow2", vdev: "xvdb", format: "qcow2" },
        { target: "", vdev: "hdc", devtype: "cdrom" },
      ],
      vkbds: [{}],
      vfbs: [{}],
      p9s: [{ tag: "share", path: "/srv/share" }],
      consoles: [{ name: "org.example.chan" }],
      vtpms: [{ uuid: VTPM_UUID }],
      vusbs: [{}],
      pci: ["0000:03:00.0"],
    }],
  }).domains;
  assert.deepEqual(web!.devices.map((d) => `${d.kind}/${d.devid} ${d.label}`), [
    "vbd/51712 xvda",
    "vbd/51728 xvdb",
    "vbd/5632 hdc",
    "console/1 console 1",
    "9pfs/0 9pfs 0",
    "vfb/0 vfb 0",
    "vkbd/0 vkbd 0",
    "vif/0 vif 0",
    "vtpm/0 vtpm 0",
    "vusb/0 vusb 0",
    "pci/0 pci 0",
  ]);
  const [xvda, xvdb, hdc] = web!.devices;
  assert.equal(xvda!.kind === "vbd" && xvda!.options.backend, "phy");
  assert.equal(xvdb!.kind === "vbd" && xvdb!.options.backend, "qdisk"); // qcow2 → qdisk, as libxl
  assert.equal(hdc!.kind === "vbd" && hdc!.options.format, "empty");
});

Deno.test("validateConfig() carries backends: the domain's, a device's own, a disk spec's", () => {
  const [web] = validateConfig({
    domains: [{
      name: "web",
      backend: "netdom",
      nics: [{}, { backend: "other" }],
      disks: ["vdev=xvda,backend=stor,target=/dev/x"],
    }],
  }).domains;
  assert.deepEqual(web!.devices.map((d) => d.backend), ["stor", "netdom", "other"]);
});
