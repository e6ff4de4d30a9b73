import assert from "node:assert/strict";
import { devidToDiskName, diskNameToDevid, parseDiskName } from "../../lib/libxl/vdev.ts";

const pure = { permissions: "none" } as const;

Deno.test("diskNameToDevid() encodes xvd names as (202<<8)|(disk<<4)|part", pure, () => {
  assert.equal(diskNameToDevid("xvda"), 51712);
  assert.equal(diskNameToDevid("xvdb"), 51728);
  assert.equal(diskNameToDevid("xvdg"), 51808);
  assert.equal(diskNameToDevid("xvda1"), 51713);
  assert.equal(diskNameToDevid("xvdp15"), (202 << 8) | (15 << 4) | 15);
});

Deno.test("diskNameToDevid() uses the extended form past disk 15 or partition 15", pure, () => {
  assert.equal(diskNameToDevid("xvdq"), (1 << 28) | (16 << 8));
  assert.equal(diskNameToDevid("xvda16"), (1 << 28) | 16);
  assert.equal(diskNameToDevid("xvdaa"), (1 << 28) | (26 << 8));
  assert.equal(diskNameToDevid("d0p1"), 51713);
  assert.equal(diskNameToDevid("d16p0"), (1 << 28) | (16 << 8));
});

Deno.test("diskNameToDevid() encodes hd and sd names", pure, () => {
  assert.equal(diskNameToDevid("hda"), 3 << 8);
  assert.equal(diskNameToDevid("hdb"), (3 << 8) | 64);
  assert.equal(diskNameToDevid("hdc"), 22 << 8);
  assert.equal(diskNameToDevid("hdd63"), (22 << 8) | 64 | 63);
  assert.equal(diskNameToDevid("sda"), 8 << 8);
  assert.equal(diskNameToDevid("sdb2"), (8 << 8) | 16 | 2);
});

Deno.test("diskNameToDevid() accepts plain integers as they are", pure, () => {
  assert.equal(diskNameToDevid("51712"), 51712);
  assert.equal(diskNameToDevid("0x10"), 16);
  assert.equal(diskNameToDevid("010"), 8);
  assert.equal(diskNameToDevid("0"), 0);
});

Deno.test("diskNameToDevid() rejects names libxl rejects, naming the accepted forms", pure, () => {
  for (
    const bad of [
      "",
      "xvd",
      "xvda0",
      "xvda01",
      "xvda256",
      "hde",
      "hda64",
      "sdq",
      "sda16",
      "vda",
      "xvdA",
      "2147483648",
      "-1",
    ]
  ) {
    assert.throws(() => diskNameToDevid(bad), {
      name: "TypeError",
      message: /not a virtual disk name/,
    }, bad);
  }
});

Deno.test("devidToDiskName() inverts the xvd, hd and sd encodings", pure, () => {
  for (
    const name of [
      "xvda",
      "xvdb3",
      "xvdp15",
      "xvdq",
      "xvdaa1",
      "xvdzz255",
      "hda",
      "hdb5",
      "hdc",
      "hdd63",
      "sda",
      "sdp15",
    ]
  ) {
    assert.equal(devidToDiskName(diskNameToDevid(name)), name);
  }
  assert.equal(devidToDiskName(7), undefined);
  assert.equal(parseDiskName("51712")?.disk, undefined);
});
