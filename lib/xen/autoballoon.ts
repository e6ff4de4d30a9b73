/**
 * xl's autoballooning (xl.c `parse_global_config` / `auto_autoballoon`, xl_vmcontrol.c
 * `freemem`, Xen 4.17): before a domain is created, when the host has less free memory than
 * the domain needs, dom0's memory target is lowered by the difference (`libxl_set_memory_target`
 * relative, not enforced) and xl waits for dom0's balloon driver to give the memory back
 * (`libxl_wait_for_memory_target`, 10 s without progress), for at most 30 s in all. It is on
 * when xl.conf says `autoballoon="on"` (or 1), or says `auto` (the default) and Xen's command
 * line has no `dom0_mem=`.
 *
 * @module
 */

import { setMemoryTarget } from "../libxl/domain_resources.ts";
import type { LibxlStore } from "../libxl/store.ts";
import { inTransaction } from "../libxl/store.ts";
import { InsufficientMemoryError } from "./errors.ts";

/** xl's global config file. */
export const XL_CONF = "/etc/xen/xl.conf";

/**
 * The value of `key` in an xl.conf text (libxlutil's syntax: `key = "string"`, `'string'` or
 * a bare number, `#` comments, an optional `;`); the last assignment wins.
 */
function xlConfValue(text: string, key: string): string | undefined {
  let value: string | undefined;
  const re = new RegExp(`^\\s*${key}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s;#"']+))`);
  for (const line of text.split("\n")) {
    const m = re.exec(line);
    if (m !== null) value = m[1] ?? m[2] ?? m[3];
  }
  return value;
}

/** A size in Xen's `dom0_mem=` syntax (xl's SIZE_PATTERN). */
const SIZE = "-?[0-9]+[bBkKmMgGtT]?";
/** xl's `auto_autoballoon` pattern: a `dom0_mem=` option on Xen's command line. */
const DOM0_MEM = new RegExp(
  `(^| )dom0_mem=((|min:|max:)(${SIZE}|(${SIZE}\\+)?[0-9]{1,2}%),?)+($| )`,
);

/**
 * `auto_autoballoon`: on unless Xen's command line sets `dom0_mem` (on, too, when the command
 * line cannot be read).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { autoAutoballoon } from "./autoballoon.ts";
 * assert.equal(autoAutoballoon("placeholder"), true);
 * assert.equal(autoAutoballoon("console=com1 dom0_mem=4096M,max:4096M"), false);
 * assert.equal(autoAutoballoon(undefined), true);
 * ```
 */
export function autoAutoballoon(commandline: string | undefined): boolean {
  return commandline === undefined || !DOM0_MEM.test(commandline);
}

/** Options of {@linkcode autoballoonEnabled}. */
export interface AutoballoonOptions {
  /** xl's config file. @default {"/etc/xen/xl.conf"} */
  xlConf?: string;
  /** Xen's command line (`XENVER_commandline`), undefined when it cannot be read. */
  commandline: () => string | undefined;
}

/**
 * Whether xl would autoballoon: xl.conf's `autoballoon` (`on`/`1`, `off`/`0`, `auto`; a
 * file that cannot be read or an invalid value is `auto`), `auto` decided by {@linkcode autoAutoballoon}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { autoballoonEnabled } from "./autoballoon.ts";
 * const xlConf = await Deno.makeTempFile();
 * await Deno.writeTextFile(xlConf, '# global settings\nautoballoon="off"\n');
 * assert.equal(await autoballoonEnabled({ xlConf, commandline: () => "placeholder" }), false);
 * await Deno.writeTextFile(xlConf, "autoballoon = 'auto'\n");
 * assert.equal(await autoballoonEnabled({ xlConf, commandline: () => "dom0_mem=2G" }), false);
 * assert.equal(await autoballoonEnabled({ xlConf, commandline: () => "placeholder" }), true);
 * ```
 */
export async function autoballoonEnabled(options: AutoballoonOptions): Promise<boolean> {
  let text = "";
  try {
    text = await Deno.readTextFile(options.xlConf ?? XL_CONF);
  } catch {
    // xl warns that it cannot read its config file and goes on with the defaults
  }
  const value = xlConfValue(text, "autoballoon");
  if (value === "on" || value === "1") return true;
  if (value === "off" || value === "0") return false;
  return autoAutoballoon(options.commandline());
}

/** What {@linkcode freeMemory} asks the hypervisor. */
export interface BalloonHost {
  /** `libxl_get_free_memory`: (free + scrub pages) × 4 KiB. */
  freeKb(): number;
  /** dom0 as `libxl_domain_info` sees it: memory in KiB, and its handle. */
  dom0(): { currentKb: number; outstandingKb: number; maxKb: number; uuid: string };
}

/** Options of {@linkcode freeMemory}. */
export interface FreeMemoryOptions {
  /** Waits (xl sleeps 2 s between looks at dom0). @default {setTimeout} */
  delay?: (ms: number) => Promise<void>;
  /** The clock, in ms (xl's 30 s credit). @default {Date.now} */
  now?: () => number;
}

/** libxl__fill_dom0_memory_info: dom0's target and static-max from the hypervisor when missing. */
async function fillDom0MemoryInfo(store: LibxlStore, host: BalloonHost): Promise<void> {
  await inTransaction(store, async (tx) => {
    const [target, max] = await Promise.all([
      tx.tryRead("/local/domain/0/memory/target"),
      tx.tryRead("/local/domain/0/memory/static-max"),
    ]);
    if (target !== undefined && max !== undefined) return;
    const dom0 = host.dom0();
    if (target === undefined) {
      await tx.write("/local/domain/0/memory/target", String(dom0.currentKb));
    }
    if (max === undefined) await tx.write("/local/domain/0/memory/static-max", String(dom0.maxKb));
  });
}

/**
 * `libxl_wait_for_memory_target(0, 10)`: every 2 s compares dom0's memory (current +
 * outstanding) with its target; 10 s without progress, or growth, is a failure.
 */
async function waitForDom0Target(
  store: LibxlStore,
  host: BalloonHost,
  delay: (ms: number) => Promise<void>,
): Promise<string | undefined> {
  const target = Number(await store.read("/local/domain/0/memory/target"));
  let waitS = 10;
  let prev = Number.POSITIVE_INFINITY;
  let current: number;
  do {
    await delay(2000);
    const dom0 = host.dom0();
    current = dom0.currentKb + dom0.outstandingKb;
    if (current > prev) return `dom0's memory grew to ${current} KiB`;
    if (current === prev) waitS -= 2;
    prev = current;
  } while (waitS > 0 && current > target);
  return current <= target
    ? undefined
    : `dom0 did not get down to its target ${target} KiB (still ${current} KiB)`;
}

/**
 * xl's `freemem` for a domain needing `needKb` (`libxl_domain_need_memory`): returns once the
 * host has that much free; otherwise lowers dom0's target by what is missing (relative, so
 * `~/memory/target` and `/vm/<uuid>/memory`; dom0's target and static-max are filled in
 * first when xenstore lacks them, as libxl does), waits for dom0, and tries again while its
 * 30 s last. Rejects with {@linkcode InsufficientMemoryError} ("failed to free memory for the
 * domain") when it cannot.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { freeMemory } from "./autoballoon.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir, initDom0: true });
 * await using xs = await connect({ path: xsd.socket });
 * // a host with 1 GiB free; dom0 has 4 GiB and gives back what it is asked for
 * let dom0Kb = 4194304;
 * let freeKb = 1048576;
 * const host = {
 *   freeKb: () => freeKb,
 *   dom0: () => ({
 *     currentKb: dom0Kb,
 *     outstandingKb: 0,
 *     maxKb: 4194304,
 *     uuid: "00000000-0000-0000-0000-000000000000",
 *   }),
 * };
 * const delay = async () => {
 *   const target = Number(await xs.read("/local/domain/0/memory/target"));
 *   freeKb += dom0Kb - target;
 *   dom0Kb = target;
 * };
 * await freeMemory(xs, 1572864, host, { delay }); // needs 1.5 GiB: dom0 gives 512 MiB
 * assert.equal(await xs.read("/local/domain/0/memory/target"), String(4194304 - 524288));
 * assert.equal(freeKb, 1572864);
 * ```
 */
export async function freeMemory(
  store: LibxlStore,
  needKb: number,
  host: BalloonHost,
  options: FreeMemoryOptions = {},
): Promise<void> {
  const delay = options.delay ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;
  let creditS = 30;
  for (;;) {
    const freeKb = host.freeKb();
    if (freeKb >= needKb) return;
    const fail = (why: string, cause?: unknown) =>
      new InsufficientMemoryError(needKb, freeKb, why, cause === undefined ? {} : { cause });
    if (creditS <= 0) throw fail("no time left to wait for dom0 (30 s)");
    try {
      await fillDom0MemoryInfo(store, host);
      const vmUuid = host.dom0().uuid;
      await setMemoryTarget(store, 0, { targetKb: freeKb - needKb, relative: true, vmUuid });
    } catch (cause) {
      throw fail(`lowering dom0's memory target failed: ${(cause as Error).message}`, cause);
    }
    const start = Math.floor(now() / 1000);
    const problem = await waitForDom0Target(store, host, delay);
    if (problem !== undefined) throw fail(problem);
    creditS -= Math.floor(now() / 1000) - start; // difftime of two time() values
  }
}
