/**
 * The xl commands' steps on a real Xen host (`OpenStore.host` set: the hypervisor is Xen
 * through libxenctrl): what `xl` does besides xenstore — hotplug scripts and libxl's domain
 * config file (lib/xen/host.ts). In the simulated worlds only xenstore changes and the
 * simulated backends play the scripts' part.
 *
 * @module
 */

import type { DeviceSpec } from "../libxl/device.ts";
import { waitForBackend } from "../libxl/device_add.ts";
import type { DeviceRecord } from "../libxl/device_list.ts";
import { readDomainUuid } from "../libxl/domain.ts";
import { connectDevice, removalHook } from "../xen/host.ts";
import type { LibxlDomainConfig } from "../xen/libxl_config.ts";
import { updateDomainConfig } from "../xen/userdata.ts";
import type { OpenStore } from "./connection.ts";

/**
 * After `addDevice`: waits for the backend as libxl does, and on a Xen host runs the
 * device's hotplug script and records it in the domain's libxl config file
 * (`connectDevice`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addDevice, vif } from "../../mod.ts";
 * import { openStore } from "./connection.ts";
 * import { connectAdded } from "./_host.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * {
 *   await using store = await openStore({ env: { XDG_STATE_HOME: dir }, embedded: true });
 *   const nic = await addDevice(store.xs, vif({ domid: 0, devid: 7 }));
 *   await connectAdded(store, nic, { timeoutMs: 10_000 }); // the embedded store: a wait only
 *   const state = await store.xs.read("/local/domain/0/backend/vif/0/7/state");
 *   assert.ok(["2", "3", "4"].includes(state), state); // InitWait or later
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function connectAdded(
  store: Pick<OpenStore, "xs" | "host">,
  spec: DeviceSpec,
  options: { timeoutMs: number },
): Promise<void> {
  if (store.host === undefined) await waitForBackend(store.xs, spec, options);
  else await connectDevice(store.xs, spec, { ...store.host, timeoutMs: options.timeoutMs });
}

/**
 * Runs `remove` (a `removeDevice` or `destroyDomain`) with, on a Xen host, the devices'
 * removal scripts and their config file entries dropped before each cleanup; a failed
 * script does not stop the removal (as in libxl) and is thrown afterwards.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withRemovalHook } from "./_host.ts";
 * const xs = {} as Parameters<typeof withRemovalHook>[0]["xs"];
 * // without a Xen host there is no hook: the removal runs as it is
 * const hook = await withRemovalHook({ xs, host: undefined }, (hook) => Promise.resolve(hook));
 * assert.equal(hook, undefined);
 * ```
 */
export async function withRemovalHook<T>(
  store: Pick<OpenStore, "xs" | "host">,
  remove: (beforeCleanup: ((record: DeviceRecord) => Promise<void>) | undefined) => Promise<T>,
): Promise<T> {
  if (store.host === undefined) return await remove(undefined);
  const errors: Error[] = [];
  const result = await remove(
    removalHook(store.xs, { ...store.host, onScriptError: (e) => errors.push(e) }),
  );
  if (errors[0] !== undefined) throw errors[0];
  return result;
}

/**
 * On a Xen host, applies `change` to the domain's libxl config file (when it has one), as
 * `xl rename` and `xl mem-set` update it; elsewhere nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { updateHostConfig } from "./_host.ts";
 * // without a Xen host neither xenstore nor any file is touched
 * const xs = new Proxy({}, { get: () => assert.fail("xenstore used") }) as Parameters<
 *   typeof updateHostConfig
 * >[0]["xs"];
 * await updateHostConfig({ xs, host: undefined }, 1, () => assert.fail("config changed"));
 * ```
 */
export async function updateHostConfig(
  store: Pick<OpenStore, "xs" | "host">,
  domid: number,
  change: (config: LibxlDomainConfig) => LibxlDomainConfig,
): Promise<void> {
  if (store.host === undefined) return;
  const uuid = await readDomainUuid(store.xs, domid);
  if (uuid === undefined) return;
  const at = store.host.userdataDir === undefined ? {} : { dir: store.host.userdataDir };
  await updateDomainConfig({ domid, uuid }, change, at);
}
