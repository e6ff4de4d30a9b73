/**
 * Memory sizes as a config writes them.
 *
 * @module
 */

const UNITS: Record<string, number> = { k: 1, m: 1024, g: 1024 ** 2, t: 1024 ** 3 };

/**
 * A memory size in KiB: a plain number is KiB (libxl's `*_memkb`), a string is a whole number
 * with a binary unit `K`, `M`, `G` or `T` (`"512M"`, `"2G"`; lower case too, an optional
 * trailing `B`/`iB`). Throws `RangeError` quoting the value for anything else or a size that
 * is zero or not a whole number of KiB.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMemory } from "./memory.ts";
 * assert.equal(parseMemory("512M"), 524288);
 * assert.equal(parseMemory("2G"), 2097152);
 * assert.equal(parseMemory(262144), 262144);
 * assert.throws(() => parseMemory("lots"), /"lots" is not a memory size/);
 * ```
 */
export function parseMemory(value: number | string): number {
  if (typeof value === "number") {
    if (Number.isSafeInteger(value) && value > 0) return value;
    throw new RangeError(
      `${value} is not a memory size: a number is KiB and must be a whole number > 0`,
    );
  }
  const m = /^([0-9]+)\s*([kKmMgGtT])(i?[bB])?$/.exec(value);
  if (m === null) {
    throw new RangeError(
      `${JSON.stringify(value)} is not a memory size: expected KiB as a number, or a whole ` +
        'number with K, M, G or T ("512M", "2G")',
    );
  }
  const kb = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  if (!Number.isSafeInteger(kb) || kb <= 0) {
    throw new RangeError(`${JSON.stringify(value)} is not a memory size: it must be > 0`);
  }
  return kb;
}

/**
 * A KiB amount the way a person reads it (`524288` → `"512M"`), for plans.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatMemory } from "./memory.ts";
 * assert.equal(formatMemory(524288), "512M");
 * assert.equal(formatMemory(1000), "1000K");
 * ```
 */
export function formatMemory(kb: number): string {
  for (const [unit, size] of [["T", 1024 ** 3], ["G", 1024 ** 2], ["M", 1024]] as const) {
    if (kb % size === 0) return `${kb / size}${unit}`;
  }
  return `${kb}K`;
}
