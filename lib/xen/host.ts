/**
 * The steps a real host needs around the libxl layer's domain and device operations, one
 * call each, for the config apply and the CLI: what `xl` does besides xenstore (the domain
 * config file, hotplug scripts, unpause).
 *
 * @module
 */

import type { XenstoreOps } from "../client/types.ts";
import { waitForBackend } from "../libxl/device_add.ts";
import type { DeviceSpec } from "../libxl/device.ts";
import type { DeviceRecord } from "../libxl/device_list.ts";
import { readDeviceRecord } from "../libxl/device_list.ts";
import { readDomainUuid } from "../libxl/domain.ts";
import { destroyDomain } from "../libxl/domain_destroy.ts";
import { DeviceNotFoundError } from "../libxl/errors.ts";
import type { DomainBuildRequest, Hypervisor } from "../libxl/hypervisor.ts";
import type { LibxlStore } from "../libxl/store.ts";
import type { HotplugOptions, HotplugResult } from "./hotplug.ts";
import { runHotplug } from "./hotplug.ts";
import { domainConfig, withDevice, withoutDevice } from "./libxl_config.ts";
import type { UserdataOptions } from "./userdata.ts";
import { deleteDomainUserdata, updateDomainConfig, writeDomainConfig } from "./userdata.ts";

/** Options of the host steps. */
export interface HostOptions {
  /** Where libxl keeps the domain config files. @default {"/var/lib/xen"} */
  userdataDir?: string;
  /**
   * The hypervisor: asked whether the domain still exists once the config file's lock is
   * held (libxl asks Xen), and used to unpause a new domain.
   * @default {none: the domain is taken to exist}
   */
  hypervisor?: Hypervisor;
  /** Options of the hotplug script runs. @default {{}} */
  hotplug?: HotplugOptions;
  /** How long to wait for a backend's InitWait before its script runs. @default {10000} */
  timeoutMs?: number;
}

function userdata(options: HostOptions): UserdataOptions {
  const out: UserdataOptions = {};
  if (options.userdataDir !== undefined) out.dir = options.userdataDir;
  const hv = options.hypervisor;
  if (hv?.getInfo !== undefined) {
    out.domainExists = async (domid) => (await hv.getInfo!(domid)) !== undefined;
  }
  return out;
}

/** Options of {@linkcode finishCreate}. */
export interface FinishCreateOptions extends HostOptions {
  /** Unpause the domain (`xl create -p` leaves it paused). @default {true} */
  unpause?: boolean;
  /** vCPUs online at start (`avail_vcpus`), as given to `makeDomain`. @default {request.vcpus} */
  vcpusOnline?: number;
}

/**
 * After `makeDomain` (and the devices of the domain's config): writes libxl's config file
 * for the new domain, as `xl create` does, then unpauses it when the hypervisor can
 * (`xl create` without `-p`). `request` is what the domain was built from.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { finishCreate } from "./host.ts";
 * import { readDomainConfig } from "./userdata.ts";
 * const userdataDir = await Deno.makeTempDir();
 * const uuid = "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
 * await finishCreate(1, { uuid, name: "web", maxMemKb: 262144 }, { userdataDir });
 * const config = await readDomainConfig({ domid: 1, uuid }, { dir: userdataDir });
 * assert.equal(config?.c_info.name, "web");
 * ```
 */
export async function finishCreate(
  domid: number,
  request: DomainBuildRequest,
  options: FinishCreateOptions = {},
): Promise<void> {
  const config = domainConfig(
    request,
    options.vcpusOnline === undefined ? {} : { vcpusOnline: options.vcpusOnline },
  );
  await writeDomainConfig({ domid, uuid: request.uuid }, config, userdata(options));
  if (options.unpause ?? true) await options.hypervisor?.unpauseDomain?.(domid);
}

/** What {@linkcode connectDevice} did. */
export interface ConnectedDevice {
  /** The device's `/libxl` record. */
  record: DeviceRecord;
  /** The hotplug script runs. */
  hotplug: HotplugResult;
}

/**
 * After `addDevice` of a device in dom0's backends: waits for the backend's InitWait (as
 * libxl does, when it waits for that kind), runs the hotplug script (`runHotplug` "add"),
 * and records the disk or nic in the domain's libxl config file (when the domain has one),
 * so `xl` sees it. Rejects with `HotplugError` when the script fails (the device stays, as
 * libxl leaves it to the caller to remove it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addDevice, connect, makeDomain, startXenstored, vbd } from "../../mod.ts";
 * import { SimulatedBackend, SimulatedHypervisor } from "../../testing.ts";
 * import { connectDevice, finishCreate } from "./host.ts";
 * const dir = await Deno.makeTempDir();
 * await using xsd = await startXenstored({ dir, initDom0: true });
 * await using xs = await connect({ path: xsd.socket });
 * await using _blkback = await SimulatedBackend.start(xs);
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const request = { uuid: crypto.randomUUID(), name: "web", maxMemKb: 262144 };
 * const { domid } = await makeDomain(xs, { hypervisor, ...request });
 * await finishCreate(domid, request, { userdataDir: dir });
 * const script = `${dir}/block`; // a stand-in for /etc/xen/scripts/block
 * await Deno.writeTextFile(script, `#!/bin/sh\necho "$1 $XENBUS_PATH" >> ${dir}/ran\n`);
 * await Deno.chmod(script, 0o755);
 * const disk = vbd({ domid, vdev: "xvda", target: "/dev/vg0/web", script });
 * await addDevice(xs, disk);
 * await connectDevice(xs, disk, { userdataDir: dir });
 * assert.equal(await Deno.readTextFile(`${dir}/ran`), `add backend/vbd/${domid}/51712\n`);
 * const json = await Deno.readTextFile(`${dir}/userdata-d.${domid}.${request.uuid}.libxl-json`);
 * assert.equal(JSON.parse(json.replace(/\0$/, "")).disks[0].pdev_path, "/dev/vg0/web");
 * ```
 */
export async function connectDevice(
  store: LibxlStore,
  spec: DeviceSpec,
  options: HostOptions = {},
): Promise<ConnectedDevice> {
  await waitForBackend(store, spec, { timeoutMs: options.timeoutMs ?? 10_000 });
  const record = await readDeviceRecord(store, spec);
  if (record === undefined) {
    throw new DeviceNotFoundError(`/libxl/${spec.domid}/device/${spec.kind}/${spec.devid}`);
  }
  const hotplug = await runHotplug(store, record, "add", options.hotplug ?? {});
  const uuid = await readDomainUuid(store, spec.domid);
  if (uuid !== undefined) {
    await updateDomainConfig(
      { domid: spec.domid, uuid },
      (c) => withDevice(c, record),
      userdata(options),
    );
  }
  return { record, hotplug };
}

/** Options of {@linkcode removalHook}. */
export interface RemovalHookOptions extends HostOptions {
  /** Told about a failed removal script (the removal goes on). @default {nothing} */
  onScriptError?: (error: Error) => void;
}

/**
 * The `beforeCleanup` option for `removeDevice` / `destroyDomain`: runs the device's
 * removal script (a failure is reported through `onScriptError`, and the removal goes on,
 * as in libxl) and drops the disk or nic from the domain's libxl config file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addDevice, connect, makeDomain, removeDevice, startXenstored, vif } from "../../mod.ts";
 * import { SimulatedBackend, SimulatedHypervisor } from "../../testing.ts";
 * import { removalHook } from "./host.ts";
 * const dir = await Deno.makeTempDir();
 * await using xsd = await startXenstored({ dir, initDom0: true });
 * await using xs = await connect({ path: xsd.socket });
 * await using _netback = await SimulatedBackend.start(xs);
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 262144 });
 * const script = `${dir}/vif-bridge`;
 * await Deno.writeTextFile(script, `#!/bin/sh\necho "$*" >> ${dir}/ran\n`);
 * await Deno.chmod(script, 0o755);
 * const nic = vif({ domid, devid: 0, script });
 * await addDevice(xs, nic);
 * await removeDevice(xs, nic, { beforeCleanup: removalHook(xs, { userdataDir: dir }) });
 * assert.equal(await Deno.readTextFile(`${dir}/ran`), "offline type_if=vif\n");
 * ```
 */
export function removalHook(
  store: XenstoreOps,
  options: RemovalHookOptions = {},
): (record: DeviceRecord) => Promise<void> {
  return async (record) => {
    const result = await runHotplug(store, record, "remove", options.hotplug ?? {});
    if (result.error !== undefined) options.onScriptError?.(result.error);
    const uuid = await readDomainUuid(store, record.domid);
    if (uuid !== undefined) {
      await updateDomainConfig(
        { domid: record.domid, uuid },
        (c) => withoutDevice(c, record),
        userdata(options),
      );
    }
  };
}

/**
 * After `destroyDomain`: removes the domain's libxl userdata files
 * (`libxl__userdata_destroyall`), whoever made the domain. Read the uuid before the destroy
 * removes `~/vm` (`readDomainUuid`); a domain whose uuid is unknown has none to remove.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { finishCreate, forgetDomain } from "./host.ts";
 * const userdataDir = await Deno.makeTempDir();
 * const uuid = "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
 * await finishCreate(1, { uuid, maxMemKb: 1024 }, { userdataDir });
 * assert.equal((await forgetDomain({ domid: 1, uuid }, { userdataDir })).length, 1);
 * ```
 */
export async function forgetDomain(
  domain: { domid: number; uuid: string | undefined },
  options: HostOptions = {},
): Promise<string[]> {
  if (domain.uuid === undefined) return [];
  const at = options.userdataDir === undefined ? {} : { dir: options.userdataDir };
  return await deleteDomainUserdata({ domid: domain.domid, uuid: domain.uuid }, at);
}

/**
 * What libxl does with a domain whose creation failed once it was built (`domcreate_complete`
 * → `libxl__domain_destroy`, libxl_create.c), such as one whose device did not connect:
 * every device removed with its removal script (a failing script goes to `onScriptError`
 * and the destroy goes on), the domain's xenstore records, the domain itself
 * (`options.hypervisor`) and its libxl config file. `xl create` then exits with the error;
 * nothing of the domain is left, neither paused nor in `/var/lib/xen`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addDevice, connect, makeDomain, startXenstored, vif } from "../../mod.ts";
 * import { SimulatedBackend, SimulatedHypervisor } from "../../testing.ts";
 * import { discardDomain, finishCreate } from "./host.ts";
 * const dir = await Deno.makeTempDir();
 * await using xsd = await startXenstored({ dir, initDom0: true });
 * await using xs = await connect({ path: xsd.socket });
 * await using _netback = await SimulatedBackend.start(xs);
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const request = { uuid: crypto.randomUUID(), name: "web", maxMemKb: 262144 };
 * const { domid } = await makeDomain(xs, { hypervisor, ...request });
 * await finishCreate(domid, request, { userdataDir: dir, unpause: false });
 * const script = `${dir}/vif-bridge`;
 * await Deno.writeTextFile(script, `#!/bin/sh\necho "$1" >> ${dir}/ran\n`);
 * await Deno.chmod(script, 0o755);
 * await addDevice(xs, vif({ domid, devid: 0, script }));
 * await discardDomain(xs, domid, { hypervisor, userdataDir: dir });
 * assert.equal(await Deno.readTextFile(`${dir}/ran`), "offline\n");
 * assert.equal(await xs.tryRead(`/local/domain/${domid}`), undefined);
 * const left = await Array.fromAsync(Deno.readDir(dir), (e) => e.name);
 * assert.deepEqual(left.filter((n) => n.startsWith("userdata-")), []);
 * ```
 */
export async function discardDomain(
  store: LibxlStore,
  domid: number,
  options: RemovalHookOptions = {},
): Promise<void> {
  const uuid = await readDomainUuid(store, domid);
  await destroyDomain(store, domid, {
    ...(options.hypervisor === undefined ? {} : { hypervisor: options.hypervisor }),
    beforeCleanup: removalHook(store, options),
  });
  await forgetDomain({ domid, uuid }, options);
}
