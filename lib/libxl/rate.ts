/**
 * A nic's rate limit in xl's syntax (`10Mb/s`, `1MB/s@20ms`), parsed as `xlu_vif_parse_rate`
 * (`tools/libs/util/libxlu_vif.c`, Xen 4.17) parses it into libxl's two `libxl_device_nic`
 * fields, which `libxl__set_xenstore_nic` writes as the backend's `rate` key.
 *
 * @module
 */

import { RateSpecError } from "./errors.ts";

/** A rate as libxl holds it (`rate_bytes_per_interval`, `rate_interval_usecs`). */
export interface NicRate {
  /** Bytes allowed per interval (may be 0: xl rounds down). */
  bytesPerInterval: number;
  /** The replenishment interval in microseconds (1..2^32-1). */
  intervalUsecs: number;
}

const UINT32_MAX = 0xffffffffn;
const UINT64_MAX = 0xffffffffffffffffn;

/**
 * C's `strtoull(text, &end, 0)` on a string that starts with a digit (the regexes guarantee
 * it): a leading `0` means octal, so `010` is 8 and `019` stops after `01`.
 */
function strtoull0(text: string): { value: bigint; end: number } {
  const m = text.startsWith("0") ? /^0[0-7]*/.exec(text)! : /^[0-9]+/.exec(text)!;
  const digits = m[0];
  const value = digits.startsWith("0") && digits.length > 1
    ? BigInt(`0o${digits.slice(1)}`)
    : BigInt(digits);
  return { value, end: digits.length };
}

/**
 * Parses a nic rate as xl does: `<n>[G|M|K](B|b)/s` (bytes or bits per second; numbers as
 * C's `strtoull` base 0, so a leading `0` is octal), optionally `@<n>[m|u][s]` (the
 * replenishment interval: seconds, `ms` or `us`; default 50ms). Bytes per interval =
 * bytes/s × interval / 10^6, rounded down. Errors are {@linkcode RateSpecError}s with xl's
 * words (`no rate specified`, `invalid rate`, `rate overflow`, `invalid replenishment
 * interval`, `replenishment interval overflow`) naming the bad part.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRate, parseRate } from "./rate.ts";
 * assert.deepEqual(parseRate("10Mb/s"), { bytesPerInterval: 62500, intervalUsecs: 50000 });
 * assert.equal(formatRate(parseRate("1MB/s@20ms")), "20000,20000");
 * ```
 */
export function parseRate(rate: string): NicRate {
  if (typeof rate !== "string") throw new RateSpecError(String(rate), String(rate), "not a string");
  const at = rate.indexOf("@");
  const bytes = at < 0 ? rate : rate.slice(0, at);
  const interval = at < 0 ? undefined : rate.slice(at + 1);
  if (bytes === "") throw new RateSpecError(rate, rate, "no rate specified");

  // vif_parse_rate_bytes_per_sec
  if (!/^[0-9]+[GMK]?[Bb]\/s$/.test(bytes)) throw new RateSpecError(rate, bytes, "invalid rate");
  const b = strtoull0(bytes);
  let perSec = b.value;
  if (perSec === 0n || perSec > UINT32_MAX) throw new RateSpecError(rate, bytes, "rate overflow");
  const unit = bytes[b.end];
  if (unit === "G") perSec *= 1_000_000_000n;
  else if (unit === "M") perSec *= 1_000_000n;
  else if (unit === "K") perSec *= 1_000n;
  if (unit === "b" || bytes[b.end + 1] === "b") perSec /= 8n;

  // vif_parse_rate_interval_usecs
  let usecs = 50_000n;
  if (interval !== undefined) {
    if (!/^[0-9]+[mu]?s?$/.test(interval)) {
      throw new RateSpecError(rate, interval, "invalid replenishment interval");
    }
    const i = strtoull0(interval);
    usecs = i.value;
    if (usecs === 0n || usecs > UINT32_MAX) {
      throw new RateSpecError(rate, interval, "replenishment interval overflow");
    }
    const suffix = interval[i.end];
    if (suffix === "s" || suffix === undefined) usecs *= 1_000_000n;
    else if (suffix === "m") usecs *= 1_000n;
    if (usecs > UINT32_MAX) {
      throw new RateSpecError(rate, interval, "replenishment interval overflow");
    }
  }
  if (perSec > UINT64_MAX / usecs) throw new RateSpecError(rate, rate, "rate overflow");
  return {
    bytesPerInterval: Number((perSec * usecs) / 1_000_000n),
    intervalUsecs: Number(usecs),
  };
}

/**
 * The backend `rate` value libxl writes for a rate (`"%"PRIu64",%"PRIu32`: bytes per
 * interval, interval in microseconds).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRate } from "./rate.ts";
 * assert.equal(formatRate({ bytesPerInterval: 62500, intervalUsecs: 50000 }), "62500,50000");
 * ```
 */
export function formatRate(rate: NicRate): string {
  return `${rate.bytesPerInterval},${rate.intervalUsecs}`;
}
