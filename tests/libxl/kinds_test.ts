import assert from "node:assert/strict";
import { vkbd } from "../../lib/libxl/devices/vkbd.ts";
import { vtpm } from "../../lib/libxl/devices/vtpm.ts";
import { vusb } from "../../lib/libxl/devices/vusb.ts";
import { vdispl } from "../../lib/libxl/devices/vdispl.ts";
import { vsnd } from "../../lib/libxl/devices/vsnd.ts";
import { vfb } from "../../lib/libxl/devices/vfb.ts";
import { p9 } from "../../lib/libxl/devices/p9.ts";
import { pci } from "../../lib/libxl/devices/pci.ts";
import { DeviceConfigError } from "../../lib/libxl/errors.ts";
import { expectedLayout } from "./_helpers.ts";

const pure = { permissions: "none" } as const;
const UUID = "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b";

function keys(entries: readonly (readonly [string, string])[]): string[] {
  return entries.map(([k, v]) => `${k}=${v}`);
}

Deno.test(
  "vkbd() with the linux backend is kind vinput under backend/, vkbd elsewhere (§6.6)",
  pure,
  () => {
    const k = vkbd({
      domid: 1,
      devid: 0,
      backend: "linux",
      uniqueId: "kbd0",
      featureAbsPointer: true,
      featureRawPointer: false,
      width: 1024,
      height: 768,
    });
    assert.equal(k.kind, "vkbd");
    assert.equal(k.backendKind, "vinput");
    assert.equal(k.waitsForBackend, false);
    assert.deepEqual(keys(k.back), [
      "frontend-id=1",
      "online=1",
      "state=1",
      "unique-id=kbd0",
      "feature-abs-pointer=1",
      "width=1024",
      "height=768",
    ]);
    assert.deepEqual(keys(k.front), ["backend-id=0", "state=1"]);
    const layout = expectedLayout(k);
    assert.match(layout, /^\/local\/domain\/0\/backend\/vinput\/1\/0 = "" {3}\(n0,r1\)$/m);
    assert.match(
      layout,
      /^\/libxl\/1\/device\/vkbd\/0\/backend = "\/local\/domain\/0\/backend\/vinput\/1\/0" {3}\(n0\)$/m,
    );
    assert.equal(vkbd({ domid: 1, devid: 0 }).backendKind, "vkbd");
  },
);

Deno.test("vtpm() writes handle, uuid and the literal resume=False (§6.7)", pure, () => {
  const t = vtpm({ domid: 3, devid: 0, backendDomid: 2, uuid: UUID });
  assert.deepEqual(keys(t.back), [
    "frontend-id=3",
    "online=1",
    "state=1",
    "handle=0",
    `uuid=${UUID}`,
    "resume=False",
  ]);
  assert.deepEqual(keys(t.front), ["backend-id=2", "state=1", "handle=0"]);
  assert.match(
    expectedLayout(t),
    /^\/local\/domain\/3\/device\/vtpm\/0\/handle = "0" {3}\(n3,r2\)$/m,
  );
  assert.throws(() => vtpm({ domid: 3, devid: 0, uuid: "nope" }), {
    name: "DeviceConfigError",
    message: /uuid/,
  });
});

Deno.test("vusb() type pv writes usb-ver, num-ports and empty ports (§6)", pure, () => {
  const c = vusb({ domid: 1, devid: 0 });
  assert.deepEqual(keys(c.back), [
    "frontend-id=1",
    "online=1",
    "state=1",
    "type=pv",
    "usb-ver=2",
    "num-ports=8",
    "port=",
    ...Array.from({ length: 8 }, (_, i) => `port/${i + 1}=`),
  ]);
  assert.deepEqual(keys(c.front), ["backend-id=0", "state=1"]);
  const dm = vusb({ domid: 1, devid: 1, type: "devicemodel", version: 1, ports: 2 });
  assert.equal(dm.backendKind, "none");
  assert.equal(dm.front.length, 0);
  assert.equal(expectedLayout(dm).includes("/local/domain"), false);
  assert.throws(() => vusb({ domid: 1, devid: 0, ports: 32 }), {
    name: "DeviceConfigError",
    message: /ports/,
  });
});

Deno.test("vdispl() makes be-alloc and connector keys read-only frontend keys (§6.7)", pure, () => {
  const d = vdispl({
    domid: 1,
    devid: 0,
    beAlloc: true,
    connectors: [{ width: 800, height: 600, uniqueId: "c0" }],
  });
  assert.deepEqual(keys(d.back), ["frontend-id=1", "online=1", "state=1"]);
  assert.deepEqual(keys(d.front), ["backend-id=0", "state=1"]);
  const layout = expectedLayout(d);
  assert.match(layout, /\/device\/vdispl\/0\/be-alloc = "1" {3}\(n0,r1\)$/m);
  assert.match(layout, /\/device\/vdispl\/0\/0\/resolution = "800x600" {3}\(n0,r1\)$/m);
  assert.match(layout, /\/device\/vdispl\/0\/0\/unique-id = "c0" {3}\(n0,r1\)$/m);
  assert.throws(() => vdispl({ domid: 1, devid: 0, connectors: [] }), {
    name: "DeviceConfigError",
    message: /connectors/,
  });
});

Deno.test("vsnd() makes every key a guest-owned frontend key (§6.7)", pure, () => {
  const s = vsnd({
    domid: 1,
    devid: 0,
    longName: "Card",
    shortName: "card",
    params: { sampleRates: [44100, 48000], sampleFormats: ["s16_le"], channelsMax: 2 },
    pcms: [{
      name: "pcm0",
      streams: [{ uniqueId: "s0", type: "p", params: { bufferSize: 65536 } }],
    }],
  });
  assert.deepEqual(keys(s.front), [
    "backend-id=0",
    "state=1",
    "long-name=Card",
    "short-name=card",
    "sample-rates=44100,48000",
    "sample-formats=s16_le",
    "channels-max=2",
    "0/name=pcm0",
    "0/0/unique-id=s0",
    "0/0/type=p",
    "0/0/buffer-size=65536",
  ]);
  assert.equal(s.roFront.length, 0);
  assert.match(expectedLayout(s), /\/device\/vsnd\/0\/0\/0\/type = "p" {3}\(n1,r0\)$/m);
  assert.throws(
    () => vsnd({ domid: 1, devid: 0, pcms: [{ streams: [{ uniqueId: "s", type: "x" as "p" }] }] }),
    (e: unknown) => e instanceof DeviceConfigError && e.field === "pcms[0].streams[0].type",
  );
});

Deno.test("vfb() writes libxl's vnc/sdl keys; 9pfs its share keys", pure, () => {
  assert.deepEqual(keys(vfb({ domid: 1, devid: 0, vncPasswd: "pw" }).back).slice(3), [
    "vnc=1",
    "vnclisten=127.0.0.1",
    "vncpasswd=pw",
    "vncdisplay=0",
    "vncunused=1",
    "sdl=0",
    "opengl=0",
  ]);
  const share = p9({
    domid: 1,
    devid: 0,
    tag: "share",
    path: "/srv",
    type: "xen_9pfsd",
    maxFiles: 100,
  });
  assert.equal(share.backendKind, "xen_9pfs");
  assert.deepEqual(keys(share.back).slice(3), [
    "path=/srv",
    "security_model=none",
    "max-space=0",
    "max-files=100",
    "max-open-files=0",
    "auto-delete=0",
  ]);
  assert.deepEqual(keys(share.front), ["backend-id=0", "state=1", "tag=share"]);
  assert.throws(() => p9({ domid: 1, devid: 0, tag: "", path: "/srv" }), {
    name: "DeviceConfigError",
    message: /tag/,
  });
});

Deno.test("pci() writes one key/dev/opts/state group per function", pure, () => {
  const bus = pci({
    domid: 2,
    domainName: "g",
    functions: [{ bdf: "0000:03:00.0" }, {
      bdf: "0000:03:00.1",
      vdevfn: 0x28,
      name: "nic",
      permissive: true,
    }],
  });
  assert.deepEqual(keys(bus.back), [
    "frontend-id=2",
    "online=1",
    "state=1",
    "domain=g",
    "key-0=0000:03:00.0",
    "dev-0=0000:03:00.0",
    "opts-0=msitranslate=1,power_mgmt=0,permissive=0,rdm_policy=strict",
    "state-0=1",
    "key-1=0000:03:00.1",
    "dev-1=0000:03:00.1",
    "vdevfn-1=28",
    "name-1=nic",
    "opts-1=msitranslate=1,power_mgmt=0,permissive=1,rdm_policy=strict",
    "state-1=1",
    "num_devs=2",
  ]);
  assert.equal(bus.devid, 0);
  assert.throws(
    () => pci({ domid: 2, domainName: "g", functions: [{ bdf: "03:00.0" }] }),
    (e: unknown) => e instanceof DeviceConfigError && e.field === "functions[0].bdf",
  );
});
