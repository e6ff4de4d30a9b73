/**
 * A domain's devices as a config lists them → normalized devices in libxl_domain_create's
 * order, each checked by its libxl builder (problems go to the caller's issue list).
 *
 * @module
 */

import type { z } from "zod";
import { DeviceConfigError } from "../libxl/errors.ts";
import { parseDiskSpec } from "../libxl/disk_spec.ts";
import type { DiskSpec } from "../libxl/disk_spec.ts";
import { parseDiskName } from "../libxl/vdev.ts";
import type { RawIssue, Segment } from "./_issues.ts";
import { describe } from "./_issues.ts";
import type { NormalizedDevice } from "./normalized.ts";
import { buildDevice } from "./normalized.ts";
import type { DomainSchema } from "./schema.ts";

/** A domain as the schema outputs it. */
export type Domain = z.output<typeof DomainSchema>;
type DiskObject = Exclude<NonNullable<Domain["disks"]>[number], string>;

/** `T` without the `undefined` that zod's optional outputs carry. */
type Clean<T> =
  & { [K in keyof T as undefined extends T[K] ? never : K]: T[K] }
  & { [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined> };

/** Drops the keys whose value is `undefined`. */
function clean<T extends object>(o: T): Clean<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Clean<T>;
}

/** The key=value disk spec of a disk object (`target=` last: it may hold commas). */
function diskObjectSpec(o: DiskObject): string {
  const parts: string[] = [`vdev=${o.vdev}`];
  if (o.format !== undefined) parts.push(`format=${o.format}`);
  if (o.access !== undefined) parts.push(`access=${o.access}`);
  if (o.devtype !== undefined) parts.push(`devtype=${o.devtype}`);
  if (o.backendtype !== undefined) parts.push(`backendtype=${o.backendtype}`);
  if (o.script !== undefined) parts.push(`script=${o.script}`);
  parts.push(`target=${o.target}`);
  return parts.join(",");
}

function disk(
  input: string | DiskObject,
  i: number,
  d: Domain,
  at: Segment[],
  raw: RawIssue[],
): NormalizedDevice | undefined {
  const here = [...at, "disks", i];
  const obj = typeof input === "string" ? undefined : input;
  if (obj !== undefined && parseDiskName(obj.vdev) === undefined) {
    raw.push({
      path: [...here, "vdev"],
      message: `${JSON.stringify(obj.vdev)} is not a valid virtual disk`,
    });
    return undefined;
  }
  let spec: DiskSpec;
  try {
    spec = parseDiskSpec(obj === undefined ? input as string : diskObjectSpec(obj), {
      domainType: d.type ?? "pv",
    });
  } catch (e) {
    const part = (e as { part?: unknown }).part;
    const cause = (e as { cause?: unknown }).cause;
    if (cause instanceof DeviceConfigError && cause.field === "vdev") {
      raw.push({
        path: [...here, "vdev"],
        message: `${describe(part)} is not a valid virtual disk`,
      });
      return undefined;
    }
    // For an object, point at the field the complaint is about when one matches.
    const field = obj === undefined
      ? undefined
      : Object.entries(obj).find(([k, v]) => k === part || v === part)?.[0];
    raw.push({
      path: field === undefined ? here : [...here, field],
      message: (e as Error).message,
    });
    return undefined;
  }
  const { backendDomid, backendName, ...options } = spec;
  if (backendDomid !== undefined && backendDomid !== 0) {
    raw.push({
      path: here,
      message: `backend=${backendDomid}: name the backend domain, not its id (ids change)`,
    });
    return undefined;
  }
  if (obj?.trusted !== undefined) options.trusted = obj.trusted;
  if (obj?.directIoSafe !== undefined) options.directIoSafe = obj.directIoSafe;
  if (obj?.discardEnable !== undefined) options.discardEnable = obj.discardEnable;
  const parsed = parseDiskName(options.vdev);
  if (parsed === undefined) {
    raw.push({
      path: [...here, "vdev"],
      message: `${JSON.stringify(options.vdev)} is not a valid virtual disk`,
    });
    return undefined;
  }
  const device: NormalizedDevice = {
    kind: "vbd",
    devid: parsed.devid,
    source: `disks[${i}]`,
    label: options.vdev,
    options,
  };
  const backend = obj?.backend ?? backendName;
  if (backend !== undefined) device.backend = backend;
  return device;
}

/** Calls `fn` for each element of a list field that passed its check (holes are skipped). */
function each<T>(list: readonly T[] | undefined, fn: (x: T, i: number) => void): void {
  (list ?? []).forEach((x, i) => {
    if (x !== undefined) fn(x, i);
  });
}

/** Every device of a domain, in libxl_domain_create's order. */
export function normalizeDevices(d: Domain, at: Segment[], raw: RawIssue[]): NormalizedDevice[] {
  const out: NormalizedDevice[] = [];
  const push = (device: NormalizedDevice | undefined, backend: string | undefined) => {
    if (device === undefined) return;
    const b = backend ?? device.backend ?? d.backend;
    if (b !== undefined) device.backend = b;
    else delete device.backend;
    // Let the builder check every field now (domid 1 / backend 0 stand in for the real ids).
    try {
      buildDevice(device, { domid: 1, backendDomid: 0, domainName: d.name || "x" });
      out.push(device);
    } catch (e) {
      const field = e instanceof DeviceConfigError ? e.field : undefined;
      const prefix = e instanceof DeviceConfigError ? `Invalid ${e.kind} field "${e.field}": ` : "";
      const message = (e as Error).message;
      const [list, index] = device.source.split(/[[\]]/) as [string, string];
      const path: Segment[] = [...at, list, Number(index)];
      const fn = field === undefined ? null : /^functions\[([0-9]+)\]\.(.+)$/.exec(field);
      if (fn !== null) path.splice(-1, 1, Number(fn[1]), fn[2]!);
      else if (field === "backend" && device.kind === "vkbd") path.push("backendType");
      else if (field !== undefined && field !== "(options)") path.push(field);
      raw.push({
        path,
        message: message.startsWith(prefix) ? message.slice(prefix.length) : message,
      });
    }
  };
  each(d.disks, (x, i) => push(disk(x, i, d, at, raw), undefined));
  each(d.consoles, ({ backend, ...o }, i) =>
    push({
      kind: "console",
      devid: i + 1,
      source: `consoles[${i}]`,
      label: `console ${i + 1}`,
      options: clean(o),
    }, backend));
  each(
    d.p9s,
    ({ backend, ...o }, i) =>
      push(
        { kind: "9pfs", devid: i, source: `p9s[${i}]`, label: `9pfs ${i}`, options: clean(o) },
        backend,
      ),
  );
  each(
    d.vfbs,
    ({ backend, ...o }, i) =>
      push(
        { kind: "vfb", devid: i, source: `vfbs[${i}]`, label: `vfb ${i}`, options: clean(o) },
        backend,
      ),
  );
  each(d.vkbds, ({ backend, backendType, ...o }, i) => {
    const options = clean({ ...o, backend: backendType });
    push({ kind: "vkbd", devid: i, source: `vkbds[${i}]`, label: `vkbd ${i}`, options }, backend);
  });
  each(d.nics, ({ backend, devid, ...o }, i) => {
    const options = clean({ ...o, mac: o.mac?.toLowerCase() });
    const id = devid ?? i;
    push({ kind: "vif", devid: id, source: `nics[${i}]`, label: `vif ${id}`, options }, backend);
  });
  each(
    d.vtpms,
    ({ backend, ...o }, i) =>
      push(
        { kind: "vtpm", devid: i, source: `vtpms[${i}]`, label: `vtpm ${i}`, options: clean(o) },
        backend,
      ),
  );
  each(
    d.vusbs,
    ({ backend, ...o }, i) =>
      push(
        { kind: "vusb", devid: i, source: `vusbs[${i}]`, label: `vusb ${i}`, options: clean(o) },
        backend,
      ),
  );
  const pciList = d.pci ?? [];
  if (pciList.length > 0 && !pciList.includes(undefined as never)) {
    const functions = pciList.map((f) => typeof f === "string" ? { bdf: f } : clean(f));
    push(
      { kind: "pci", devid: 0, source: "pci[0]", label: "pci 0", options: { functions } },
      undefined,
    );
  }
  return out;
}
