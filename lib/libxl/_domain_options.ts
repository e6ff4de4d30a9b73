/**
 * The options of `makeDomain` and their checks (each failure names the field).
 *
 * @module
 */

import type { DomainType, Hypervisor } from "./hypervisor.ts";
import { text } from "./devices/_fields.ts";
import { DeviceConfigError } from "./errors.ts";
import { checkUuid } from "./paths.ts";
import type { TransactionalOptions } from "./store.ts";
import type { DeviceSpec } from "./device.ts";
import { validatePath } from "../protocol/path.ts";

export type { DomainType } from "./hypervisor.ts";

/**
 * What {@linkcode writeNewDomain} writes for a new domain: its records, its build and the
 * devices added with it.
 */
export interface NewDomainOptions {
  /** The domain's name; must be unique. */
  name: string;
  /** The uuid. @default {crypto.randomUUID()} */
  uuid?: string;
  /**
   * The id (for `writeNewDomain` it must be the created domain's, if given).
   * @default {the hypervisor's choice}
   */
  domid?: number;
  /** The domain type, recorded in `/libxl/<domid>/type`. @default {"pv"} */
  type?: DomainType;
  /** `memory/static-max` in KiB. */
  maxMemKb: number;
  /** `memory/target` in KiB. @default {maxMemKb} */
  targetMemKb?: number;
  /** `memory/videoram` in KiB. @default {0} */
  videoramKb?: number;
  /** Number of vCPUs (`cpu/<i>/availability`). @default {1} */
  vcpus?: number;
  /** How many of them start online. @default {vcpus} */
  vcpusOnline?: number;
  /**
   * `/vm/<uuid>/image/kernel` (PV and PVH; libxl hands an HVM kernel to the device model
   * and records none).
   * @default {none}
   */
  kernel?: string;
  /** `/vm/<uuid>/image/ramdisk` (PV and PVH). @default {none} */
  ramdisk?: string;
  /** `/vm/<uuid>/image/cmdline` (PV and PVH). @default {none} */
  cmdline?: string;
  /** Add the primary console (console 0, xenconsoled). @default {true} */
  console?: boolean;
  /** The clock for `start_time`, in milliseconds since the epoch. @default {Date.now} */
  now?: () => number;
  /**
   * Check inside the transaction that no other domain has the name (it reads every
   * `~/name`). `false` only for a caller that read every name in the same transaction
   * itself (dxl's apply does, for all its new domains at once).
   * @default {true}
   */
  checkName?: boolean;
  /**
   * Leave out the SET_PERMS requests that give a node the permissions it inherited already
   * (`skippingInheritedPerms`): the same tree in the same order with about an eighth fewer
   * requests. `false` sends exactly libxl's requests.
   * @default {false}
   */
  skipInheritedPerms?: boolean;
  /**
   * A driver domain: also make `~/libxl` and `~/device-model`, owned by the domain, as
   * libxl does for `driver_domain=1`.
   * @default {false}
   */
  driverDomain?: boolean;
  /** Extra keys written under `~` (libxl's `xsdata`), relative paths. @default {{}} */
  xsdata?: Readonly<Record<string, string>>;
  /** Keys written under `~/platform` (libxl's `platformdata`). @default {{}} */
  platformdata?: Readonly<Record<string, string>>;
  /** HVM only: `/vm/<uuid>/rtc/timeoffset`. @default {""} */
  timeoffset?: string;
  /**
   * Devices added with the domain, built for its domid with the device builders; they are
   * written in the order `libxl_domain_create` adds them whatever their order here (each
   * kind keeps the given order). The primary console is added unless `console` is false.
   * A function is called with the new domain's id (for `makeDomain`, where the hypervisor
   * picks it).
   * @default {[]}
   */
  devices?: readonly DeviceSpec[] | ((domid: number) => readonly DeviceSpec[]);
}

/** Options of {@linkcode makeDomain}. */
export interface MakeDomainOptions extends NewDomainOptions, TransactionalOptions {
  /** The hypervisor that creates the domain and INTRODUCEs it. */
  hypervisor: Hypervisor;
}

const DOMAIN_TYPES: readonly DomainType[] = ["pv", "pvh", "hvm"];

/** `makeDomain`'s options, checked and with their defaults filled in. */
export interface DomainPlan {
  name: string;
  uuid: string;
  type: DomainType;
  maxMemKb: number;
  targetMemKb: number;
  videoramKb: number;
  vcpus: number;
  online: number;
  kernel: string | undefined;
  ramdisk: string | undefined;
  cmdline: string | undefined;
  driverDomain: boolean;
  xsdata: [string, string][];
  platformdata: [string, string][];
  timeoffset: string;
}

/** `xsdata` / `platformdata` as ordered pairs of a relative path and a value. */
function entries(
  field: string,
  data: Readonly<Record<string, string>> | undefined,
): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(data ?? {})) {
    const bad = key.startsWith("/") || key.split("/").some((p) => p === "" || p === "..");
    try {
      if (bad) throw new Error("it must be a relative path without empty or .. parts");
      validatePath(`/${key}`);
    } catch (e) {
      throw new DeviceConfigError("domain", `${field}.${key}`, (e as Error).message);
    }
    out.push([key, text("domain", `${field}.${key}`, value)]);
  }
  return out;
}

/** Checks `makeDomain`'s options; each failure names the field. */
export function checkDomainOptions(o: NewDomainOptions): DomainPlan {
  const int = (field: string, value: unknown, min: number, fallback?: number): number => {
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
      throw new DeviceConfigError("domain", field, `expected an integer >= ${min}, got ${value}`);
    }
    return value;
  };
  const name = text("domain", "name", o.name);
  if (name === "") throw new DeviceConfigError("domain", "name", "must not be empty");
  const maxMemKb = int("maxMemKb", o.maxMemKb, 1);
  const vcpus = int("vcpus", o.vcpus, 1, 1);
  const online = int("vcpusOnline", o.vcpusOnline, 0, vcpus);
  if (online > vcpus) {
    throw new DeviceConfigError("domain", "vcpusOnline", `${online} is more than vcpus ${vcpus}`);
  }
  const type = o.type ?? "pv";
  if (!DOMAIN_TYPES.includes(type)) {
    throw new DeviceConfigError("domain", "type", `expected "pv", "pvh" or "hvm", got ${type}`);
  }
  let uuid: string;
  try {
    uuid = checkUuid(o.uuid ?? crypto.randomUUID());
  } catch (e) {
    throw new DeviceConfigError("domain", "uuid", (e as Error).message);
  }
  return {
    name,
    uuid,
    type,
    maxMemKb,
    targetMemKb: int("targetMemKb", o.targetMemKb, 1, maxMemKb),
    videoramKb: int("videoramKb", o.videoramKb, 0, 0),
    vcpus,
    online,
    kernel: o.kernel === undefined ? undefined : text("domain", "kernel", o.kernel),
    ramdisk: o.ramdisk === undefined ? undefined : text("domain", "ramdisk", o.ramdisk),
    cmdline: o.cmdline === undefined ? undefined : text("domain", "cmdline", o.cmdline),
    driverDomain: o.driverDomain ?? false,
    xsdata: entries("xsdata", o.xsdata),
    platformdata: entries("platformdata", o.platformdata),
    timeoffset: text("domain", "timeoffset", o.timeoffset ?? ""),
  };
}
