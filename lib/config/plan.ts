/**
 * The plan: a pure diff of a validated config against the live state, as a plain value the
 * CLI prints (like `terraform plan`) or serialises (`planJson`).
 *
 * @module
 */

import type { DeviceKind } from "../libxl/device_kind.ts";
import { ConfigValidationError, PlanConflictError } from "./errors.ts";
import type { ConfigIssue } from "./errors.ts";
import type { LiveDevice, LiveDomain, LiveState } from "./live.ts";
import { formatMemory } from "./memory.ts";
import type { NormalizedConfig, NormalizedDevice, NormalizedDomain } from "./normalized.ts";
import { buildDevice } from "./normalized.ts";

/** What an action does. */
export type ActionKind = "create" | "update" | "replace" | "remove" | "noop";

/** A JSON value as plans show them. */
export type PlanValue = string | number | boolean | null;

/** One field that changes: where, and its value before and after (`null`: none). */
export interface FieldChange {
  /** The config field (`memory`, `vcpus`) or the device's `/libxl` key (`params`, `mac`). */
  path: string;
  /** The live value. */
  before: PlanValue;
  /** The value after apply. */
  after: PlanValue;
}

/** A device as a plan names it. */
export interface PlanDevice {
  /** The frontend kind. */
  kind: DeviceKind;
  /** The device id. */
  devid: number;
  /** `xvda` for a disk, else `<kind> <devid>`. */
  label: string;
  /** The backend domain's name, absent for dom0. */
  backend?: string;
}

/**
 * One step of a plan. A domain action (`device` absent) that creates, replaces or removes a
 * domain lists its devices in `devices`; device actions belong to a domain that stays.
 */
export interface PlanAction {
  /** What happens. */
  kind: ActionKind;
  /** The domain's name. */
  domain: string;
  /** Its live id (absent for a domain still to be created). */
  domid?: number;
  /** The device, for a device action. */
  device?: PlanDevice;
  /** For create/replace/remove of a domain: its devices (after; before for remove). */
  devices?: PlanDevice[];
  /** What changes (update, replace). */
  changes: FieldChange[];
  /** Why a replace cannot be done in place, or why a remove happens. */
  reason?: string;
}

/** A plan: the actions, in the order apply takes them, and the config they came from. */
export interface Plan {
  /** The config the plan was made for (apply needs it). */
  config: NormalizedConfig;
  /** Whether domains dxl created that the config does not declare are removed. */
  prune: boolean;
  /** Whether the declared domains are removed (a `destroy` plan). */
  destroy: boolean;
  /** The actions; `noop` ones say a domain is already as declared. */
  actions: PlanAction[];
}

/** Options of {@linkcode plan}. */
export interface PlanOptions {
  /**
   * Also remove the domains dxl created that the config does not declare.
   * @default {false}
   */
  prune?: boolean;
  /**
   * Remove the declared domains instead of creating or updating them (what `destroy` does).
   * @default {false}
   */
  destroy?: boolean;
}

/** The domain id of a backend named `name`, among live domains (dom0 when undefined). */
function resolveLive(live: LiveState, name: string | undefined): number | undefined {
  if (name === undefined) return 0;
  const hit = live.domains.filter((d) => d.name === name && !d.removing);
  if (hit.length === 1) return hit[0]!.domid;
  if (name === "Domain-0") return 0;
  return undefined;
}

function planDevice(device: NormalizedDevice): PlanDevice {
  const out: PlanDevice = { kind: device.kind, devid: device.devid, label: device.label };
  if (device.backend !== undefined) out.backend = device.backend;
  return out;
}

function liveLabel(device: LiveDevice): PlanDevice {
  const disk = device.kind === "vbd" ? device.keys.dev : undefined;
  return {
    kind: device.kind,
    devid: device.devid,
    label: disk ?? `${device.kind} ${device.devid}`,
  };
}

/** Live devices the config manages (console 0 comes with the domain, not the config). */
function managedDevices(domain: LiveDomain): LiveDevice[] {
  return domain.devices.filter((d) => !(d.kind === "console" && d.devid === 0));
}

function val(v: string | number | boolean | undefined): PlanValue {
  return v === undefined ? null : v;
}

/** Fields libxl cannot change on a running domain: each differing one forces a replace. */
function replaceChanges(want: NormalizedDomain, have: LiveDomain): FieldChange[] {
  const out: FieldChange[] = [];
  const cmp = (path: string, before: PlanValue, after: PlanValue) => {
    if (before !== after) out.push({ path, before, after });
  };
  cmp("type", val(have.type), want.type);
  if (want.uuid !== undefined) cmp("uuid", val(have.uuid), want.uuid);
  if (want.domid !== undefined) cmp("domid", have.domid, want.domid);
  if (have.maxMemKb !== want.maxMemKb) {
    out.push({
      path: "maxmem",
      before: have.maxMemKb === undefined ? null : formatMemory(have.maxMemKb),
      after: formatMemory(want.maxMemKb),
    });
  }
  cmp("maxvcpus", have.vcpus, want.vcpus);
  cmp("kernel", val(have.kernel), val(want.kernel));
  cmp("ramdisk", val(have.ramdisk), val(want.ramdisk));
  cmp("cmdline", val(have.cmdline), val(want.cmdline));
  cmp("driverDomain", have.driverDomain, want.driverDomain);
  return out;
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

function diffDevices(
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

function removeAction(domain: LiveDomain, reason: string): PlanAction {
  const action: PlanAction = {
    kind: "remove",
    domain: domain.name ?? `(domid ${domain.domid})`,
    domid: domain.domid,
    devices: managedDevices(domain).map(liveLabel),
    changes: [],
  };
  action.reason = reason;
  return action;
}

function createAction(want: NormalizedDomain): PlanAction {
  return {
    kind: "create",
    domain: want.name,
    devices: want.devices.map(planDevice),
    changes: [],
  };
}

/**
 * Plans what applying `desired` to `live` does — a pure function. Per declared domain: create
 * it when no domain has its name; leave it (`noop`) when it is as declared; `update` in
 * place what libxl can change on a running domain (the memory target, the vCPUs online, an
 * HVM guest's cdrom media); `replace` when anything else differs (type, uuid, fixed domid, maxmem,
 * maxvcpus, kernel, ramdisk, cmdline, or a device key libxl cannot change, each listed);
 * create and remove devices. With `prune`, domains dxl created that the config does not
 * declare are removed; a removal an earlier apply left unfinished is always finished.
 * Domains dxl did not create are never touched: a declared name held by one is a
 * {@linkcode PlanConflictError}, and a `backend` domain that is neither declared nor on the
 * host is a {@linkcode ConfigValidationError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { plan } from "./plan.ts";
 * import { validateConfig } from "./validate.ts";
 * const config = validateConfig({ domains: [{ name: "web", memory: "512M" }] });
 * const p = plan(config, { domains: [] });
 * assert.deepEqual(p.actions.map((a) => [a.kind, a.domain]), [["create", "web"]]);
 * ```
 */
export function plan(desired: NormalizedConfig, live: LiveState, options: PlanOptions = {}): Plan {
  const prune = options.prune ?? false;
  const actions: PlanAction[] = [];
  const declared = new Set(desired.domains.map((d) => d.name));
  const issues: ConfigIssue[] = [];
  for (const d of live.domains) {
    if (d.managed && d.removing) {
      actions.push(removeAction(d, "an earlier apply removed it but did not finish cleaning up"));
    }
  }
  const current = (name: string) => live.domains.filter((d) => d.name === name && !d.removing);
  if (options.destroy ?? false) {
    for (const want of desired.domains) {
      for (const have of current(want.name)) {
        if (have.managed) actions.push(removeAction(have, "destroy"));
      }
    }
  } else {
    // Domains that will be (re)created in this plan: their devices' backends move.
    const recreated = new Set<string>();
    const matched = new Map<string, LiveDomain>();
    for (const want of desired.domains) {
      const holders = current(want.name);
      const unmanaged = holders.find((h) => !h.managed);
      if (unmanaged !== undefined) {
        throw new PlanConflictError(
          want.name,
          `${desired.script}: domain ${JSON.stringify(want.name)} (domid ${unmanaged.domid}) ` +
            "exists and was not created by dxl; dxl never touches it (rename one of them)",
        );
      }
      const have = holders[0];
      if (want.domid !== undefined) {
        const holder = live.domains.find((d) => d.domid === want.domid && d !== have);
        if (holder !== undefined) {
          throw new PlanConflictError(
            want.name,
            `${desired.script}: domain ${
              JSON.stringify(want.name)
            } asks for domid ${want.domid}, ` +
              `which ${JSON.stringify(holder.name ?? "")} holds`,
          );
        }
      }
      if (have === undefined || replaceChanges(want, have).length > 0) recreated.add(want.name);
      if (have !== undefined) matched.set(want.name, have);
    }
    for (const want of desired.domains) {
      for (const device of want.devices) {
        if (
          device.backend !== undefined && !declared.has(device.backend) &&
          resolveLive(live, device.backend) === undefined
        ) {
          issues.push({
            path: `domains[${JSON.stringify(want.name)}].${device.source}.backend`,
            message: `backend domain ${
              JSON.stringify(device.backend)
            } does not exist (neither on the host nor in the config)`,
          });
        }
      }
    }
    if (issues.length > 0) throw new ConfigValidationError(desired.script, issues);
    // Driver domains first, so the domains whose backends they run come after them.
    const order = [...desired.domains].sort((a, b) =>
      Number(b.driverDomain) - Number(a.driverDomain)
    );
    for (const want of order) {
      const have = matched.get(want.name);
      if (have === undefined) {
        actions.push(createAction(want));
        continue;
      }
      const forced = replaceChanges(want, have);
      if (forced.length > 0 && want.domid !== undefined && want.domid === have.domid) {
        throw new PlanConflictError(
          want.name,
          `${desired.script}: domain ${JSON.stringify(want.name)} must be replaced (${
            forced.map((c) => c.path).join(", ")
          } changed) but keeps its fixed domid ${want.domid}, which the new domain cannot ` +
            "have while the old one exists: destroy it first, then apply",
        );
      }
      if (forced.length > 0) {
        actions.push({
          kind: "replace",
          domain: want.name,
          domid: have.domid,
          devices: want.devices.map(planDevice),
          changes: forced,
          reason: "libxl cannot change these on a running domain",
        });
        continue;
      }
      const changes: FieldChange[] = [];
      if (have.targetMemKb !== want.targetMemKb) {
        changes.push({
          path: "memory",
          before: have.targetMemKb === undefined ? null : formatMemory(have.targetMemKb),
          after: formatMemory(want.targetMemKb),
        });
      }
      if (have.vcpusOnline !== want.vcpusOnline) {
        changes.push({ path: "vcpus", before: have.vcpusOnline, after: want.vcpusOnline });
      }
      const deviceActions = diffDevices(want, have, live, recreated);
      if (changes.length > 0) {
        actions.push({ kind: "update", domain: want.name, domid: have.domid, changes });
      }
      actions.push(...deviceActions);
      if (changes.length === 0 && deviceActions.length === 0) {
        actions.push({ kind: "noop", domain: want.name, domid: have.domid, changes: [] });
      }
    }
  }
  if (prune) {
    for (const d of live.domains) {
      if (d.managed && !d.removing && !declared.has(d.name ?? "")) {
        actions.push(removeAction(d, "prune: the config no longer declares it"));
      }
    }
  }
  return { config: desired, prune, destroy: options.destroy ?? false, actions };
}

/**
 * The actions that change something (everything but `noop`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planChanges } from "./plan.ts";
 * const none = planChanges({
 *   config: { script: "x", domains: [] },
 *   prune: false,
 *   destroy: false,
 *   actions: [],
 * });
 * assert.deepEqual(none, []);
 * ```
 */
export function planChanges(p: Plan): PlanAction[] {
  return p.actions.filter((a) => a.kind !== "noop");
}

/**
 * One line per action, as errors and logs name them: `create domain web`, `replace vbd xvda
 * of web`, `update domain web (memory 512M -> 1G)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarizeAction } from "./plan.ts";
 * assert.equal(summarizeAction({ kind: "create", domain: "web", changes: [] }), "create domain web");
 * ```
 */
export function summarizeAction(a: PlanAction): string {
  const what = a.device === undefined ? `domain ${a.domain}` : `${a.device.label} of ${a.domain}`;
  const changes = a.changes.length === 0
    ? ""
    : ` (${a.changes.map((c) => `${c.path} ${c.before ?? "-"} -> ${c.after ?? "-"}`).join(", ")})`;
  return `${a.kind} ${what}${changes}`;
}

/**
 * The plan as JSON text (stable key order as built; `config` included so a saved plan can be
 * applied).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planJson } from "./plan.ts";
 * const text = planJson({
 *   config: { script: "x", domains: [] },
 *   prune: false,
 *   destroy: false,
 *   actions: [],
 * });
 * assert.deepEqual(JSON.parse(text).actions, []);
 * ```
 */
export function planJson(p: Plan): string {
  return JSON.stringify(p, null, 2);
}
