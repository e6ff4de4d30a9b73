/**
 * Domain creation as `xl create` leaves it in xenstore (`libxl_domain_create`, Xen 4.17): the
 * records of `libxl__domain_make`, the build records of `libxl__build_post`, and the devices
 * in the order `libxl_create.c` adds them — written in one transaction by
 * {@linkcode writeNewDomain}, with the hypervisor around it in {@linkcode makeDomain}.
 *
 * @module
 */

import type { Transaction } from "../client/types.ts";
import type { Permission } from "../protocol/perms.ts";
import type { DeviceSpec } from "./device.ts";
import { describeDevice } from "./device.ts";
import { listDevices } from "./device_list.ts";
import { pathCleanup } from "./device_remove.ts";
import { pvConsole } from "./devices/console.ts";
import { DeviceExistsError, DomainNameInUseError } from "./errors.ts";
import { issueDeviceWrites } from "./_device_writes.ts";
import { checkUsbController } from "./_usb_check.ts";
import type { CreatedDomain, DomainBuildRequest, DomainType } from "./hypervisor.ts";
import type { DomainPlan, MakeDomainOptions, NewDomainOptions } from "./_domain_options.ts";
import { checkDomainOptions } from "./_domain_options.ts";
import { nameHolder } from "./_domain_names.ts";
import { checkDomid, domainPath, libxlDevicePath, libxlDomainPath, vmPath } from "./paths.ts";
import { noperm, roperm, rwperm } from "./perms.ts";
import type { LibxlStore, TransactionalOptions } from "./store.ts";
import type { RequestSender } from "./store.ts";
import { inTransaction, rmIfPresent, sendAll } from "./store.ts";
import { skippingInheritedPerms } from "./inherited_perms.ts";

export type { MakeDomainOptions, NewDomainOptions } from "./_domain_options.ts";

/** A domain made by {@linkcode makeDomain} or written by {@linkcode writeNewDomain}. */
export interface DomainInfo {
  /** Its id. */
  domid: number;
  /** Its name. */
  name: string;
  /** Its uuid. */
  uuid: string;
}

/**
 * The stage at which `libxl_domain_create` adds a device of this kind (Xen 4.17
 * `libxl_create.c`):
 * 0. `domcreate_rebuild_done` → `libxl__add_disks`: every disk (backend vbd, qdisk, vbd3);
 * 1-3. `domcreate_launch_dm`: channels (consoles 1..n), 9pfs, pvcalls; then for PV and PVH
 *    4-7: vfbs, vkbs, the Arm vuart, console 0; for HVM 4-7: console 0, the vkb (libxl adds
 *    no PV vfb or vuart to an HVM guest: one given here goes after its keyboard);
 * 8-13. `domcreate_attach_devices`, `device_type_tbl`: nic, vtpm, usbctrl (and usbdev), pci
 *    (dtdev has no xenstore part), vdispl, vsnd; other kinds after those.
 */
function stage(spec: DeviceSpec, type: DomainType): number {
  if (spec.kind === "vbd") return 0;
  if (spec.kind === "console" && spec.devid !== 0) return 1;
  if (spec.kind === "9pfs") return 2;
  if (spec.kind === "pvcalls") return 3;
  const launch = type === "hvm"
    ? ["console", "vkbd", "vfb", "vuart"]
    : ["vfb", "vkbd", "vuart", "console"];
  const i = launch.indexOf(spec.kind);
  if (i >= 0) return 4 + i;
  const table = ["vif", "vtpm", "vusb", "pci", "vdispl", "vsnd"];
  const j = table.indexOf(spec.kind);
  return 8 + (j >= 0 ? j : table.length);
}

/**
 * Devices in the order `libxl_domain_create` adds them to a new domain of type `type`
 * (disks; channels, 9pfs, pvcalls; vfb, vkb, vuart and console 0 — console 0 first for HVM;
 * then nics, vtpms, USB controllers, pci, vdispl, vsnd). Devices of one kind keep their order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { creationOrder } from "./domain_create.ts";
 * import { pvConsole } from "./devices/console.ts";
 * import { vbd } from "./devices/vbd.ts";
 * import { vif } from "./devices/vif.ts";
 * const nic = vif({ domid: 1, devid: 0, mac: "00:16:3e:00:00:01" });
 * const disk = vbd({ domid: 1, vdev: "xvda", target: "/dev/vg/a" });
 * const con = pvConsole({ domid: 1, port: 2, ringRef: 7 });
 * const order = creationOrder([nic, con, disk], "pv").map((d) => d.kind);
 * assert.deepEqual(order, ["vbd", "console", "vif"]);
 * ```
 */
export function creationOrder(devices: readonly DeviceSpec[], type: DomainType): DeviceSpec[] {
  return devices
    .map((spec, i) => ({ spec, i, stage: stage(spec, type) }))
    .sort((a, b) => a.stage - b.stage || a.i - b.i)
    .map((e) => e.spec);
}

function startTime(ms: number): string {
  const centis = Math.floor(ms / 10);
  return `${Math.floor(centis / 100)}.${String(centis % 100).padStart(2, "0")}`;
}

/** `libxl__domain_make`'s transaction (after its name check): the domain's skeleton. */
function writeMake(
  s: RequestSender,
  domid: number,
  o: DomainPlan,
) {
  const home = domainPath(domid);
  const vm = vmPath(o.uuid);
  const libxl = libxlDomainPath(domid);
  const mknod = (path: string, perms: Permission[]) => {
    s.write(path, "");
    s.setPerms(path, perms);
  };
  s.rmIfPresent(home);
  mknod(home, roperm(domid));
  s.rmIfPresent(vm);
  mknod(vm, roperm(domid));
  s.rmIfPresent(libxl);
  mknod(libxl, noperm());
  mknod(`${libxl}/device`, noperm());
  s.write(`${home}/vm`, vm);
  s.write(`${home}/name`, o.name);
  s.write(`${vm}/name`, o.name);
  mknod(`${home}/cpu`, roperm(domid));
  mknod(`${home}/memory`, roperm(domid));
  mknod(`${home}/device`, roperm(domid));
  mknod(`${home}/device/suspend/event-channel`, rwperm(domid));
  mknod(`${home}/control`, roperm(domid));
  if (o.type === "hvm") mknod(`${home}/hvmloader`, roperm(domid));
  const control = ["shutdown", "feature-poweroff", "feature-reboot", "feature-suspend"];
  if (o.type === "hvm") control.push("feature-s3", "feature-s4");
  control.push("sysrq");
  for (const key of control) mknod(`${home}/control/${key}`, rwperm(domid));
  for (const dir of ["data", "drivers", "feature", "attr", "error"]) {
    mknod(`${home}/${dir}`, rwperm(domid));
  }
  if (o.driverDomain) {
    mknod(`${home}/libxl`, rwperm(domid));
    mknod(`${home}/device-model`, rwperm(domid));
  }
  s.write(`${vm}/uuid`, o.uuid);
  s.write(`${vm}/name`, o.name);
  for (const [key, value] of o.xsdata) s.write(`${home}/${key}`, value);
  for (const [key, value] of o.platformdata) s.write(`${home}/platform/${key}`, value);
  s.write(`${home}/control/platform-feature-multiprocessor-suspend`, "1");
  s.write(`${home}/control/platform-feature-xs_reset_watches`, "1");
  s.write(`${libxl}/type`, o.type);
}

/**
 * `libxl__build_post`'s transaction: `ents` (memory, domid, store ring, vCPUs), HVM's
 * `localents` (`platform/*`), then `libxl__domain_build`'s `vments` under `/vm/<uuid>` — for
 * PV `image/ostype`, `image/kernel`, `start_time`, then `image/ramdisk` and `image/cmdline`;
 * for HVM `rtc/timeoffset`, `image/ostype`, `start_time`; for PVH `start_time` alone.
 */
function writeBuild(
  s: RequestSender,
  created: CreatedDomain,
  o: DomainPlan,
  now: number,
) {
  const home = domainPath(created.domid);
  const vm = vmPath(o.uuid);
  s.write(`${home}/memory/static-max`, String(o.maxMemKb));
  s.write(`${home}/memory/target`, String(o.targetMemKb));
  s.write(`${home}/memory/videoram`, String(o.videoramKb));
  s.write(`${home}/domid`, String(created.domid));
  s.write(`${home}/store/port`, String(created.store.port));
  s.write(`${home}/store/ring-ref`, String(created.store.gfn));
  for (let i = 0; i < o.vcpus; i++) {
    s.write(`${home}/cpu/${i}/availability`, i < o.online ? "online" : "offline");
  }
  const started = startTime(now);
  if (o.type === "hvm") {
    // libxl's defaults: acpi, acpi_s3 and acpi_s4 on, acpi_laptop_slate off, qemu-xen.
    for (const [key, value] of HVM_PLATFORM) s.write(`${home}/platform/${key}`, value);
    s.write(`${vm}/rtc/timeoffset`, o.timeoffset);
    s.write(`${vm}/image/ostype`, "hvm");
    s.write(`${vm}/start_time`, started);
  } else if (o.type === "pv") {
    s.write(`${vm}/image/ostype`, "linux");
    if (o.kernel !== undefined) s.write(`${vm}/image/kernel`, o.kernel);
    s.write(`${vm}/start_time`, started);
    if (o.ramdisk !== undefined) s.write(`${vm}/image/ramdisk`, o.ramdisk);
    if (o.cmdline !== undefined) s.write(`${vm}/image/cmdline`, o.cmdline);
  } else {
    s.write(`${vm}/start_time`, started);
  }
}

const HVM_PLATFORM: readonly (readonly [string, string])[] = [
  ["acpi", "1"],
  ["acpi_s3", "1"],
  ["acpi_s4", "1"],
  ["acpi_laptop_slate", "0"],
  ["device-model", "qemu_xen"],
];

/** The devices option, resolved for `domid` and checked. */
function devicesFor(options: NewDomainOptions, domid: number, console: boolean): DeviceSpec[] {
  const given = options.devices;
  const list = typeof given === "function" ? given(domid) : given ?? [];
  if (!Array.isArray(list)) throw new TypeError("devices must be an array of device specs");
  for (const spec of list as readonly DeviceSpec[]) {
    if (typeof spec !== "object" || spec === null || !Array.isArray(spec.back)) {
      throw new TypeError(
        "devices must hold specs made by the device builders (vbd(), vif(), ...)",
      );
    }
    if (spec.domid !== domid) {
      throw new TypeError(`${describeDevice(spec)} is given to new domain ${domid}`);
    }
    if (console && spec.kind === "console" && spec.devid === 0) {
      throw new TypeError(
        "console 0 is the primary console that domain creation adds: pass console: false to give it",
      );
    }
  }
  return [...list];
}

/**
 * Writes everything `xl create` writes for a new domain, in the caller's transaction and in
 * libxl's order, except the INTRODUCE (which needs the transaction committed):
 * `libxl__domain_make`'s records (`~`, `/vm/<uuid>`, `/libxl/<domid>` with libxl's noperm /
 * roperm / rwperm layout, the name checked for uniqueness in the transaction), `dm-version`,
 * `libxl__build_post`'s records (memory, store ring, vCPUs, then `/vm/<uuid>/image/*` with
 * `start_time` before `image/ramdisk` and `image/cmdline`), `dm-version` again
 * (`store_libxl_entry`), then the devices in {@linkcode creationOrder} with the primary
 * console in its place (xenconsoled's, with the console ring of `created`). All of it is
 * sent in one pipelined batch (one round trip); a device given twice is a
 * `DeviceExistsError` before anything is sent, and a USB controller that needs a device
 * model is refused as `addDevice` refuses it. Mirrors
 * `libxl_domain_create` (`initiate_domain_create`, `libxl__domain_build`, `domcreate_*`).
 * A failure rejects with nothing committed only if the caller then aborts (as
 * `transaction(fn)` does when `fn` throws). Returns the domain's id, name and uuid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 * import { vif } from "./devices/vif.ts";
 * import { writeNewDomain } from "./domain_create.ts";
 *
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hv = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const created = await hv.createDomain({ uuid: crypto.randomUUID() });
 * const nic = vif({ domid: created.domid, devid: 0, mac: "00:16:3e:00:00:01" });
 * await xs.transaction((tx) =>
 *   writeNewDomain(tx, created, { name: "web", maxMemKb: 262144, devices: [nic] })
 * );
 * await hv.introduceDomain(created);
 * assert.deepEqual(await xs.directory(`/libxl/${created.domid}/device`), ["console", "vif"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeNewDomain(
  tx: Transaction,
  created: CreatedDomain,
  options: NewDomainOptions,
): Promise<DomainInfo> {
  const o = checkDomainOptions(options);
  const domid = checkDomid(created.domid);
  if (options.domid !== undefined && options.domid !== domid) {
    throw new RangeError(`domid ${options.domid} was asked for, but domain ${domid} was created`);
  }
  const console = options.console ?? true;
  const devices = devicesFor(options, domid, console);
  const primary = console
    ? pvConsole({ domid, port: created.console.port, ringRef: created.console.gfn })
    : undefined;
  const ordered = creationOrder(primary === undefined ? devices : [...devices, primary], o.type);
  if (options.checkName ?? true) {
    const holder = await nameHolder(tx, o.name, domid);
    if (holder !== undefined) throw new DomainNameInUseError(o.name, holder);
  }
  // libxl's adds read each device's /libxl record first (libxl__device_exists); in a new
  // domain's transaction, which has just removed /libxl/<domid>, only an earlier device of
  // this same call can be there: found here, without a round trip per device.
  const seen = new Set<string>();
  for (const spec of ordered) {
    const record = libxlDevicePath(spec);
    if (seen.has(record)) throw new DeviceExistsError(record);
    seen.add(record);
    await checkUsbController(tx, spec);
  }
  const libxl = libxlDomainPath(domid);
  const now = (options.now ?? Date.now)();
  await sendAll(tx, (sender) => {
    const s = options.skipInheritedPerms === true ? skippingInheritedPerms(sender) : sender;
    writeMake(s, domid, o);
    s.write(`${libxl}/dm-version`, "qemu_xen");
    writeBuild(s, created, o, now);
    s.write(`${libxl}/dm-version`, "qemu_xen");
    for (const spec of ordered) issueDeviceWrites(s, spec);
  });
  return { domid, name: o.name, uuid: o.uuid };
}

/** Removes what a new domain's transaction wrote (best effort: it may not have committed). */
async function removeNewDomain(store: LibxlStore, domid: number, uuid: string): Promise<void> {
  const records = await listDevices(store, domid).catch(() => []);
  for (const record of records) {
    if (record.backendPath !== undefined) {
      await pathCleanup(store, record.backendPath).catch(() => {});
    }
  }
  for (const path of [vmPath(uuid), domainPath(domid), libxlDomainPath(domid)]) {
    await rmIfPresent(store, path).catch(() => {});
  }
}

/**
 * Creates a domain as `xl create` does: the hypervisor creates (and builds) it, one
 * transaction writes its records and devices ({@linkcode writeNewDomain}), then the
 * hypervisor INTRODUCEs it to xenstored. If anything fails, what was written is removed and
 * the hypervisor destroys the domain again. Driver domains get `~/libxl` and
 * `~/device-model`, `xsdata` and `platformdata` are written where libxl writes them, and an
 * HVM guest gets `~/hvmloader`, `feature-s3`/`-s4`, libxl's `platform/*` defaults and
 * `/vm/<uuid>/rtc/timeoffset`. `devices` may be a function of the new domid. Unlike libxl,
 * it does not wait for each device's backend (libxl waits for the disks before adding the
 * console): call `waitForBackend` on the specs for that.
 *
 * Not done (nothing in dxl needs them yet): stub domains (`<name>-dm` and its records),
 * HVM's `hvmloader/generation-id-address` (it comes from the domain build), and the
 * `SET_FEATURE` / `SET_QUOTA` requests around INTRODUCE (libxl sends them only when a feature
 * mask or quota is configured).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 * import { vbd } from "./devices/vbd.ts";
 * import { makeDomain } from "./domain_create.ts";
 *
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const dom = await makeDomain(xs, {
 *   hypervisor,
 *   name: "web",
 *   maxMemKb: 262144,
 *   devices: (domid) => [vbd({ domid, vdev: "xvda", target: "/dev/vg/web" })],
 * });
 * assert.deepEqual(await xs.directory(`/libxl/${dom.domid}/device`), ["vbd", "console"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function makeDomain(
  store: LibxlStore,
  options: MakeDomainOptions,
): Promise<DomainInfo> {
  const o = checkDomainOptions(options);
  const tx: TransactionalOptions = {};
  if (options.attempts !== undefined) tx.attempts = options.attempts;
  if (options.signal !== undefined) tx.signal = options.signal;
  const request: DomainBuildRequest = {
    uuid: o.uuid,
    name: o.name,
    type: o.type,
    maxMemKb: o.maxMemKb,
    targetMemKb: o.targetMemKb,
    vcpus: o.vcpus,
  };
  if (options.domid !== undefined) request.domid = options.domid;
  if (o.kernel !== undefined) request.kernel = o.kernel;
  if (o.ramdisk !== undefined) request.ramdisk = o.ramdisk;
  if (o.cmdline !== undefined) request.cmdline = o.cmdline;
  const created: CreatedDomain = await options.hypervisor.createDomain(request);
  const { hypervisor, attempts: _a, signal: _s, ...rest } = options;
  try {
    const info = await inTransaction(
      store,
      (t) => writeNewDomain(t, created, { ...rest, uuid: o.uuid, domid: created.domid }),
      tx,
    );
    await hypervisor.introduceDomain(created);
    return info;
  } catch (error) {
    await removeNewDomain(store, created.domid, o.uuid);
    await hypervisor.destroyDomain(created.domid).catch(() => {});
    throw error;
  }
}
