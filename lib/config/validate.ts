/**
 * Validation: a script's value → a {@linkcode NormalizedConfig}, or one
 * {@linkcode ConfigValidationError} listing every problem with its exact path.
 *
 * @module
 */

import { checkUuid, DOMID_FIRST_RESERVED } from "../libxl/paths.ts";
import { ConfigValidationError } from "./errors.ts";
import type { RawIssue, Segment } from "./_issues.ts";
import { describe, fromZod, render } from "./_issues.ts";
import { parseMemory } from "./memory.ts";
import type { NormalizedConfig, NormalizedDomain } from "./normalized.ts";
import {
  ConsoleSchema,
  DiskSchema,
  DomainSchema,
  NicSchema,
  P9Schema,
  PciSchema,
  VfbSchema,
  VkbdSchema,
  VtpmSchema,
  VusbSchema,
} from "./schema.ts";
import type { z } from "zod";
import { crossCheck } from "./_cross_check.ts";
import type { Domain } from "./_devices.ts";
import { normalizeDevices } from "./_devices.ts";

/** Options of {@linkcode validateConfig}. */
export interface ValidateOptions {
  /** The script's path, which every message starts with. @default {"config"} */
  script?: string;
}

/** libxl's default memory (`libxl__domain_build_info_setdefault`): 32 MiB. */
export const DEFAULT_MEMORY_KB = 32 * 1024;

/**
 * Checks a config value (what a script exported) and fills in every default. Throws
 * {@linkcode ConfigValidationError} listing all problems at once, each naming the script,
 * domain, device and field: `web.ts: domains["web"].disks[1].vdev: "xvd9" is not a valid
 * virtual disk`. Besides each field, it checks duplicate domain names, uuids and fixed
 * domids, disks of one domain naming the same device, MAC addresses used twice, device ids
 * used twice, and a `backend` naming the domain itself. (A backend domain that is neither in
 * the config nor on the host is reported by `plan`, which sees the host.)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateConfig } from "./validate.ts";
 * const config = validateConfig({ domains: [{ name: "web", memory: "512M" }] });
 * assert.equal(config.domains[0]?.targetMemKb, 524288);
 * assert.throws(
 *   () => validateConfig({ domains: [{ name: "web", disks: [{ target: "/dev/vg/web", vdev: "xvd9" }] }] }, { script: "web.ts" }),
 *   { message: 'web.ts: domains["web"].disks[0].vdev: "xvd9" is not a valid virtual disk' },
 * );
 * ```
 */
export function validateConfig(value: unknown, options: ValidateOptions = {}): NormalizedConfig {
  const script = options.script ?? "config";
  const raw: RawIssue[] = [];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigValidationError(script, [{
      path: "(config)",
      message: `expected an object with domains, got ${describe(value)}`,
    }]);
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== "domains") raw.push({ path: [key], message: "unknown field" });
  }
  const list = record.domains;
  if (!Array.isArray(list)) {
    raw.push({
      path: ["domains"],
      message: list === undefined ? "is required" : `expected an array, got ${describe(list)}`,
    });
    throw new ConfigValidationError(script, render(raw, []));
  }
  const names = domainNames(list);
  const domains = list.map((input, i) => {
    const parsed = parseDomain(input, ["domains", i], raw);
    return parsed === undefined ? undefined : normalizeDomain(parsed, ["domains", i], raw);
  });
  raw.push(...crossCheck(domains, names));
  if (raw.length > 0) throw new ConfigValidationError(script, render(raw, names));
  return { script, domains: domains as NormalizedDomain[] };
}

/** Each domain's name when it is a string no other domain has. */
/** The element schema of each list field of a domain (each element is checked on its own). */
const LISTS: Record<string, z.ZodType> = {
  disks: DiskSchema,
  nics: NicSchema,
  consoles: ConsoleSchema,
  vkbds: VkbdSchema,
  vfbs: VfbSchema,
  p9s: P9Schema,
  vtpms: VtpmSchema,
  vusbs: VusbSchema,
  pci: PciSchema,
};

/**
 * Checks a domain field by field (and each list element on its own), so one wrong field does
 * not hide the problems of the others. Elements that fail are left as holes, which the
 * device normalization skips.
 */
function parseDomain(input: unknown, at: Segment[], raw: RawIssue[]): Domain | undefined {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    raw.push({ path: at, message: `expected an object, got ${describe(input)}` });
    return undefined;
  }
  const record = input as Record<string, unknown>;
  const shape = DomainSchema.shape as Record<string, z.ZodType>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record)) {
    if (!(key in shape)) raw.push({ path: [...at, key], message: "unknown field" });
  }
  let ok = true;
  const check = (schema: z.ZodType, value: unknown, path: Segment[]): unknown => {
    const r = schema.safeParse(value, { reportInput: true });
    if (r.success) return r.data;
    raw.push(...r.error.issues.flatMap((issue) => fromZod(issue, path)));
    return undefined;
  };
  for (const [key, schema] of Object.entries(shape)) {
    const value = record[key];
    const element = LISTS[key];
    if (element !== undefined && Array.isArray(value)) {
      out[key] = value.map((e, i) => check(element, e, [...at, key, i]));
    } else {
      const before = raw.length;
      const v = check(schema, value, [...at, key]);
      if (raw.length > before) ok = key !== "name" && ok;
      if (v !== undefined) out[key] = v;
    }
  }
  return ok ? out as Domain : undefined;
}

function domainNames(list: unknown[]): (string | undefined)[] {
  const raw = list.map((d) =>
    typeof d === "object" && d !== null && typeof (d as { name?: unknown }).name === "string"
      ? (d as { name: string }).name
      : undefined
  );
  return raw.map((n) => n !== undefined && raw.indexOf(n) === raw.lastIndexOf(n) ? n : undefined);
}

function intIn(
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
  at: Segment[],
  raw: RawIssue[],
): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    raw.push({ path: at, message: `${v} is not an integer from ${min} to ${max}` });
  }
  return v;
}

function memory(
  value: number | string | undefined,
  at: Segment[],
  raw: RawIssue[],
): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseMemory(value);
  } catch (e) {
    raw.push({ path: at, message: (e as Error).message });
    return undefined;
  }
}

/** Fills in a domain's defaults; problems go to `raw` (the result is then only for cross-checks). */
function normalizeDomain(d: Domain, at: Segment[], raw: RawIssue[]): NormalizedDomain {
  if (d.name === "") raw.push({ path: [...at, "name"], message: "must not be empty" });
  else if (/^[0-9]+$/.test(d.name)) {
    raw.push({
      path: [...at, "name"],
      message: `${JSON.stringify(d.name)} is not a valid domain name: xl reads a number as a domid`,
    });
  } else if ([...d.name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    raw.push({
      path: [...at, "name"],
      message: `${JSON.stringify(d.name)} has control characters`,
    });
  }
  let uuid: string | undefined;
  if (d.uuid !== undefined) {
    try {
      uuid = checkUuid(d.uuid.toLowerCase());
    } catch {
      raw.push({
        path: [...at, "uuid"],
        message: `${JSON.stringify(d.uuid)} is not a uuid (8-4-4-4-12 hex digits)`,
      });
    }
  }
  const target = memory(d.memory, [...at, "memory"], raw);
  const max = memory(d.maxmem, [...at, "maxmem"], raw);
  const maxMemKb = max ?? target ?? DEFAULT_MEMORY_KB;
  const targetMemKb = target ?? maxMemKb;
  if (targetMemKb > maxMemKb) {
    raw.push({
      path: [...at, "memory"],
      message: `${describe(d.memory)} is more than maxmem ${describe(d.maxmem)}`,
    });
  }
  const vcpusOnline = intIn(d.vcpus, 1, 1, 4096, [...at, "vcpus"], raw);
  const vcpus = d.maxvcpus === undefined
    ? vcpusOnline
    : intIn(d.maxvcpus, 1, 1, 4096, [...at, "maxvcpus"], raw);
  if (vcpusOnline > vcpus) {
    raw.push({ path: [...at, "vcpus"], message: `${vcpusOnline} is more than maxvcpus ${vcpus}` });
  }
  if (d.domid !== undefined) intIn(d.domid, 1, 1, DOMID_FIRST_RESERVED - 1, [...at, "domid"], raw);
  if (d.backend !== undefined && d.backend === d.name) {
    raw.push({
      path: [...at, "backend"],
      message: `${JSON.stringify(d.backend)} is this domain itself`,
    });
  }
  const type = d.type ?? "pv";
  const devices = normalizeDevices(d, at, raw);
  const out: NormalizedDomain = {
    name: d.name,
    type,
    maxMemKb,
    targetMemKb,
    videoramKb: type === "hvm" ? 8 * 1024 : 0,
    vcpus,
    vcpusOnline,
    driverDomain: d.driverDomain ?? false,
    devices,
  };
  if (uuid !== undefined) out.uuid = uuid;
  if (d.kernel !== undefined) out.kernel = d.kernel;
  if (d.ramdisk !== undefined) out.ramdisk = d.ramdisk;
  if (d.cmdline !== undefined) out.cmdline = d.cmdline;
  if (d.domid !== undefined) out.domid = d.domid;
  return out;
}
