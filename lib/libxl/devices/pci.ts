/**
 * The xenstore part of PCI passthrough (`libxl_pci.c` `libxl__create_pci_backend` and
 * `libxl_create_pci_backend_device`): one pciback bus per guest, devid 0, with one
 * `key-N`/`dev-N`/`opts-N`/`state-N` group per function. Assigning the device in the
 * hypervisor is not part of this.
 *
 * Two deliberate differences from libxl 4.17. libxl (since its 4.15 rework) writes the pci
 * bus straight into the frontend and backend, without a `/libxl` record; dxl records it like
 * every other device so that enumeration and teardown go through `/libxl` only (XSA-175).
 * And only the first add's layout is built: libxl hot-adds a function to an existing bus by
 * appending `key-N`... and rewriting `num_devs` in place; with dxl, remove the bus and add it
 * again with every function.
 *
 * @module
 */

import type { DeviceBaseOptions, DeviceSpec } from "../device.ts";
import { makeDeviceSpec } from "../device.ts";
import { DeviceConfigError } from "../errors.ts";
import { base, choice, flag, int, nonEmpty, object, optText } from "./_fields.ts";

/** One passed-through PCI function. */
export interface PciFunction {
  /** Its address, `dddd:bb:dd.f` (`0000:03:00.0`). */
  bdf: string;
  /** Guest slot/function (`vdevfn-N`, hex), written when non-zero. @default {0} */
  vdevfn?: number;
  /** `name-N`, written when set. */
  name?: string;
  /** Translate MSI to INTx where needed (`msitranslate` in `opts-N`). @default {true} */
  msitranslate?: boolean;
  /** Let the guest manage the device's power state (`power_mgmt`). @default {false} */
  powerMgmt?: boolean;
  /** Let the guest write all config space (`permissive`). @default {false} */
  permissive?: boolean;
  /** How reserved memory regions conflicts are treated (`rdm_policy`). @default {"strict"} */
  rdmPolicy?: "strict" | "relaxed";
}

/** Options of {@linkcode pci}. */
export interface PciOptions extends DeviceBaseOptions {
  /** The guest's name (`domain`). */
  domainName: string;
  /** The functions, at least one. */
  functions: PciFunction[];
}

const BDF = /^([0-9a-fA-F]{4}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/;

/**
 * The pci bus of a guest with every function listed (as the first add of a domain writes it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pci } from "./pci.ts";
 * const bus = pci({ domid: 1, domainName: "guest1", functions: [{ bdf: "0000:03:00.0" }] });
 * assert.equal(
 *   bus.back.find(([k]) => k === "opts-0")?.[1],
 *   "msitranslate=1,power_mgmt=0,permissive=0,rdm_policy=strict",
 * );
 * ```
 */
export function pci(options: PciOptions): DeviceSpec {
  const { o, domid, backendDomid } = base("pci", options);
  const domainName = nonEmpty("pci", "domainName", o.domainName);
  if (!Array.isArray(o.functions) || o.functions.length === 0) {
    throw new DeviceConfigError("pci", "functions", "expected a non-empty array");
  }
  const back: [string, string][] = [
    ["frontend-id", String(domid)],
    ["online", "1"],
    ["state", "1"],
    ["domain", domainName],
  ];
  o.functions.forEach((raw: unknown, n: number) => {
    const f = object("pci", raw);
    const field = `functions[${n}]`;
    const m = typeof f.bdf === "string" ? BDF.exec(f.bdf) : null;
    if (m === null) {
      throw new DeviceConfigError(
        "pci",
        `${field}.bdf`,
        `${JSON.stringify(f.bdf)} is not dddd:bb:dd.f`,
      );
    }
    const bdf = f.bdf as string;
    const dev = Number.parseInt(m[3]!, 16);
    if (dev > 0x1f) {
      throw new DeviceConfigError("pci", `${field}.bdf`, `device ${m[3]} is over 1f`);
    }
    const text = bdf.toLowerCase();
    back.push([`key-${n}`, text], [`dev-${n}`, text]);
    const vdevfn = int("pci", `${field}.vdevfn`, f.vdevfn, { min: 0, max: 0xff, fallback: 0 });
    if (vdevfn !== 0) back.push([`vdevfn-${n}`, vdevfn.toString(16)]);
    const name = optText("pci", `${field}.name`, f.name);
    if (name !== undefined) back.push([`name-${n}`, name]);
    const msi = flag("pci", `${field}.msitranslate`, f.msitranslate, true) ? 1 : 0;
    const pm = flag("pci", `${field}.powerMgmt`, f.powerMgmt, false) ? 1 : 0;
    const perm = flag("pci", `${field}.permissive`, f.permissive, false) ? 1 : 0;
    const rdm = choice(
      "pci",
      `${field}.rdmPolicy`,
      f.rdmPolicy,
      ["strict", "relaxed"] as const,
      "strict",
    );
    back.push(
      [`opts-${n}`, `msitranslate=${msi},power_mgmt=${pm},permissive=${perm},rdm_policy=${rdm}`],
      [`state-${n}`, "1"],
    );
  });
  back.push(["num_devs", String(o.functions.length)]);
  return makeDeviceSpec({
    domid,
    kind: "pci",
    devid: 0,
    backendDomid,
    backendKind: "pci",
    back,
    front: [["backend-id", String(backendDomid)], ["state", "1"]],
    raw: true,
    waitsForBackend: false,
  });
}
