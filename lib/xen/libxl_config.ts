/**
 * libxl's domain configuration in its JSON shape (`libxl_domain_config`, as
 * `libxl_domain_config_gen_json` writes it into the userdata file), for the domains and
 * devices dxl manages.
 *
 * @module
 */

import type { DomainBuildRequest } from "../libxl/hypervisor.ts";
import type { DeviceKind } from "../libxl/device_kind.ts";

/** A libxl JSON object: the fields dxl sets, and any others libxl or xl wrote (kept as they are). */
export type LibxlJsonObject = { [key: string]: unknown };

/** `libxl_device_disk` (the fields dxl fills in). */
export interface LibxlDiskConfig extends LibxlJsonObject {
  /** The backend's target (`params` without a qdisk format prefix). */
  pdev_path?: string;
  /** The guest's device name (`dev`). */
  vdev: string;
  /** `phy`, `qdisk` or `tap`. */
  backend?: string;
  /** `raw`, `qcow`, `qcow2`, `vhd`, `qed` or `empty`. */
  format?: string;
  /** 1 for `mode=w`. */
  readwrite?: number;
  /** 1 for a CD-ROM. */
  is_cdrom?: number;
  /** 1 for a removable device. */
  removable?: number;
}

/** `libxl_device_nic` (the fields dxl fills in). */
export interface LibxlNicConfig extends LibxlJsonObject {
  /** Its device id. */
  devid: number;
  /** Its MAC. */
  mac?: string;
  /** `vif` or `vif_ioemu`. */
  nictype?: string;
  /** The bridge the script adds it to. */
  bridge?: string;
  /** Addresses handed to the script. */
  ip?: string;
}

/** `libxl_domain_config`. */
export interface LibxlDomainConfig extends LibxlJsonObject {
  /** `libxl_domain_create_info`. */
  c_info: LibxlJsonObject;
  /** `libxl_domain_build_info`. */
  b_info: LibxlJsonObject;
  /** The disks. */
  disks?: LibxlDiskConfig[];
  /** The network interfaces. */
  nics?: LibxlNicConfig[];
}

/** Options of {@linkcode domainConfig}. */
export interface DomainConfigOptions {
  /** vCPUs online at start (`avail_vcpus`). @default {request.vcpus} */
  vcpusOnline?: number;
}

/**
 * The config `xl create` stores for a PV domain (`userdata-d.<domid>.<uuid>.libxl-json`),
 * with the values of `request`: the shape and the defaults xl 4.17 wrote for the golden
 * domain, where dxl has a value its own. `vcpusOnline` sets `avail_vcpus`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { domainConfig } from "./libxl_config.ts";
 * const c = domainConfig({
 *   uuid: "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b", name: "guest1", maxMemKb: 262144, vcpus: 2,
 *   kernel: "/srv/xen/vmlinuz",
 * });
 * assert.equal(c.c_info.name, "guest1");
 * assert.deepEqual(c.b_info.avail_vcpus, [0, 1]);
 * assert.equal(c.b_info.kernel, "/srv/xen/vmlinuz");
 * ```
 */
export function domainConfig(
  request: DomainBuildRequest,
  options: DomainConfigOptions = {},
): LibxlDomainConfig {
  const type = request.type ?? "pv";
  const vcpus = request.vcpus ?? 1;
  const maxMemKb = request.maxMemKb ?? 0;
  const b_info: LibxlJsonObject = {
    max_vcpus: vcpus,
    avail_vcpus: Array.from({ length: options.vcpusOnline ?? vcpus }, (_, i) => i),
    numa_placement: "True",
    max_memkb: maxMemKb,
    target_memkb: request.targetMemKb ?? maxMemKb,
    video_memkb: 0,
    localtime: "False",
    disable_migrate: "False",
    blkdev_start: "xvda",
    device_model_version: "qemu_xen",
    device_model_stubdomain: "False",
    stubdomain_memkb: 0,
    sched_params: {},
    claim_mode: "True",
    event_channels: 1023,
  };
  if (request.kernel !== undefined) b_info.kernel = request.kernel;
  if (request.cmdline !== undefined) b_info.cmdline = request.cmdline;
  if (request.ramdisk !== undefined) b_info.ramdisk = request.ramdisk;
  Object.assign(b_info, {
    acpi: "True",
    dm_restrict: "False",
    [`type.${type}`]: type === "pv" ? { slack_memkb: 0, e820_host: "False" } : {},
    arch_arm: {},
    arch_x86: { msr_relaxed: "False" },
    vpmu: "False",
  });
  const c_info: LibxlJsonObject = { type };
  if (request.name !== undefined) c_info.name = request.name;
  c_info.uuid = request.uuid;
  Object.assign(c_info, {
    run_hotplug_scripts: "True",
    driver_domain: "False",
    passthrough: "disabled",
  });
  return { c_info, b_info, on_reboot: "restart", on_soft_reset: "soft_reset" };
}

/** What {@linkcode deviceConfig} needs: a `/libxl` record's kind, devid, backend and keys. */
export interface DeviceKeys {
  /** The frontend kind. */
  kind: DeviceKind;
  /** The device id. */
  devid: number;
  /** The backend kind. */
  backendKind: DeviceKind;
  /** The backend keys (a `DeviceRecord`'s `keys`, or a `DeviceSpec`'s `back` as an object). */
  keys: Readonly<Record<string, string>>;
}

const QDISK_FORMATS: Record<string, string> = {
  aio: "raw",
  raw: "raw",
  qcow: "qcow",
  qcow2: "qcow2",
  vhd: "vhd",
  qed: "qed",
};

/**
 * The `disks` or `nics` entry libxl keeps for a device, from its backend keys; undefined for
 * the kinds dxl does not record there. A qdisk's `params` prefix gives the format; `mode=w`
 * makes it read-write.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deviceConfig } from "./libxl_config.ts";
 * const entry = deviceConfig({
 *   kind: "vbd", devid: 51728, backendKind: "vbd",
 *   keys: { params: "/dev/loop0", dev: "xvdb", mode: "w", "device-type": "disk", removable: "0" },
 * });
 * assert.deepEqual(entry, {
 *   list: "disks",
 *   entry: { pdev_path: "/dev/loop0", vdev: "xvdb", backend: "phy", format: "raw", readwrite: 1 },
 * });
 * ```
 */
export function deviceConfig(
  device: DeviceKeys,
): { list: "disks"; entry: LibxlDiskConfig } | { list: "nics"; entry: LibxlNicConfig } | undefined {
  const k = device.keys;
  if (device.kind === "vbd") {
    const entry: LibxlDiskConfig = { vdev: k.dev ?? "" };
    let params = k.params ?? "";
    let format = "raw";
    let backend = "phy";
    if (device.backendKind === "qdisk") {
      backend = "qdisk";
      const m = /^([a-z0-9]+):(.*)$/.exec(params);
      if (m !== null && m[1] !== undefined && QDISK_FORMATS[m[1]] !== undefined) {
        format = QDISK_FORMATS[m[1]] as string;
        params = m[2] ?? "";
      }
    } else if (device.backendKind === "vbd3") {
      backend = "tap";
    }
    if (params === "") format = "empty";
    const out: LibxlDiskConfig = params === "" ? entry : { pdev_path: params, ...entry };
    out.backend = backend;
    out.format = format;
    out.readwrite = k.mode === "w" ? 1 : 0;
    if (k["device-type"] === "cdrom") out.is_cdrom = 1;
    if (k.removable === "1") out.removable = 1;
    return { list: "disks", entry: out };
  }
  if (device.kind === "vif") {
    const entry: LibxlNicConfig = { devid: device.devid };
    if (k.mac !== undefined) entry.mac = k.mac;
    entry.nictype = k.type ?? "vif";
    if (k.bridge !== undefined) entry.bridge = k.bridge;
    if (k.ip !== undefined) entry.ip = k.ip;
    return { list: "nics", entry };
  }
  return undefined;
}

/** Whether two entries of one list are the same device (libxl compares vdev / devid). */
function sameDevice(list: "disks" | "nics", a: LibxlJsonObject, b: LibxlJsonObject): boolean {
  return list === "disks" ? a.vdev === b.vdev : a.devid === b.devid;
}

/**
 * `config` with the device's entry added (replacing one for the same vdev / devid, as
 * libxl's `device_add_domain_config` does). Kinds not recorded there leave it as it was.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { domainConfig, withDevice } from "./libxl_config.ts";
 * const c = domainConfig({ uuid: "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b", maxMemKb: 1024 });
 * const nic = { kind: "vif", devid: 0, backendKind: "vif", keys: { mac: "00:16:3e:aa:bb:cc" } } as const;
 * assert.equal(withDevice(c, nic).nics?.[0]?.mac, "00:16:3e:aa:bb:cc");
 * ```
 */
export function withDevice(config: LibxlDomainConfig, device: DeviceKeys): LibxlDomainConfig {
  const found = deviceConfig(device);
  if (found === undefined) return config;
  const list = (config[found.list] ?? []) as LibxlJsonObject[];
  const i = list.findIndex((e) => sameDevice(found.list, e, found.entry));
  const next = [...list];
  if (i >= 0) next[i] = found.entry;
  else next.push(found.entry);
  return { ...config, [found.list]: next };
}

/**
 * `config` without the device's entry (matched by vdev for a disk, devid for a nic).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { domainConfig, withDevice, withoutDevice } from "./libxl_config.ts";
 * const c = domainConfig({ uuid: "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b", maxMemKb: 1024 });
 * const nic = { kind: "vif", devid: 0, backendKind: "vif", keys: {} } as const;
 * assert.deepEqual(withoutDevice(withDevice(c, nic), nic).nics, []);
 * ```
 */
export function withoutDevice(config: LibxlDomainConfig, device: DeviceKeys): LibxlDomainConfig {
  const found = deviceConfig(device);
  if (found === undefined) return config;
  const list = (config[found.list] ?? []) as LibxlJsonObject[];
  return { ...config, [found.list]: list.filter((e) => !sameDevice(found.list, e, found.entry)) };
}

/**
 * `config` with a new name (`libxl_domain_rename` updates `c_info.name`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { domainConfig, withName } from "./libxl_config.ts";
 * const c = domainConfig({ uuid: "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b", name: "a", maxMemKb: 1024 });
 * assert.equal(withName(c, "b").c_info.name, "b");
 * ```
 */
export function withName(config: LibxlDomainConfig, name: string): LibxlDomainConfig {
  return { ...config, c_info: { ...config.c_info, name } };
}

/** Options of {@linkcode withMemoryTarget}. */
export interface MemoryTargetOptions {
  /** Also lower the limit (`xl mem-set` with `enforce`): `max_memkb` too. @default {false} */
  enforce?: boolean;
}

/**
 * `config` with a new memory target (`libxl_set_memory_target` updates `b_info.target_memkb`,
 * and `max_memkb` when the limit is enforced).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { domainConfig, withMemoryTarget } from "./libxl_config.ts";
 * const c = domainConfig({ uuid: "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b", maxMemKb: 262144 });
 * assert.equal(withMemoryTarget(c, 131072).b_info.target_memkb, 131072);
 * ```
 */
export function withMemoryTarget(
  config: LibxlDomainConfig,
  targetMemKb: number,
  options: MemoryTargetOptions = {},
): LibxlDomainConfig {
  const b_info: LibxlJsonObject = { ...config.b_info, target_memkb: targetMemKb };
  if (options.enforce ?? false) b_info.max_memkb = targetMemKb;
  return { ...config, b_info };
}
