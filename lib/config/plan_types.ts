/**
 * The plan's types: plain JSON values, so the CLI can print a plan and save it as JSON.
 *
 * @module
 */

import type { DeviceKind } from "../libxl/device_kind.ts";
import type { NormalizedConfig } from "./normalized.ts";

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
