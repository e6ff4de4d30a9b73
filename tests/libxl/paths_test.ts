import assert from "node:assert/strict";
import {
  backendPath,
  domainPath,
  frontendPath,
  libxlDevicePath,
  libxlDomainPath,
  parseBackendPath,
  vmPath,
} from "../../lib/libxl/paths.ts";
import {
  DEVICE_KINDS,
  DEVICE_TYPES,
  isBackendKindOf,
  parseDeviceKind,
} from "../../lib/libxl/device_kind.ts";

const pure = { permissions: "none" } as const;

Deno.test("domainPath() and libxlDomainPath() name the domain's homes", pure, () => {
  assert.equal(domainPath(0), "/local/domain/0");
  assert.equal(domainPath(7), "/local/domain/7");
  assert.equal(libxlDomainPath(7), "/libxl/7");
});

Deno.test("domainPath() rejects a domid that is not an integer in range", pure, () => {
  for (const bad of [-1, 1.5, 0x7ff0, NaN]) {
    assert.throws(() => domainPath(bad), { name: "RangeError", message: /domid must be/ });
  }
});

Deno.test("vmPath() takes only a lower-case uuid", pure, () => {
  assert.equal(
    vmPath("6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b"),
    "/vm/6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
  );
  assert.throws(() => vmPath("../etc"), /uuid must be/);
  assert.throws(() => vmPath("6E1A7B52-3C4D-4E5F-8A9B-0C1D2E3F4A5B"), /uuid must be/);
});

Deno.test("frontendPath() has libxl's console-0 and vuart exceptions", pure, () => {
  assert.equal(
    frontendPath({ domid: 1, kind: "vbd", devid: 51712 }),
    "/local/domain/1/device/vbd/51712",
  );
  assert.equal(frontendPath({ domid: 1, kind: "console", devid: 0 }), "/local/domain/1/console");
  assert.equal(
    frontendPath({ domid: 1, kind: "console", devid: 1 }),
    "/local/domain/1/device/console/1",
  );
  assert.equal(frontendPath({ domid: 1, kind: "vuart", devid: 0 }), "/local/domain/1/vuart/0");
});

Deno.test(
  "backendPath() uses the backend kind and domain, libxlDevicePath() the frontend kind",
  pure,
  () => {
    const dev = {
      domid: 1,
      kind: "vbd",
      devid: 51776,
      backendDomid: 0,
      backendKind: "qdisk",
    } as const;
    assert.equal(backendPath(dev), "/local/domain/0/backend/qdisk/1/51776");
    assert.equal(libxlDevicePath(dev), "/libxl/1/device/vbd/51776");
    assert.equal(
      backendPath({ domid: 3, devid: 0, backendDomid: 2, backendKind: "vinput" }),
      "/local/domain/2/backend/vinput/3/0",
    );
  },
);

Deno.test(
  "parseBackendPath() accepts exactly /local/domain/<n>/backend/<kind>/<domid>/<devid>",
  pure,
  () => {
    assert.deepEqual(parseBackendPath("/local/domain/0/backend/vbd/1/51712"), {
      backendDomid: 0,
      backendKind: "vbd",
      domid: 1,
      devid: 51712,
    });
    assert.equal(parseBackendPath("/local/domain/4/backend/xen_9pfs/2/0")?.backendKind, "xen_9pfs");
  },
);

Deno.test("parseBackendPath() rejects every other shape", pure, () => {
  for (
    const bad of [
      "/local/domain/0/backend/vbd/1/51712/",
      "/local/domain/0/backend/vbd/1/51712/state",
      "/local/domain/0/backend/vbd/1",
      "/local/domain/0/backend/disk/1/51712",
      "/local/domain/0/backend/VBD/1/51712",
      "/local/domain/00/backend/vbd/1/51712",
      "/local/domain/0/backend/vbd/01/51712",
      "/local/domain/0/backend/vbd/1/-1",
      "/local/domain/0/backend/vbd/1/1e3",
      "local/domain/0/backend/vbd/1/51712",
      "/local/domain/0/../0/backend/vbd/1/51712",
      "/local/domain/0/backend/vbd/99999/0",
      "/local/domain/0/backend/vbd/1/4294967296",
      "/local/domain/1/device/vbd/51712",
      "",
    ]
  ) {
    assert.equal(parseBackendPath(bad), undefined, bad);
  }
});

Deno.test("DEVICE_KINDS lists libxl's 21 kinds in enum order", pure, () => {
  assert.equal(DEVICE_KINDS.length, 21);
  assert.equal(DEVICE_KINDS[0], "none");
  assert.equal(DEVICE_KINDS[2], "vbd");
  assert.equal(DEVICE_KINDS[11], "9pfs");
  assert.equal(DEVICE_KINDS[20], "xen_9pfs");
  assert.equal(new Set(DEVICE_KINDS).size, 21);
});

Deno.test("parseDeviceKind() is case-insensitive and rejects unknown kinds", pure, () => {
  assert.equal(parseDeviceKind("Vif"), "vif");
  assert.equal(parseDeviceKind("virtio_disk"), "virtio_disk");
  assert.equal(parseDeviceKind("disk"), undefined);
  assert.equal(parseDeviceKind(""), undefined);
});

Deno.test("DEVICE_TYPES maps frontend kinds to backend kinds as libxl does", pure, () => {
  assert.equal(DEVICE_TYPES.disk.frontend, "vbd");
  assert.equal(DEVICE_TYPES.disk.backends.tap, "vbd3");
  assert.equal(DEVICE_TYPES.disk.backends.qdisk, "qdisk");
  assert.equal(DEVICE_TYPES.vkb.backends.linux, "vinput");
  assert.equal(DEVICE_TYPES.p9.backends.xen_9pfsd, "xen_9pfs");
  assert.equal(DEVICE_TYPES.usbctrl.backends.devicemodel, "none");
});

Deno.test("isBackendKindOf() pairs kinds as DEVICE_TYPES does", pure, () => {
  assert.deepEqual(
    [
      isBackendKindOf("vbd", "vbd"),
      isBackendKindOf("vbd", "qdisk"),
      isBackendKindOf("vkbd", "vinput"),
      isBackendKindOf("vbd", "vif"),
      isBackendKindOf("console", "vbd"),
      isBackendKindOf("qusb", "qusb"),
    ],
    [true, true, true, false, false, true],
  );
});
