/**
 * dxl's declarative layer: domain scripts (TypeScript configs evaluated with only the
 * permissions granted), validation with exact messages, a pure plan against the live
 * `/libxl` registry, and apply in one xenstore transaction.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineConfig, plan, validateConfig } from "./mod.ts";
 * const site = defineConfig({ domains: [{ name: "web", memory: "512M", nics: [{}] }] });
 * const p = plan(validateConfig(site), { domains: [] });
 * assert.deepEqual(p.actions.map((a) => `${a.kind} ${a.domain}`), ["create web"]);
 * ```
 *
 * @module
 */

export { defineConfig } from "./define.ts";
export type { ConfigExport } from "./define.ts";
export { configJsonSchema } from "./schema.ts";
export type {
  Config,
  ConsoleConfig,
  DiskConfig,
  DiskObjectConfig,
  DomainConfig,
  Memory,
  NicConfig,
  P9Config,
  PciConfig,
  VfbConfig,
  VkbdConfig,
  VtpmConfig,
  VusbConfig,
} from "./types.ts";
export { formatMemory, parseMemory } from "./memory.ts";
export { DEFAULT_MEMORY_KB, validateConfig } from "./validate.ts";
export type { ValidateOptions } from "./validate.ts";
export { buildDevice } from "./normalized.ts";
export type {
  BuildContext,
  DeviceBase,
  DeviceOptions,
  NicOptions,
  NormalizedConfig,
  NormalizedDevice,
  NormalizedDomain,
} from "./normalized.ts";
export { dxlMarkPath, readLive } from "./live.ts";
export type { LiveDevice, LiveDomain, LiveState } from "./live.ts";
export { plan, planChanges, planJson, summarizeAction } from "./plan.ts";
export type {
  ActionKind,
  FieldChange,
  Plan,
  PlanAction,
  PlanDevice,
  PlanOptions,
  PlanValue,
} from "./plan.ts";
export { apply, destroy } from "./apply.ts";
export type { ApplyEvent, ApplyOptions, ApplyResult, DestroyOptions } from "./apply.ts";
export { evaluateScript } from "./evaluate.ts";
export type { EvaluateOptions } from "./evaluate.ts";
export { loadConfig } from "./load.ts";
export {
  ApplyConflictError,
  ConfigValidationError,
  DeviceWaitTimeoutError,
  PlanConflictError,
  ScriptError,
  ScriptFailedError,
  ScriptMemoryError,
  ScriptOutputError,
  ScriptPermissionError,
  ScriptTimeoutError,
  StalePlanError,
} from "./errors.ts";
export type { ConfigIssue, ScriptPermission, UnsettledDevice } from "./errors.ts";
