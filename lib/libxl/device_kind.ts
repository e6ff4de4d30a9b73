/**
 * libxl's device kinds (`libxl_types_internal.idl` `libxl__device_kind`): the strings used in
 * `device/<kind>`, `backend/<kind>` and `/libxl/<domid>/device/<kind>`.
 *
 * @module
 */

/**
 * The 21 device kinds, in libxl's enum order (index = enum value).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEVICE_KINDS } from "./device_kind.ts";
 * assert.equal(DEVICE_KINDS.indexOf("vbd"), 2);
 * ```
 */
export const DEVICE_KINDS = [
  "none",
  "vif",
  "vbd",
  "qdisk",
  "pci",
  "vfb",
  "vkbd",
  "console",
  "vtpm",
  "vusb",
  "qusb",
  "9pfs",
  "vdispl",
  "vuart",
  "pvcalls",
  "vsnd",
  "vinput",
  "virtio_disk",
  "virtio",
  "vbd3",
  "xen_9pfs",
] as const;

/** A device kind string as it appears in xenstore paths. */
export type DeviceKind = typeof DEVICE_KINDS[number];

/**
 * Kinds served by QEMU: libxl does not wait for InitWait on these after an add
 * (`QEMU_BACKEND`).
 */
export const QEMU_BACKEND_KINDS: ReadonlySet<DeviceKind> = new Set<DeviceKind>([
  "qdisk",
  "vfb",
  "qusb",
  "9pfs",
  "vkbd",
]);

/**
 * Parses a kind string case-insensitively, as `libxl__device_kind_from_string` does; returns
 * `undefined` for anything that is not one of {@linkcode DEVICE_KINDS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDeviceKind } from "./device_kind.ts";
 * assert.equal(parseDeviceKind("VBD"), "vbd");
 * assert.equal(parseDeviceKind("disk"), undefined);
 * ```
 */
export function parseDeviceKind(text: string): DeviceKind | undefined {
  const lower = text.toLowerCase();
  return (DEVICE_KINDS as readonly string[]).includes(lower) ? lower as DeviceKind : undefined;
}

/**
 * The libxl device types and the kinds they use: `frontend` names the path under
 * `device/` and `/libxl/<domid>/device/`; `backends` maps each backend choice to the kind
 * under `backend/`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEVICE_TYPES } from "./device_kind.ts";
 * assert.equal(DEVICE_TYPES.disk.backends.qdisk, "qdisk");
 * ```
 */
export const DEVICE_TYPES = {
  disk: {
    frontend: "vbd",
    backends: { phy: "vbd", tap: "vbd3", qdisk: "qdisk", standalone: "virtio_disk" },
  },
  nic: { frontend: "vif", backends: { vif: "vif" } },
  vkb: { frontend: "vkbd", backends: { qemu: "vkbd", linux: "vinput" } },
  p9: { frontend: "9pfs", backends: { qemu: "9pfs", xen_9pfsd: "xen_9pfs" } },
  usbctrl: { frontend: "vusb", backends: { pv: "vusb", qusb: "qusb", devicemodel: "none" } },
  console: { frontend: "console", backends: { console: "console" } },
  vuart: { frontend: "vuart", backends: { vuart: "vuart" } },
  pci: { frontend: "pci", backends: { pci: "pci" } },
  vfb: { frontend: "vfb", backends: { vfb: "vfb" } },
  vsnd: { frontend: "vsnd", backends: { vsnd: "vsnd" } },
  vtpm: { frontend: "vtpm", backends: { vtpm: "vtpm" } },
  vdispl: { frontend: "vdispl", backends: { vdispl: "vdispl" } },
  pvcalls: { frontend: "pvcalls", backends: { pvcalls: "pvcalls" } },
  virtio: { frontend: "virtio", backends: { virtio: "virtio" } },
} as const satisfies Record<
  string,
  { frontend: DeviceKind; backends: Record<string, DeviceKind> }
>;

const BACKENDS_OF = new Map<DeviceKind, ReadonlySet<DeviceKind>>(
  Object.values(DEVICE_TYPES).map((t) => [t.frontend, new Set(Object.values(t.backends))]),
);

/**
 * True when libxl can pair frontend kind `kind` with backend kind `backendKind` (per
 * {@linkcode DEVICE_TYPES}; a kind not in the table pairs only with itself).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isBackendKindOf } from "./device_kind.ts";
 * assert.equal(isBackendKindOf("vbd", "qdisk"), true);
 * assert.equal(isBackendKindOf("vbd", "vif"), false);
 * ```
 */
export function isBackendKindOf(kind: DeviceKind, backendKind: DeviceKind): boolean {
  return BACKENDS_OF.get(kind)?.has(backendKind) ?? kind === backendKind;
}
