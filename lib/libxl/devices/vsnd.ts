/**
 * Virtual sound cards (`libxl_vsnd.c` `libxl__set_xenstore_vsnd`): every key is a frontend key.
 *
 * @module
 */

import type { DeviceBaseOptions, DeviceSpec } from "../device.ts";
import { makeDeviceSpec } from "../device.ts";
import { DeviceConfigError } from "../errors.ts";
import { base, choice, devidOf, int, nonEmpty, object, optText } from "./_fields.ts";

/**
 * PCM sample formats (`libxl_vsnd_pcm_format`, lower-cased as libxl writes them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VSND_PCM_FORMATS } from "./vsnd.ts";
 * assert.equal(VSND_PCM_FORMATS.includes("s16_le"), true);
 * ```
 */
export const VSND_PCM_FORMATS = [
  "s8",
  "u8",
  "s16_le",
  "s16_be",
  "u16_le",
  "u16_be",
  "s24_le",
  "s24_be",
  "u24_le",
  "u24_be",
  "s32_le",
  "s32_be",
  "u32_le",
  "u32_be",
  "float_le",
  "float_be",
  "float64_le",
  "float64_be",
  "iec958_subframe_le",
  "iec958_subframe_be",
  "mu_law",
  "a_law",
  "ima_adpcm",
  "mpeg",
  "gsm",
] as const;

/** Stream and card parameters; each is written only when set. */
export interface VsndParams {
  /** `sample-rates`, comma-joined. */
  sampleRates?: number[];
  /** `sample-formats`, comma-joined. */
  sampleFormats?: (typeof VSND_PCM_FORMATS)[number][];
  /** `channels-min`. */
  channelsMin?: number;
  /** `channels-max`. */
  channelsMax?: number;
  /** `buffer-size`. */
  bufferSize?: number;
}

/** One stream of a PCM device. */
export interface VsndStream {
  /** `unique-id`. */
  uniqueId: string;
  /** `p` (playback) or `c` (capture). */
  type: "p" | "c";
  /** Stream parameters. */
  params?: VsndParams;
}

/** One PCM device. */
export interface VsndPcm {
  /** `name`. */
  name?: string;
  /** PCM parameters. */
  params?: VsndParams;
  /** Its streams. */
  streams: VsndStream[];
}

/** Options of {@linkcode vsnd}. */
export interface VsndOptions extends DeviceBaseOptions {
  /** The device id. */
  devid: number;
  /** `long-name`. */
  longName?: string;
  /** `short-name`. */
  shortName?: string;
  /** Card parameters. */
  params?: VsndParams;
  /** PCM devices `0/`, `1/`, ... */
  pcms: VsndPcm[];
}

function params(field: string, value: unknown, prefix: string, out: [string, string][]): void {
  if (value === undefined) return;
  const p = object("vsnd", value);
  if (p.sampleRates !== undefined) {
    if (!Array.isArray(p.sampleRates) || p.sampleRates.length === 0) {
      throw new DeviceConfigError("vsnd", `${field}.sampleRates`, "expected a non-empty array");
    }
    const rates = p.sampleRates.map((r: unknown, i: number) =>
      int("vsnd", `${field}.sampleRates[${i}]`, r, { min: 1, max: 0xffffffff })
    );
    out.push([`${prefix}sample-rates`, rates.join(",")]);
  }
  if (p.sampleFormats !== undefined) {
    if (!Array.isArray(p.sampleFormats) || p.sampleFormats.length === 0) {
      throw new DeviceConfigError("vsnd", `${field}.sampleFormats`, "expected a non-empty array");
    }
    const formats = p.sampleFormats.map((f: unknown, i: number) =>
      choice("vsnd", `${field}.sampleFormats[${i}]`, f, VSND_PCM_FORMATS, "s16_le")
    );
    out.push([`${prefix}sample-formats`, formats.join(",")]);
  }
  const n = { min: 1, max: 0xffffffff };
  if (p.channelsMin !== undefined) {
    out.push([
      `${prefix}channels-min`,
      String(int("vsnd", `${field}.channelsMin`, p.channelsMin, n)),
    ]);
  }
  if (p.channelsMax !== undefined) {
    out.push([
      `${prefix}channels-max`,
      String(int("vsnd", `${field}.channelsMax`, p.channelsMax, n)),
    ]);
  }
  if (p.bufferSize !== undefined) {
    out.push([`${prefix}buffer-size`, String(int("vsnd", `${field}.bufferSize`, p.bufferSize, n))]);
  }
}

/**
 * A virtual sound card; the whole description is guest-owned frontend keys.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vsnd } from "./vsnd.ts";
 * const s = vsnd({ domid: 1, devid: 0, shortName: "card", pcms: [{ streams: [{ uniqueId: "s0", type: "p" }] }] });
 * assert.equal(s.front.map(([k]) => k).slice(2).join(","), "short-name,0/0/unique-id,0/0/type");
 * ```
 */
export function vsnd(options: VsndOptions): DeviceSpec {
  const { o, domid, backendDomid } = base("vsnd", options);
  const devid = devidOf("vsnd", o);
  const front: [string, string][] = [];
  const longName = optText("vsnd", "longName", o.longName);
  if (longName !== undefined) front.push(["long-name", longName]);
  const shortName = optText("vsnd", "shortName", o.shortName);
  if (shortName !== undefined) front.push(["short-name", shortName]);
  params("params", o.params, "", front);
  if (!Array.isArray(o.pcms) || o.pcms.length === 0) {
    throw new DeviceConfigError("vsnd", "pcms", "expected a non-empty array");
  }
  o.pcms.forEach((raw: unknown, i: number) => {
    const pcm = object("vsnd", raw);
    const name = optText("vsnd", `pcms[${i}].name`, pcm.name);
    if (name !== undefined) front.push([`${i}/name`, name]);
    params(`pcms[${i}].params`, pcm.params, `${i}/`, front);
    if (!Array.isArray(pcm.streams) || pcm.streams.length === 0) {
      throw new DeviceConfigError("vsnd", `pcms[${i}].streams`, "expected a non-empty array");
    }
    pcm.streams.forEach((rawStream: unknown, j: number) => {
      const s = object("vsnd", rawStream);
      const field = `pcms[${i}].streams[${j}]`;
      front.push([`${i}/${j}/unique-id`, nonEmpty("vsnd", `${field}.uniqueId`, s.uniqueId)]);
      if (s.type === undefined) {
        throw new DeviceConfigError("vsnd", `${field}.type`, 'expected "p" or "c"');
      }
      front.push([
        `${i}/${j}/type`,
        choice("vsnd", `${field}.type`, s.type, ["p", "c"] as const, "p"),
      ]);
      params(`${field}.params`, s.params, `${i}/${j}/`, front);
    });
  });
  return makeDeviceSpec({ domid, kind: "vsnd", devid, backendDomid, backendKind: "vsnd", front });
}
