/**
 * The device half of the plan: declared devices against the `/libxl` records of a live
 * domain, and how plans name devices.
 *
 * @module
 */

import type { LiveDevice, LiveDomain, LiveState } from "./live.ts";
import type { NormalizedDevice, NormalizedDomain } from "./normalized.ts";
import { buildDevice } from "./normalized.ts";
import type { FieldChange, PlanAction, PlanDevice, PlanValue } from "./plan_types.ts";

/** The domain id of a backend named `name`, among live domains (dom0 when undefined). */
export function resolveLive(live: LiveState, name: string | undefined): number | undefined {
  if (name === undefined) return 0;
  const hit = live.domains.filter((d) => d.name === name && !d.removing);
  if (hit.length === 1) return hit[0]!.domid;
  if (name === "Domain-0") return 0;
  return undefined;
}

export function planDevice(device: NormalizedDevice): PlanDevice {
  const out: PlanDevice = { kind: device.kind, devid: device.devid, label: device.label };
  if (device.backend !== undefined) out.backend = device.backend;
  return out;
}

export function liveLabel(device: LiveDevice): PlanDevice {
  const disk = device.kind === "vbd" ? device.keys.dev : undefined;
  return {
    kind: device.kind,
    devid: device.devid,
    label: disk ?? `${device.kind} ${device.devid}`,
  };
}

/** Live devices the config manages (console 0 comes with the domain, not the config). */
export function managedDevices(domain: LiveDomain): LiveDevice[] {
  return domain.devices.filter((d) => !(d.kind === "console" && d.devid === 0));
}

export function val(v: string | number | boolean | undefined): PlanValue {
  return v === undefined ? null : v;
}

/** The device the config wants, with a kept random MAC, as a map of its `/libxl` keys. */
function wantedKeys(
  device: NormalizedDevice,
  domain: LiveDomain,
  backendDomid: number,
  have: LiveDevice | undefined,
): Record<string, string> {
  let d = device;
  if (d.kind === "vif" && d.options.mac === undefined && have?.keys.mac !== undefined) {
    d = { ...d, options: { ...d.options, mac: have.keys.mac } };
  }
  const spec = buildDevice(d, { domid: domain.domid, backendDomid, domainName: domain.name! });
  return Object.fromEntries(spec.back);
}

/**
 * Whether a disk difference is only the media of a cdrom, which libxl changes in place
 * (`xl cd-insert`, for HVM guests).
 */
function mediaOnly(device: NormalizedDevice, changes: FieldChange[]): boolean {
  return device.kind === "vbd" && device.options.cdrom === true &&
    changes.every((c) => c.path === "params");
}

export function diffDevices(
  want: NormalizedDomain,
  have: LiveDomain,
  live: LiveState,
  recreated: ReadonlySet<string>,
): PlanAction[] {
  const actions: PlanAction[] = [];
  const base = { domain: want.name, domid: have.domid };
  const left = new Map(managedDevices(have).map((d) => [`${d.kind}/${d.devid}`, d]));
  for (const device of want.devices) {
    const key = `${device.kind}/${device.devid}`;
    const current = left.get(key);
    left.delete(key);
    if (current === undefined) {
      actions.push({ ...base, kind: "create", device: planDevice(device), changes: [] });
      continue;
    }
    const backendDomid = device.backend !== undefined && recreated.has(device.backend)
      ? undefined
      : resolveLive(live, device.backend);
    if (backendDomid === undefined) {
      actions.push({
        ...base,
        kind: "replace",
        device: planDevice(device),
        changes: [{ path: "backend", before: current.backendDomid, after: device.backend! }],
        reason: `its backend domain ${JSON.stringify(device.backend)} is being created`,
      });
      continue;
    }
    const after = wantedKeys(device, have, backendDomid, current);
    const changes: FieldChange[] = [];
    if (current.backendDomid !== backendDomid) {
      changes.push({ path: "backend", before: current.backendDomid, after: backendDomid });
    }
    for (const k of new Set([...Object.keys(current.keys), ...Object.keys(after)])) {
      if (current.keys[k] !== after[k]) {
        changes.push({ path: k, before: val(current.keys[k]), after: val(after[k]) });
      }
    }
    if (changes.length === 0) continue;
    const inPlace = have.type === "hvm" && mediaOnly(device, changes);
    const action: PlanAction = {
      ...base,
      kind: inPlace ? "update" : "replace",
      device: planDevice(device),
      changes,
    };
    if (!inPlace) action.reason = "libxl cannot change these keys of a connected device";
    actions.push(action);
  }
  for (const gone of left.values()) {
    actions.push({ ...base, kind: "remove", device: liveLabel(gone), changes: [] });
  }
  return actions;
}
