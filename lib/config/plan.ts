/**
 * The plan: a pure diff of a validated config against the live state, as a plain value the
 * CLI prints (like `terraform plan`) or serialises (`planJson`).
 *
 * @module
 */

import { ConfigValidationError, PlanConflictError } from "./errors.ts";
import type { ConfigIssue } from "./errors.ts";
import type { LiveDomain, LiveState } from "./live.ts";
import { formatMemory } from "./memory.ts";
import type { NormalizedConfig, NormalizedDomain } from "./normalized.ts";
import type { FieldChange, Plan, PlanAction, PlanOptions, PlanValue } from "./plan_types.ts";
import {
  diffDevices,
  liveLabel,
  managedDevices,
  planDevice,
  resolveLive,
  val,
} from "./_plan_devices.ts";

export type {
  ActionKind,
  FieldChange,
  Plan,
  PlanAction,
  PlanDevice,
  PlanOptions,
  PlanValue,
} from "./plan_types.ts";

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
