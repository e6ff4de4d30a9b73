/**
 * Helpers for the config tests: lay out a live domain in a store (the nodes `xl create` and
 * dxl's mark leave), and summarise plans.
 *
 * @module
 */

import type { DeviceSpec } from "../../lib/libxl/device.ts";
import { addDevice } from "../../lib/libxl/device_add.ts";
import { pvConsole } from "../../lib/libxl/devices/console.ts";
import type { LibxlStore } from "../../lib/libxl/store.ts";
import type { Plan } from "../../lib/config/plan.ts";
import { summarizeAction } from "../../lib/config/plan.ts";

/** A domain to lay out. */
export interface SeedDomain {
  domid: number;
  name: string;
  /** Marked as dxl's (`/libxl/<domid>/dxl/managed`). @default true */
  managed?: boolean;
  uuid?: string;
  type?: string;
  maxMemKb?: number;
  targetMemKb?: number;
  vcpus?: number;
  online?: number;
  kernel?: string;
  /** Devices besides console 0, built for this domid. */
  devices?: (domid: number) => DeviceSpec[];
  removing?: boolean;
}

/** Writes a domain's records as readLive reads them (console 0 included). */
export async function seedDomain(xs: LibxlStore, d: SeedDomain): Promise<void> {
  const home = `/local/domain/${d.domid}`;
  const uuid = d.uuid ?? `00000000-0000-4000-8000-${String(d.domid).padStart(12, "0")}`;
  await xs.write(`${home}/name`, d.name);
  if (d.managed === false) return;
  await xs.write(`${home}/vm`, `/vm/${uuid}`);
  await xs.write(`/vm/${uuid}/name`, d.name);
  await xs.write(`/libxl/${d.domid}/type`, d.type ?? "pv");
  await xs.write(`/libxl/${d.domid}/dxl/managed`, "1");
  await xs.write(`/libxl/${d.domid}/dxl/driver-domain`, "0");
  if (d.removing) await xs.write(`/libxl/${d.domid}/dxl/removing`, "1");
  const max = d.maxMemKb ?? 32768;
  await xs.write(`${home}/memory/static-max`, String(max));
  await xs.write(`${home}/memory/target`, String(d.targetMemKb ?? max));
  const vcpus = d.vcpus ?? 1;
  for (let i = 0; i < vcpus; i++) {
    await xs.write(`${home}/cpu/${i}/availability`, i < (d.online ?? vcpus) ? "online" : "offline");
  }
  if (d.kernel !== undefined) await xs.write(`/vm/${uuid}/image/kernel`, d.kernel);
  await addDevice(xs, pvConsole({ domid: d.domid, port: 2, ringRef: 1 }), { checkExists: false });
  for (const spec of d.devices?.(d.domid) ?? []) await addDevice(xs, spec);
}

/** A plan's actions as one line each (`create domain web`, `update vif 0 of web (...)`). */
export function summary(p: Plan): string[] {
  return p.actions.map(summarizeAction);
}
