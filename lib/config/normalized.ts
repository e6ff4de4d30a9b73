/**
 * A validated config with every default filled in (what `validateConfig` returns and `plan`
 * takes), and how its devices become libxl device specs. Plain JSON data throughout, so a
 * plan can carry it.
 *
 * @module
 */

import type { DeviceSpec } from "../libxl/device.ts";
import type { ConsoleOptions } from "../libxl/devices/console.ts";
import { pvConsole } from "../libxl/devices/console.ts";
import type { P9Options } from "../libxl/devices/p9.ts";
import { p9 } from "../libxl/devices/p9.ts";
import type { PciFunction } from "../libxl/devices/pci.ts";
import { pci } from "../libxl/devices/pci.ts";
import type { VbdOptions } from "../libxl/devices/vbd.ts";
import { vbd } from "../libxl/devices/vbd.ts";
import type { VfbOptions } from "../libxl/devices/vfb.ts";
import { vfb } from "../libxl/devices/vfb.ts";
import type { VifOptions } from "../libxl/devices/vif.ts";
import { vif } from "../libxl/devices/vif.ts";
import type { VkbdOptions } from "../libxl/devices/vkbd.ts";
import { vkbd } from "../libxl/devices/vkbd.ts";
import type { VtpmOptions } from "../libxl/devices/vtpm.ts";
import { vtpm } from "../libxl/devices/vtpm.ts";
import type { VusbOptions } from "../libxl/devices/vusb.ts";
import { vusb } from "../libxl/devices/vusb.ts";
import type { DomainType } from "../libxl/hypervisor.ts";

/** A builder's options without what apply fills in (the domain, backend and device ids). */
export type DeviceOptions<T> = Omit<T, "domid" | "backendDomid" | "devid" | "random">;

/** A nic's builder options (the rate in xl's syntax, `"10Mb/s"`). */
export type NicOptions = DeviceOptions<VifOptions>;

/** What every normalized device has besides its options. */
export interface DeviceBase {
  /** The device id (a disk's from its vdev; others their index unless given). */
  devid: number;
  /** The backend domain by name; absent for dom0. */
  backend?: string;
  /** Where it came from in the domain: `disks[1]`, `nics[0]`. */
  source: string;
  /** How plans and progress name it: the vdev for a disk, else `<kind> <devid>`. */
  label: string;
}

/** A normalized device: its frontend kind and the options of its libxl builder. */
export type NormalizedDevice =
  | DeviceBase & { kind: "vbd"; options: DeviceOptions<VbdOptions> }
  | DeviceBase & { kind: "vif"; options: NicOptions }
  | DeviceBase & { kind: "console"; options: DeviceOptions<ConsoleOptions> }
  | DeviceBase & { kind: "vkbd"; options: DeviceOptions<VkbdOptions> }
  | DeviceBase & { kind: "vfb"; options: DeviceOptions<VfbOptions> }
  | DeviceBase & { kind: "9pfs"; options: DeviceOptions<P9Options> }
  | DeviceBase & { kind: "vtpm"; options: DeviceOptions<VtpmOptions> }
  | DeviceBase & { kind: "vusb"; options: DeviceOptions<VusbOptions> }
  | DeviceBase & { kind: "pci"; options: { functions: PciFunction[] } };

/** A domain with every default filled in. */
export interface NormalizedDomain {
  /** The name. */
  name: string;
  /** The uuid, when the config fixes one (else a new domain gets a random one). */
  uuid?: string;
  /** pv, pvh or hvm. */
  type: DomainType;
  /** `memory/static-max`, KiB. */
  maxMemKb: number;
  /** `memory/target`, KiB. */
  targetMemKb: number;
  /** `memory/videoram`, KiB (libxl: 0 for PV/PVH, 8 MiB for HVM). */
  videoramKb: number;
  /** vCPUs the domain has. */
  vcpus: number;
  /** vCPUs online. */
  vcpusOnline: number;
  /** PV/PVH kernel. */
  kernel?: string;
  /** Initial ramdisk. */
  ramdisk?: string;
  /** Kernel command line. */
  cmdline?: string;
  /** A fixed domid. */
  domid?: number;
  /** Runs backends for other domains. */
  driverDomain: boolean;
  /** Devices in libxl_domain_create's order (disks, consoles, 9pfs, vfbs, vkbds, nics, vtpms, vusbs, pci). */
  devices: NormalizedDevice[];
}

/** A validated config. */
export interface NormalizedConfig {
  /** The script it came from, for messages (`"config"` for a value given directly). */
  script: string;
  /** The domains in the order the config lists them. */
  domains: NormalizedDomain[];
}

/** Where a device is built: the guest, its backend domain and the guest's name. */
export interface BuildContext {
  /** The guest domain's id. */
  domid: number;
  /** The backend domain's id. */
  backendDomid: number;
  /** The guest's name (pci records it). */
  domainName: string;
}

/**
 * The libxl device spec of a normalized device for a given guest and backend domain.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildDevice } from "./normalized.ts";
 * const spec = buildDevice(
 *   { kind: "vif", devid: 0, source: "nics[0]", label: "vif 0", options: { mac: "00:16:3e:00:00:01" } },
 *   { domid: 3, backendDomid: 0, domainName: "web" },
 * );
 * assert.equal(spec.kind, "vif");
 * assert.equal(spec.domid, 3);
 * ```
 */
export function buildDevice(device: NormalizedDevice, at: BuildContext): DeviceSpec {
  const where = { domid: at.domid, backendDomid: at.backendDomid };
  switch (device.kind) {
    case "vbd":
      return vbd({ ...device.options, ...where });
    case "vif":
      return vif({ ...device.options, ...where, devid: device.devid });
    case "console":
      return pvConsole({ ...device.options, ...where, devid: device.devid });
    case "vkbd":
      return vkbd({ ...device.options, ...where, devid: device.devid });
    case "vfb":
      return vfb({ ...device.options, ...where, devid: device.devid });
    case "9pfs":
      return p9({ ...device.options, ...where, devid: device.devid });
    case "vtpm":
      return vtpm({ ...device.options, ...where, devid: device.devid });
    case "vusb":
      return vusb({ ...device.options, ...where, devid: device.devid });
    case "pci":
      return pci({ ...where, domainName: at.domainName, functions: device.options.functions });
  }
}
