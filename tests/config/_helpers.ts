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

const OPS = new Set([
  "read",
  "readBytes",
  "tryRead",
  "write",
  "mkdir",
  "rm",
  "directory",
  "exists",
  "getPerms",
  "setPerms",
]);

/**
 * Wraps a store so that `before()` runs just before every request it sends, inside
 * transactions too (for killing an applier at an exact request).
 */
export function counting(store: LibxlStore, before: () => void): LibxlStore {
  const wrapOps = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, key, receiver) {
        const value = Reflect.get(t, key, receiver);
        if (typeof key !== "string" || typeof value !== "function") return value;
        if (OPS.has(key)) {
          return (...args: unknown[]) => {
            before();
            return value.apply(t, args);
          };
        }
        if (key === "transaction") {
          return (fn: (tx: unknown) => Promise<unknown>, options: unknown) =>
            value.call(t, (tx: object) => fn(wrapOps(tx)), options);
        }
        return value.bind(t);
      },
    });
  return wrapOps(store);
}

/** The clock of the atomicity test's appliers. */
export const KILL_NOW = (): number => 1795611510820;

/** The atomicity test's state before: web with a disk and two nics. */
export const KILL_BEFORE = {
  domains: [{
    name: "web",
    uuid: "00000000-0000-4000-8000-000000000001",
    memory: "512M",
    maxmem: "1G",
    disks: ["phy:/dev/vg0/web,xvda,w"],
    nics: [{ mac: "00:16:3e:00:00:01" }, { mac: "00:16:3e:00:00:02" }],
  }],
};

/**
 * ... and the config the killed applier applies: web's memory changes in place, a disk is
 * added and a nic removed; a new domain db with a disk, a nic and a console channel.
 */
export const KILL_AFTER = {
  domains: [{
    name: "web",
    uuid: "00000000-0000-4000-8000-000000000001",
    memory: "256M",
    maxmem: "1G",
    disks: ["phy:/dev/vg0/web,xvda,w", "phy:/dev/vg0/web-data,xvdb,w"],
    nics: [{ mac: "00:16:3e:00:00:01" }],
  }, {
    name: "db",
    uuid: "00000000-0000-4000-8000-000000000002",
    memory: "1G",
    vcpus: 2,
    disks: ["phy:/dev/vg0/db,xvda,w"],
    nics: [{ mac: "00:16:3e:00:00:03" }],
    consoles: [{ name: "org.example.log" }],
  }],
};
