/**
 * libxl's record of recently destroyed domain ids (`/var/run/xen/domid-history`,
 * libxl_domain.c `libxl__mark_domid_recent` / `libxl__is_domid_recent`, Xen 4.17): a
 * destroy appends `<CLOCK_MONOTONIC seconds> <domid>` under the history's lock file, and a
 * create refuses a domid destroyed less than 60 seconds ago (`LIBXL_DOMID_REUSE_TIMEOUT`), so
 * tools still holding the old domid cannot act on a new domain. `xl` and dxl share the file.
 *
 * @module
 */

import { lockFile } from "./_lock_file.ts";
import { DomidHistoryError } from "./errors.ts";

/** libxl's `LIBXL_RUN_DIR` (`libxl__run_dir_path`). */
export const XEN_RUN_DIR = "/var/run/xen";

/** libxl's `LIBXL_DOMID_REUSE_TIMEOUT`, in seconds. */
export const DOMID_REUSE_TIMEOUT_S = 60;

/** The first reserved domid (`DOMID_FIRST_RESERVED`). */
const DOMID_FIRST_RESERVED = 0x7ff0;

/** Options of the domid-history functions. */
export interface DomidHistoryOptions {
  /** The directory of `domid-history` (libxl's run dir). @default {"/var/run/xen"} */
  dir?: string;
  /**
   * How long a destroyed domid stays recent, in seconds (libxl reads the
   * `LIBXL_DOMID_REUSE_TIMEOUT` environment variable).
   * @default {60}
   */
  timeoutS?: number;
}

function historyPath(options: DomidHistoryOptions, suffix = ""): string {
  return `${options.dir ?? XEN_RUN_DIR}/domid-history${suffix}`;
}

/**
 * The entries `libxl__read_recent` keeps: `(seconds, domid)` pairs of a guest domid (1 to
 * 0x7fef) no older than the timeout at `nowS` (an entry from the future is dropped, as
 * libxl's unsigned difference drops it). Reading stops at the first token that is not a
 * number (libxl's `fscanf` would loop there forever).
 */
async function readRecent(
  nowS: number,
  options: DomidHistoryOptions,
): Promise<{ sec: number; domid: number }[]> {
  const path = historyPath(options);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (cause) {
    if (cause instanceof Deno.errors.NotFound) return [];
    throw new DomidHistoryError(path, `cannot read it: ${(cause as Error).message}`, { cause });
  }
  const timeout = options.timeoutS ?? DOMID_REUSE_TIMEOUT_S;
  const tokens = text.split(/\s+/).filter((t) => t !== "");
  const out: { sec: number; domid: number }[] = [];
  for (let i = 0; i + 1 < tokens.length; i += 2) {
    if (!/^\d+$/.test(tokens[i] as string) || !/^\d+$/.test(tokens[i + 1] as string)) break;
    const sec = Number(tokens[i]);
    const domid = Number(tokens[i + 1]);
    const guest = domid > 0 && domid < DOMID_FIRST_RESERVED;
    if (guest && sec <= nowS && nowS - sec <= timeout) out.push({ sec, domid });
  }
  return out;
}

/**
 * `libxl__is_domid_recent`: whether `domid` was destroyed within the timeout before `nowS`
 * (`CLOCK_MONOTONIC` seconds, as libxl stamps the entries). No lock, as in libxl.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isDomidRecent, markDomidRecent } from "./domid_history.ts";
 * const dir = await Deno.makeTempDir();
 * await markDomidRecent(5, 1000, { dir });
 * assert.equal(await isDomidRecent(5, 1030, { dir }), true);
 * assert.equal(await isDomidRecent(5, 1061, { dir }), false); // past 60 s
 * assert.equal(await isDomidRecent(6, 1030, { dir }), false);
 * ```
 */
export async function isDomidRecent(
  domid: number,
  nowS: number,
  options: DomidHistoryOptions = {},
): Promise<boolean> {
  return (await readRecent(nowS, options)).some((e) => e.domid === domid);
}

/**
 * `libxl__mark_domid_recent`: under the history's lock (`domid-history.lock`), appends the
 * entries still recent at `nowS` and then `nowS domid` to `domid-history.new` (opened for
 * appending, as libxl does) and renames it over `domid-history`. libxl does this right before
 * `xc_domain_destroy`, and does not destroy when it fails.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { markDomidRecent } from "./domid_history.ts";
 * const dir = await Deno.makeTempDir();
 * await markDomidRecent(3, 100, { dir });
 * await markDomidRecent(4, 170, { dir }); // 3 is 70 s old by now: dropped
 * assert.equal(await Deno.readTextFile(`${dir}/domid-history`), "170 4\n");
 * ```
 */
export async function markDomidRecent(
  domid: number,
  nowS: number,
  options: DomidHistoryOptions = {},
): Promise<void> {
  const path = historyPath(options);
  const lock = await lockFile(
    historyPath(options, ".lock"),
    (cause) =>
      new DomidHistoryError(path, `cannot open its lock file: ${cause.message}`, { cause }),
  );
  try {
    const kept = await readRecent(nowS, options);
    const lines = [...kept, { sec: nowS, domid }].map((e) => `${e.sec} ${e.domid}\n`).join("");
    const next = historyPath(options, ".new");
    try {
      await Deno.writeTextFile(next, lines, { append: true });
      await Deno.rename(next, path);
    } catch (cause) {
      throw new DomidHistoryError(path, `cannot update it: ${(cause as Error).message}`, {
        cause,
      });
    }
  } finally {
    await lock.release();
  }
}
