/**
 * parseDiskSpec(): xl's disk spec grammar (libxlu_disk_l.l, libxlu_disk.c) and libxl's
 * backend choice (libxl__device_disk_set_backend), as tables; the parse half is also
 * checked against Xen 4.17's own `xl -N block-attach` when it can run here.
 */

import assert from "node:assert/strict";
import type { DiskSpec, ParseDiskSpecOptions } from "../../lib/libxl/disk_spec.ts";
import { parseDiskSpec, statDiskTarget } from "../../lib/libxl/disk_spec.ts";
import { vbd } from "../../lib/libxl/devices/vbd.ts";
import { DiskSpecError } from "../../lib/libxl/errors.ts";
import { startXenstored } from "../../lib/xenstored/mod.ts";
import { realXl } from "./_xl.ts";

/** A writable phy disk: what most specs below differ from. */
const DISK: DiskSpec = {
  vdev: "xvda",
  target: "/dev/vg0/web",
  backend: "phy",
  format: "raw",
  readwrite: true,
  cdrom: false,
  removable: false,
  discardEnable: true,
  directIoSafe: false,
  trusted: true,
};
const RO = { readwrite: false, discardEnable: false };
const CDROM = { cdrom: true, removable: true, readwrite: false, discardEnable: false };
const EMPTY_CDROM = { ...CDROM, target: "", format: "empty", backend: "qdisk" } as const;

type Good = [spec: string, want: Partial<DiskSpec>, options?: ParseDiskSpecOptions];

/** Good specs: the result differs from DISK by `want`. */
const GOOD: Good[] = [
  // The deprecated prefix form: the prefix is ignored, libxl picks phy for a raw image.
  ["phy:/dev/vg0/web,xvda,w", {}],
  ["phy:/dev/vg0/web,xvda", {}],
  ["file:/srv/a.img,xvdb,r", { vdev: "xvdb", target: "/srv/a.img", ...RO }],
  ["tap:aio:/srv/a.img,xvdb,w", { vdev: "xvdb", target: "/srv/a.img" }],
  ["raw:/dev/vg0/web,xvda,rw", {}],
  ["qcow2:/srv/a.qcow2,xvdc,w", {
    vdev: "xvdc",
    target: "/srv/a.qcow2",
    format: "qcow2",
    backend: "qdisk",
  }],
  ["qcow:/srv/a.qcow,xvdc,ro", {
    vdev: "xvdc",
    target: "/srv/a.qcow",
    format: "qcow",
    backend: "qdisk",
    ...RO,
  }],
  ["vhd:/srv/a.vhd,xvdc", { vdev: "xvdc", target: "/srv/a.vhd", format: "vhd", backend: "qdisk" }],
  ["iscsi:iqn.2001-05.com.example:web,xvda,w", {
    target: "iqn.2001-05.com.example:web",
    script: "block-iscsi",
  }],
  ["drbd:web,xvda,w", { target: "web", script: "block-drbd" }],
  // The positional form target,format,vdev,access (docs/man/xl-disk-configuration.5.pod).
  ["/dev/vg0/web,,xvda", {}],
  ["/dev/vg0/web,raw,xvda,rw", {}],
  ["/srv/a.qed,qed,xvda,w", { target: "/srv/a.qed", format: "qed", backend: "qdisk" }],
  ["/root/image.iso,,hdc,cdrom", { vdev: "hdc", target: "/root/image.iso", ...CDROM }],
  ["/root/image.iso,,hdc,,cdrom", { vdev: "hdc", target: "/root/image.iso", ...CDROM }],
  ["/root/image.iso,raw,hdc,devtype=cdrom", { vdev: "hdc", target: "/root/image.iso", ...CDROM }],
  ["raw:/root/image.iso,hdc:cdrom,ro", { vdev: "hdc", target: "/root/image.iso", ...CDROM }],
  // A cdrom is read-only whatever the access says (xlu_disk_parse).
  ["/root/image.iso,,hdc,w,devtype=cdrom", { vdev: "hdc", target: "/root/image.iso", ...CDROM }],
  // Empty cdrom drives: xend's `,hdc:cdrom,r`, and no target at all. libxl: qdisk.
  [",hdc:cdrom,r", { vdev: "hdc", ...EMPTY_CDROM }],
  ["vdev=hdc,devtype=cdrom", { vdev: "hdc", ...EMPTY_CDROM }],
  [",,hdc,cdrom", { vdev: "hdc", ...EMPTY_CDROM }],
  // key=value, whitespace before parameters, target= taking the rest (commas and colons).
  ["format=raw, vdev=xvda, access=rw, target=/dev/vg0/web", {}],
  ["vdev=xvda,target=/srv/a,b:c.img", { target: "/srv/a,b:c.img" }],
  ["vdev=xvda,target=/srv/a.img,", { target: "/srv/a.img" }],
  ["vdev=xvda,access=ro,target=/dev/vg0/web", RO],
  ["vdev=xvda,access=,target=/dev/vg0/web", {}],
  ["vdev=xvda,format=qcow2,target=/srv/a.qcow2", {
    target: "/srv/a.qcow2",
    format: "qcow2",
    backend: "qdisk",
  }],
  ["vdev=xvda,backendtype=qdisk,target=/srv/a.img", { target: "/srv/a.img", backend: "qdisk" }],
  ["vdev=xvda,backendtype=phy,target=/dev/vg0/web", {}],
  ["vdev=xvda,script=block-nbd,target=nbd:host:1", { target: "nbd:host:1", script: "block-nbd" }],
  ["vdev=xvda,specification=xen,target=/dev/vg0/web", {}],
  ["/dev/vg0/web,,xvda,no-discard,direct-io-safe", { discardEnable: false, directIoSafe: true }],
  ["/dev/vg0/web,,xvda,r,discard", { readwrite: false }],
  ["/dev/vg0/web,,xvda,no-colo,colo-host=h,colo-port=9000", {}],
  // Backend domain: by id, or by name for the caller to resolve.
  ["/dev/vg0/web,,xvda,backend=3", { backendDomid: 3 }],
  ["/dev/vg0/web,,xvda,backend=", {}],
  ["/dev/vg0/web,,xvda,backend=storage", { backendName: "storage" }],
  // libxl stats the target: a directory is no block device or file → qdisk.
  ["/srv/dir,,xvda", { target: "/srv/dir", backend: "qdisk" }, { targetKind: () => "other" }],
  ["/srv/a.img,,xvda", { target: "/srv/a.img" }, { targetKind: () => "file" }],
  // ...but not with a script or in a driver domain.
  ["/srv/x,,xvda,script=block-x", { target: "/srv/x", script: "block-x" }, {
    targetKind: () => undefined,
  }],
  // HVM: a cdrom always on qdisk, no frontend protocol; PVH: no protocol either.
  ["/root/a.iso,,hdc,cdrom", {
    vdev: "hdc",
    target: "/root/a.iso",
    ...CDROM,
    backend: "qdisk",
    protocol: false,
  }, {
    domainType: "hvm",
  }],
  ["/dev/vg0/web,,xvda", { protocol: false }, { domainType: "pvh" }],
];

type Bad = [spec: string, part: string, problem: string, options?: ParseDiskSpecOptions];

/** Specs xl's parser refuses: the part named and the problem, in xl's words. */
const PARSE_BAD: Bad[] = [
  ["/dev/vg0/web,xvda,w", "xvda", "unknown value for format"],
  ["/a,qcow3,xvda", "qcow3", "unknown value for format"],
  ["format=qcow4,vdev=xvda,target=/a", "qcow4", "unknown value for format"],
  ["qcow2:/a,xvda,format=raw", "raw", "format respecified"],
  ["devtype=floppy,/a,,xvda", "devtype=floppy,", "unknown value for type"],
  ["/a,,xvda,access=x", "x", "unknown value for access"],
  ["/a,,xvda,rx", "rx", "unknown value for access"],
  ["/a,,xvda,backendtype=blk", "blk", "unknown value for backendtype"],
  ["/a,,xvda,backendtype=phy,backendtype=qdisk", "qdisk", "backend respecified"],
  ["/a,,xvda,specification=scsi", "scsi", "unknown value for specification"],
  ["vdev=xvda,vdev=xvdb,target=/a", "xvdb", "vdev respecified"],
  ["/a,,xvda,vdev=xvdb", "xvdb", "vdev respecified"],
  ["/a,,xvda,target=/b", "/b", "target respecified"],
  ["/a,,xvda,script=x,script=y", "y", "script respecified"],
  ["iscsi:/a,xvda,script=x", "x", "script respecified"],
  ["/a,,xvda,colo-host=h,colo-host=i", "i", "colo-host respecified"],
  ["/a,,xvda,colo-port=x", "x", "unknown value for colo_port"],
  ["/a,,xvda,mode=w", "mode=w", "unknown parameter"],
  ["/a,,xvda,mode=rw", "mode=r", "unknown parameter"],
  // xl 4.17's generated scanner has no `trusted`/`untrusted` flags: they are positional.
  ["/a,,xvda,untrusted", "untrusted", "unknown value for access"],
  ["/a,,xvda,w,trusted", "trusted", "too many positional parameters"],
  ["foo:/a,xvda", "foo:", "unknown deprecated disk prefix"],
  [",hdc:floppy,r", "floppy", "unknown deprecated type"],
  ["/a,,xvda,w,extra", "extra", "too many positional parameters"],
  ["Format=raw", "=raw", "bad disk syntax"],
  ["=/a", "=/a", "bad disk syntax"],
  ["/a", "vdev", "no vdev specified"],
  ["", "vdev", "no vdev specified"],
  ["vdev=xvda", "target", "no target specified (and device not removable)"],
  ["target=/dev/vg0/web", "vdev", "no vdev specified"],
];

/** Specs xl parses but libxl (or dxl) refuses when adding the disk. */
const ADD_BAD: Bad[] = [
  ["vdev=xvda,format=empty,target=", "xvda", "the disk is empty but not a cdrom"],
  [",hdc:disk,w", "hdc", "the disk is empty but not a cdrom"],
  ["/a.iso,empty,hdc,devtype=cdrom", "/a.iso", "an image has been provided"],
  ["vdev=xvda,format=qcow2,backendtype=phy,target=/a", "phy", "phy unsuitable due to format qcow2"],
  ["vdev=xvda,backendtype=tap,target=/a", "tap", "blktap not available"],
  [
    "vdev=xvda,format=qcow2,script=block-x,target=/a",
    "block-x",
    "qdisk not compatible with script",
  ],
  ["/dev/sr0,,hdc,cdrom,backendtype=phy", "phy", "must be Qdisk", { domainType: "hvm" }],
  ["/a,,xvda", "/a", "failed to stat the target", { targetKind: () => undefined }],
  ["/a,,xvda,backend=32752", "32752", "backend must be an integer from 0 to 32751"],
  // What dxl cannot express.
  ["/a,,xvda,colo", "colo", "COLO is not supported by dxl"],
  ["/a,,xvda,specification=virtio", "specification=virtio", "virtio disks are not supported"],
  ["/a,,xvda,backendtype=standalone", "standalone", "not compatible with specification xen"],
  // What libxl__device_from_disk refuses: not a disk name.
  ["/a,,qq", "qq", "is not a virtual disk name"],
  ["/a,,hde", "hde", "is not a virtual disk name"],
];

Deno.test("parseDiskSpec() parses each form as xl does and picks libxl's backend", async (t) => {
  for (const [spec, want, options] of GOOD) {
    await t.step(JSON.stringify(spec), () => {
      const expected: DiskSpec = { ...DISK };
      for (const [k, v] of Object.entries(want)) {
        if (v === undefined) continue;
        (expected as unknown as Record<string, unknown>)[k] = v;
      }
      assert.deepEqual(parseDiskSpec(spec, options), expected);
    });
  }
});

Deno.test("parseDiskSpec() rejects every bad part with a DiskSpecError naming it", async (t) => {
  for (const [spec, part, problem, options] of [...PARSE_BAD, ...ADD_BAD]) {
    await t.step(JSON.stringify(spec), () => {
      assert.throws(() => parseDiskSpec(spec, options), (e: unknown) => {
        assert.ok(e instanceof DiskSpecError, String(e));
        assert.ok(e instanceof TypeError);
        assert.equal(e.name, "DiskSpecError");
        assert.equal(e.spec, spec);
        assert.equal(e.part, part);
        assert.ok(e.message.includes(problem), e.message);
        assert.ok(e.message.includes(JSON.stringify(part)), e.message);
        return true;
      });
    });
  }
});

Deno.test("parseDiskSpec() results build the vbd libxl writes (params, type, script)", () => {
  const phy = vbd({ domid: 1, ...parseDiskSpec("phy:/dev/vg0/web,xvda,w") });
  assert.equal(phy.backendKind, "vbd");
  assert.deepEqual(phy.back.slice(0, 2), [["params", "/dev/vg0/web"], [
    "script",
    "/etc/xen/scripts/block",
  ]]);
  const q = vbd({ domid: 1, ...parseDiskSpec("qcow2:/srv/a.qcow2,xvdb,w") });
  assert.equal(q.backendKind, "qdisk");
  assert.deepEqual(q.back[0], ["params", "qcow2:/srv/a.qcow2"]);
  const cd = vbd({ domid: 1, ...parseDiskSpec(",hdc:cdrom,r") });
  assert.deepEqual(cd.back[0], ["params", "aio:"], "libxl: format string of empty is aio");
  assert.ok(cd.back.some(([k, v]) => k === "device-type" && v === "cdrom"));
});

Deno.test("statDiskTarget() reads what stat() says", { permissions: { read: true } }, () => {
  assert.equal(statDiskTarget("/nonexistent-dxl/a.img"), undefined);
  assert.equal(statDiskTarget("/"), "other");
  assert.equal(statDiskTarget("/etc/hostname"), "file");
});

/** xl's dry-run JSON of a parsed disk, as our result would make it (parse-level fields only). */
function asXlJson(d: DiskSpec, spec: string): Record<string, unknown> {
  const j: Record<string, unknown> = {};
  if (d.backendName !== undefined) j.backend_domname = d.backendName;
  if (d.backendDomid !== undefined) j.backend_domname = String(d.backendDomid);
  else if (/backend=(,|$)/.test(spec)) j.backend_domname = "";
  if (!(d.format === "empty" && d.target === "" && !/(^|,)(target=)?,/.test(spec))) {
    j.pdev_path = d.target;
  }
  j.vdev = d.vdev;
  const explicit = /backendtype=(phy|qdisk)/.exec(spec);
  if (explicit) j.backend = explicit[1];
  j.format = d.format;
  if (d.script !== undefined) j.script = d.script;
  if (d.removable) j.removable = 1;
  if (d.readwrite) j.readwrite = 1;
  if (d.cdrom) j.is_cdrom = 1;
  if (d.directIoSafe) j.direct_io_safe = true;
  return j;
}

Deno.test("parseDiskSpec() parses as Xen 4.17's xl -N block-attach does", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "dxl-xl-disk-", dir: "/tmp" });
  try {
    await using xsd = await startXenstored({ dir });
    const xl = await realXl(xsd.socket);
    if (xl === undefined) return;
    for (const [spec] of GOOD) {
      if (spec.includes("specification=") || spec.includes("colo")) continue;
      await t.step(`ok ${JSON.stringify(spec)}`, async () => {
        const out = await xl(["-N", "block-attach", "0", spec]);
        assert.equal(out.code, 0, out.stderr);
        const json = JSON.parse(out.stdout.replace(/^disk: /, ""));
        delete json.discard_enable;
        delete json.trusted;
        assert.deepEqual(json, asXlJson(parseDiskSpec(spec), spec));
      });
    }
    // Refusals at xl's parse stage: the same problem near the same part.
    for (const [spec, part, problem] of PARSE_BAD) {
      await t.step(`bad ${JSON.stringify(spec)}`, async () => {
        const out = await xl(["-N", "block-attach", "0", spec]);
        assert.equal(out.code, 1);
        const near = part === "vdev" || part === "target" ? "" : `: near \`${part}'`;
        assert.ok(out.stderr.includes(`${problem}${near} in \`${spec}'`), out.stderr);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
