/**
 * A plan as `terraform plan` shows one: a line per action with its sign (`+` create, `~`
 * update, `-/+` replace, `-` remove), the fields that change (`before -> after`), the devices
 * a new or removed domain brings, and a summary line. Colours only on a colour terminal.
 *
 * @module
 */

import {
  formatMemory,
  type Plan,
  type PlanAction,
  planChanges,
  type PlanDevice,
} from "../config/mod.ts";
import type { NormalizedDomain } from "../config/mod.ts";
import { paint, type Style } from "./output.ts";

const SIGN: Record<PlanAction["kind"], { sign: string; style: Style; verb: string }> = {
  create: { sign: "+", style: "green", verb: "create" },
  update: { sign: "~", style: "yellow", verb: "update" },
  replace: { sign: "-/+", style: "magenta", verb: "replace" },
  remove: { sign: "-", style: "red", verb: "remove" },
  noop: { sign: " ", style: "dim", verb: "keep" },
};

function value(v: string | number | boolean | null): string {
  return v === null ? "(none)" : typeof v === "string" ? JSON.stringify(v) : String(v);
}

function deviceName(device: PlanDevice): string {
  const name = device.label.startsWith(`${device.kind} `)
    ? device.label
    : `${device.kind} ${device.label}`;
  return device.backend === undefined ? name : `${name} (backend ${device.backend})`;
}

function domainFacts(domain: NormalizedDomain | undefined): string[] {
  if (domain === undefined) return [];
  const facts = [
    `type ${domain.type}`,
    `memory ${formatMemory(domain.targetMemKb)}`,
    `vcpus ${domain.vcpus}`,
  ];
  if (domain.maxMemKb !== domain.targetMemKb) facts.push(`maxmem ${formatMemory(domain.maxMemKb)}`);
  return [facts.join(", ")];
}

/** Options of {@linkcode renderPlan}. */
export interface RenderPlanOptions {
  /** Show `noop` domains as "keep". @default {false} */
  showNoop?: boolean;
  /** What the plan is for, in the "no changes" line. @default {"the script"} */
  subject?: string;
}

/**
 * The text of a plan (lines ending in newlines).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { plan, validateConfig } from "../config/mod.ts";
 * import { renderPlan } from "./_plan_view.ts";
 * const p = plan(validateConfig({ domains: [{ name: "web", memory: "512M", nics: [{}] }] }), {
 *   domains: [],
 * });
 * assert.equal(
 *   renderPlan(p),
 *   "  + create domain web\n" +
 *     "      type pv, memory 512M, vcpus 1\n" +
 *     "      + vif 0\n" +
 *     "\nPlan: 1 to create, 0 to update, 0 to replace, 0 to remove.\n",
 * );
 * ```
 */
export function renderPlan(plan: Plan, options: RenderPlanOptions = {}): string {
  const lines: string[] = [];
  const counts = { create: 0, update: 0, replace: 0, remove: 0, noop: 0 };
  for (const action of plan.actions) {
    counts[action.kind]++;
    if (action.kind === "noop" && !options.showNoop) continue;
    const { sign, style, verb } = SIGN[action.kind];
    const what = action.device === undefined
      ? `domain ${action.domain}${action.domid === undefined ? "" : ` (domid ${action.domid})`}`
      : `${deviceName(action.device)} of ${action.domain}`;
    lines.push(`  ${paint(style, `${sign} ${verb}`)} ${what}`);
    if (action.reason !== undefined && action.reason !== "destroy") {
      lines.push(`      ${paint("dim", `because ${action.reason}`)}`);
    }
    if (action.device === undefined && (action.kind === "create" || action.kind === "replace")) {
      for (const fact of domainFacts(plan.config.domains.find((d) => d.name === action.domain))) {
        lines.push(`      ${fact}`);
      }
    }
    for (const change of action.changes) {
      lines.push(
        `      ${change.path}: ${paint("red", value(change.before))} -> ${
          paint("green", value(change.after))
        }`,
      );
    }
    if (action.device === undefined) {
      const deviceSign = action.kind === "remove" ? "-" : "+";
      const deviceStyle: Style = action.kind === "remove" ? "red" : "green";
      for (const device of action.devices ?? []) {
        lines.push(`      ${paint(deviceStyle, deviceSign)} ${deviceName(device)}`);
      }
    }
  }
  if (planChanges(plan).length === 0) {
    lines.push(
      `No changes: the live domains match ${options.subject ?? "the script"}.`,
    );
    return lines.join("\n") + "\n";
  }
  lines.push("");
  lines.push(
    `Plan: ${counts.create} to create, ${counts.update} to update, ${counts.replace} to ` +
      `replace, ${counts.remove} to remove.`,
  );
  return lines.join("\n") + "\n";
}
