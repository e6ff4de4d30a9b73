/**
 * Domain teardown (`libxl__destroy_domid` → `libxl__devices_destroy` → `devices_destroy_cb`):
 * devices found through `/libxl` records only, then `~/vm`'s `/vm/<uuid>`, `~` and
 * `/libxl/<domid>`, then the hypervisor.
 *
 * @module
 */

import { listDevices } from "./device_list.ts";
import { DeviceNotFoundError } from "./errors.ts";
import type { RemoveResult } from "./device_remove.ts";
import { removeDevice } from "./device_remove.ts";
import type { ForceMode, RemoveDeviceOptions } from "./device_remove.ts";
import { readDomainUuid } from "./domain.ts";
import type { Hypervisor } from "./hypervisor.ts";
import { checkDomid, domainPath, libxlDomainPath, vmPath } from "./paths.ts";
import type { LibxlStore } from "./store.ts";
import { rmIfPresent } from "./store.ts";

/** Options of {@linkcode destroyDomain}. */
export interface DestroyDomainOptions extends Omit<RemoveDeviceOptions, "force"> {
  /** Destroys the domain itself afterwards; omitted, only xenstore is cleaned up. */
  hypervisor?: Hypervisor;
  /**
   * How device removal treats backends that do not close.
   * @default {"always"}
   */
  force?: ForceMode;
}

/** What {@linkcode destroyDomain} did. */
export interface DestroyDomainResult {
  /** Each device removal, in the order they were done (`/libxl` order). */
  devices: RemoveResult[];
}

/**
 * Tears a domain down the way libxl does: every device recorded under
 * `/libxl/<domid>/device` is removed, one after another in the order `libxl__devices_destroy`
 * walks them (the kinds as the directory lists them, then each kind's devids), consoles and
 * vuarts by xenstore cleanup only, others through the close handshake — the guest's
 * frontends are never used to find them; then `/vm/<uuid>` (from `~/vm`, only when it has that exact shape), `~` and
 * `/libxl/<domid>` are removed, each outside a transaction, and finally the hypervisor is
 * asked to destroy the domain. A hypervisor that can pause it does so first, as libxl does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 * import { makeDomain } from "./domain_create.ts";
 * import { destroyDomain } from "./domain_destroy.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536 });
 * const { devices } = await destroyDomain(xs, domid, { hypervisor, timeoutMs: 10_000 });
 * assert.deepEqual(devices.map((r) => r.record.kind), ["console"]);
 * assert.equal(await xs.exists(`/libxl/${domid}`), false);
 * assert.deepEqual(hypervisor.domains, []);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function destroyDomain(
  store: LibxlStore,
  domid: number,
  options: DestroyDomainOptions = {},
): Promise<DestroyDomainResult> {
  checkDomid(domid);
  const { hypervisor, ...rest } = options;
  const removeOptions: RemoveDeviceOptions = { ...rest, force: options.force ?? "always" };
  // libxl__destroy_domid pauses the domain before its devices go (a failure is only logged)
  await hypervisor?.pauseDomain?.(domid).catch(() => {});
  // libxl__devices_destroy: the kinds as DIRECTORY lists /libxl/<domid>/device, each kind's
  // devids as listed; removed one after another (concurrent removals on one connection
  // conflict and are retried).
  const devices: RemoveResult[] = [];
  for (const record of await listDevices(store, domid)) {
    try {
      devices.push(await removeDevice(store, record, removeOptions));
    } catch (error) {
      // Removed meanwhile by someone else: nothing left to do for it.
      if (!(error instanceof DeviceNotFoundError)) throw error;
    }
  }
  const uuid = await readDomainUuid(store, domid);
  if (uuid !== undefined) await rmIfPresent(store, vmPath(uuid));
  await rmIfPresent(store, domainPath(domid));
  await rmIfPresent(store, libxlDomainPath(domid));
  if (hypervisor !== undefined) await hypervisor.destroyDomain(domid);
  return { devices };
}
