/**
 * Virtual-disk names (`xvda`, `hdb3`, `sdc`, `d0p1`, `51712`) and their device ids, as
 * `libxl__device_disk_dev_number` encodes them.
 *
 * @module
 */

/** A decoded virtual-disk name. */
export interface DiskNumber {
  /** The device id written to `virtual-device` and used as the devid. */
  devid: number;
  /** The disk index (`a` = 0), or `undefined` for a plain integer name. */
  disk: number | undefined;
  /** The partition (0 = whole disk), or `undefined` for a plain integer name. */
  partition: number | undefined;
}

function letters(
  name: string,
  prefix: string,
  maxDisk: number,
  maxPart: number,
): [number, number] | undefined {
  if (!name.startsWith(prefix)) return undefined;
  let i = prefix.length;
  let disk = -1;
  while (i < name.length) {
    const c = name.charCodeAt(i);
    if (c < 97 || c > 122) break;
    disk = (disk + 1) * 26 + (c - 97);
    if (disk > maxDisk) return undefined;
    i++;
  }
  if (disk < 0) return undefined;
  const rest = name.slice(i);
  if (rest === "") return [disk, 0];
  if (!/^[1-9][0-9]*$/.test(rest)) return undefined;
  const part = Number(rest);
  if (part > maxPart) return undefined;
  return [disk, part];
}

function xvd(disk: number, partition: number): number {
  return disk <= 15 && partition <= 15
    ? (202 << 8) | (disk << 4) | partition
    : (1 << 28) | (disk << 8) | partition;
}

/**
 * Decodes a virtual-disk name, or returns `undefined` if it is not one libxl accepts:
 * `xvd<letters>[<part>]` (up to 2^20 disks, 255 partitions; the extended encoding past
 * `xvdp`/partition 15), `d<disk>p<part>`, `hd` (4 disks, 63 partitions), `sd` (16 disks, 15
 * partitions) and plain integers (decimal, `0x` hex or leading-`0` octal, up to 2^31-1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDiskName } from "./vdev.ts";
 * assert.equal(parseDiskName("xvda")?.devid, 51712);
 * assert.equal(parseDiskName("hdc")?.devid, 5632);
 * ```
 */
export function parseDiskName(name: string): DiskNumber | undefined {
  if (typeof name !== "string") return undefined;
  const dp = /^d([0-9]+)p([0-9]+)$/.exec(name);
  if (dp !== null) {
    const disk = Number(dp[1]);
    const partition = Number(dp[2]);
    if (disk < (1 << 20) && partition < 256) {
      return { devid: xvd(disk, partition), disk, partition };
    }
  }
  const x = letters(name, "xvd", (1 << 20) - 1, 255);
  if (x !== undefined) return { devid: xvd(x[0], x[1]), disk: x[0], partition: x[1] };
  const int = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(name);
  if (int !== null) {
    const text = name;
    const value = /^0[xX]/.test(text)
      ? parseInt(text.slice(2), 16)
      : text.length > 1 && text.startsWith("0")
      ? parseInt(text.slice(1), 8)
      : Number(text);
    if (value <= 0x7fffffff) return { devid: value, disk: undefined, partition: undefined };
    return undefined;
  }
  const hd = letters(name, "hd", 3, 63);
  if (hd !== undefined) {
    const [disk, partition] = hd;
    const major = disk < 2 ? 3 : 22;
    return { devid: (major << 8) | ((disk & 1) << 6) | partition, disk, partition };
  }
  const sd = letters(name, "sd", 15, 15);
  if (sd !== undefined) {
    const [disk, partition] = sd;
    return { devid: (8 << 8) | (disk << 4) | partition, disk, partition };
  }
  return undefined;
}

/**
 * The devid for a virtual-disk name; throws `TypeError` naming the accepted forms otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { diskNameToDevid } from "./vdev.ts";
 * assert.equal(diskNameToDevid("xvdb"), 51728);
 * ```
 */
export function diskNameToDevid(name: string): number {
  const parsed = parseDiskName(name);
  if (parsed === undefined) {
    throw new TypeError(
      `${JSON.stringify(name)} is not a virtual disk name: expected xvd<letters>[<partition>], ` +
        "hd<a-d>[<partition>], sd<a-p>[<partition>], d<disk>p<partition> or an integer",
    );
  }
  return parsed.devid;
}

function diskLetters(disk: number): string {
  let out = "";
  let n = disk + 1;
  while (n > 0) {
    n--;
    out = String.fromCharCode(97 + (n % 26)) + out;
    n = Math.floor(n / 26);
  }
  return out;
}

/**
 * The name for a devid (the inverse of {@linkcode diskNameToDevid} for `xvd`, `hd` and `sd`
 * encodings); `undefined` when the number is not one of those encodings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { devidToDiskName } from "./vdev.ts";
 * assert.equal(devidToDiskName(51712), "xvda");
 * assert.equal(devidToDiskName(268442113), "xvdaa1"); // (1 << 28) | (26 << 8) | 1
 * ```
 */
export function devidToDiskName(devid: number): string | undefined {
  if (!Number.isInteger(devid) || devid < 0) return undefined;
  const part = (p: number) => (p === 0 ? "" : String(p));
  if (devid & (1 << 28)) {
    const disk = (devid >> 8) & 0xfffff;
    const partition = devid & 0xff;
    if (devid >= 1 << 29 || (disk <= 15 && partition <= 15)) return undefined;
    return `xvd${diskLetters(disk)}${part(partition)}`;
  }
  const major = devid >> 8;
  const minor = devid & 0xff;
  if (major === 202) return `xvd${diskLetters(minor >> 4)}${part(minor & 15)}`;
  if (major === 8) return `sd${diskLetters(minor >> 4)}${part(minor & 15)}`;
  if (major === 3 || major === 22) {
    const disk = (major === 3 ? 0 : 2) + (minor >> 6);
    return `hd${diskLetters(disk)}${part(minor & 63)}`;
  }
  return undefined;
}
