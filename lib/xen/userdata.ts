/**
 * libxl's per-domain userdata files: the domain config `xl` reads back
 * (`/var/lib/xen/userdata-d.<domid>.<uuid>.libxl-json`), written, updated and deleted under
 * libxl's lock (`libxl__lock_domain_userdata`).
 *
 * @module
 */

import { checkDomid, checkUuid } from "../libxl/paths.ts";
import { lockFile } from "./_lock_file.ts";
import { DomainUserdataError } from "./errors.ts";
import type { LibxlDomainConfig } from "./libxl_config.ts";

/** libxl's `XEN_LIB_DIR`. */
export const XEN_LIB_DIR = "/var/lib/xen";

/** The userid of the domain config (`libxl_domain_config` as JSON). */
export const DOMAIN_CONFIG_USERID = "libxl-json";

/** A domain as its userdata files name it. */
export interface UserdataDomain {
  /** Its id. */
  domid: number;
  /** Its uuid (the hypervisor's handle). */
  uuid: string;
}

/** Options shared by the userdata functions. */
export interface UserdataOptions {
  /** The directory (libxl's `XEN_LIB_DIR`). @default {"/var/lib/xen"} */
  dir?: string;
  /**
   * Asked once the lock is held, as libxl asks the hypervisor: false means the domain is
   * gone, and the operation is refused (libxl then gives up on the lock).
   * @default {always true}
   */
  domainExists?: (domid: number) => boolean | Promise<boolean>;
}

/** Options of {@linkcode userdataPath}. */
export interface UserdataPathOptions {
  /** The directory. @default {"/var/lib/xen"} */
  dir?: string;
  /** The userid. @default {"libxl-json", or "domain-userdata-lock" for the lock} */
  userid?: string;
}

/**
 * `libxl__userdata_path`: `<dir>/userdata-<wh>.<domid>.<uuid>.<userid>` (`wh` is `d` for
 * data, `n` for a file being written, `l` for a lock).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { userdataPath } from "./userdata.ts";
 * const dom = { domid: 1, uuid: "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b" };
 * assert.equal(
 *   userdataPath(dom, "d"),
 *   "/var/lib/xen/userdata-d.1.6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b.libxl-json",
 * );
 * ```
 */
export function userdataPath(
  domain: UserdataDomain,
  wh: "d" | "n" | "l",
  options: UserdataPathOptions = {},
): string {
  checkDomid(domain.domid);
  checkUuid(domain.uuid);
  const userid = options.userid ?? (wh === "l" ? "domain-userdata-lock" : DOMAIN_CONFIG_USERID);
  return `${options.dir ?? XEN_LIB_DIR}/userdata-${wh}.${domain.domid}.${domain.uuid}.${userid}`;
}

/**
 * Runs `fn` holding libxl's userdata lock of the domain (`libxl__lock_file`): open the lock
 * file (create, 0666), `flock(LOCK_EX)`, and keep it only if the path still names the
 * locked file (same device and inode), else retry; released by unlinking the file, then
 * closing it — so `xl` and dxl never update the config at the same time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { userdataPath, withUserdataLock } from "./userdata.ts";
 * const dir = await Deno.makeTempDir();
 * const dom = { domid: 1, uuid: "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b" };
 * const held = await withUserdataLock(dom, async () => {
 *   return (await Deno.stat(userdataPath(dom, "l", { dir }))).isFile;
 * }, { dir });
 * assert.equal(held, true);
 * await assert.rejects(Deno.stat(userdataPath(dom, "l", { dir })), Deno.errors.NotFound);
 * ```
 */
export async function withUserdataLock<T>(
  domain: UserdataDomain,
  fn: () => Promise<T>,
  options: UserdataOptions = {},
): Promise<T> {
  const path = userdataPath(domain, "l", options.dir === undefined ? {} : { dir: options.dir });
  const lock = await lockFile(
    path,
    (cause) =>
      new DomainUserdataError(path, `cannot open the lock file: ${cause.message}`, { cause }),
  );
  try {
    if (!(await (options.domainExists?.(domain.domid) ?? true))) {
      throw new DomainUserdataError(path, `domain ${domain.domid} no longer exists`);
    }
    return await fn();
  } finally {
    await lock.release();
  }
}

/** Reads the domain config file; undefined when there is none (libxl: `ERROR_JSON_CONFIG_EMPTY`). */
async function readConfig(path: string): Promise<LibxlDomainConfig | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new DomainUserdataError(path, (error as Error).message, { cause: error });
  }
  text = text.replace(/\0+$/, ""); // libxl stores the JSON with its terminating NUL
  if (text === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new DomainUserdataError(path, `not JSON: ${(cause as Error).message}`, { cause });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new DomainUserdataError(path, "not a libxl_domain_config object");
  }
  const config = value as Partial<LibxlDomainConfig>;
  if (typeof config.c_info !== "object" || typeof config.b_info !== "object") {
    throw new DomainUserdataError(path, "no c_info / b_info: not a libxl_domain_config");
  }
  return value as LibxlDomainConfig;
}

/** `libxl__userdata_store`: write `userdata-n…` (0600), then rename it over `userdata-d…`. */
async function storeConfig(
  domain: UserdataDomain,
  config: LibxlDomainConfig,
  dir: string | undefined,
): Promise<void> {
  const at = dir === undefined ? {} : { dir };
  const final = userdataPath(domain, "d", at);
  const temp = userdataPath(domain, "n", at);
  // 4-space indentation like libxl's yajl generator, and its terminating NUL
  const bytes = new TextEncoder().encode(`${JSON.stringify(config, null, 4)}\n\0`);
  try {
    await Deno.writeFile(temp, bytes, { mode: 0o600 });
    await Deno.rename(temp, final);
  } catch (cause) {
    await Deno.remove(temp).catch(() => {});
    throw new DomainUserdataError(final, `cannot write: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Reads the domain's config file (under the lock); undefined when there is none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readDomainConfig } from "./userdata.ts";
 * const dir = await Deno.makeTempDir();
 * const dom = { domid: 4, uuid: "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b" };
 * assert.equal(await readDomainConfig(dom, { dir }), undefined);
 * ```
 */
export function readDomainConfig(
  domain: UserdataDomain,
  options: UserdataOptions = {},
): Promise<LibxlDomainConfig | undefined> {
  const at = options.dir === undefined ? {} : { dir: options.dir };
  return withUserdataLock(domain, () => readConfig(userdataPath(domain, "d", at)), options);
}

/**
 * Writes the domain's config file (under the lock), as `xl create` does once the domain
 * exists.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { domainConfig } from "./libxl_config.ts";
 * import { readDomainConfig, writeDomainConfig } from "./userdata.ts";
 * const dir = await Deno.makeTempDir();
 * const uuid = "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
 * const dom = { domid: 1, uuid };
 * await writeDomainConfig(dom, domainConfig({ uuid, name: "web", maxMemKb: 262144 }), { dir });
 * assert.equal((await readDomainConfig(dom, { dir }))?.c_info.name, "web");
 * ```
 */
export function writeDomainConfig(
  domain: UserdataDomain,
  config: LibxlDomainConfig,
  options: UserdataOptions = {},
): Promise<void> {
  return withUserdataLock(domain, () => storeConfig(domain, config, options.dir), options);
}

/**
 * Read-modify-write of the domain's config file under one hold of the lock (device add and
 * remove, rename, memory target). A domain without a config file (not made by libxl or dxl)
 * is left without one: `update` is not called and the result is undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { domainConfig, withName } from "./libxl_config.ts";
 * import { updateDomainConfig, writeDomainConfig } from "./userdata.ts";
 * const dir = await Deno.makeTempDir();
 * const uuid = "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
 * await writeDomainConfig({ domid: 1, uuid }, domainConfig({ uuid, name: "a", maxMemKb: 1024 }), { dir });
 * const next = await updateDomainConfig({ domid: 1, uuid }, (c) => withName(c, "b"), { dir });
 * assert.equal(next?.c_info.name, "b");
 * assert.equal(await updateDomainConfig({ domid: 2, uuid }, (c) => c, { dir }), undefined);
 * ```
 */
export function updateDomainConfig(
  domain: UserdataDomain,
  update: (config: LibxlDomainConfig) => LibxlDomainConfig,
  options: UserdataOptions = {},
): Promise<LibxlDomainConfig | undefined> {
  const at = options.dir === undefined ? {} : { dir: options.dir };
  return withUserdataLock(domain, async () => {
    const current = await readConfig(userdataPath(domain, "d", at));
    if (current === undefined) return undefined;
    const next = update(current);
    await storeConfig(domain, next, options.dir);
    return next;
  }, options);
}

/**
 * `libxl__userdata_destroyall`: removes every userdata file of the domain
 * (`userdata-?.<domid>.<uuid>.*`) except the lock, under the lock; returns the paths
 * removed. Run when the domain is destroyed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { domainConfig } from "./libxl_config.ts";
 * import { deleteDomainUserdata, writeDomainConfig } from "./userdata.ts";
 * const dir = await Deno.makeTempDir();
 * const uuid = "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
 * await writeDomainConfig({ domid: 1, uuid }, domainConfig({ uuid, maxMemKb: 1024 }), { dir });
 * assert.equal((await deleteDomainUserdata({ domid: 1, uuid }, { dir })).length, 1);
 * assert.deepEqual([...Deno.readDirSync(dir)], []);
 * ```
 */
export function deleteDomainUserdata(
  domain: UserdataDomain,
  options: Omit<UserdataOptions, "domainExists"> = {},
): Promise<string[]> {
  const dir = options.dir ?? XEN_LIB_DIR;
  const prefix = `.${domain.domid}.${domain.uuid}.`;
  return withUserdataLock(domain, async () => {
    const removed: string[] = [];
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return removed;
      throw error;
    }
    for (const entry of entries) {
      const m = /^userdata-.(\..*)$/.exec(entry.name);
      if (m === null || !(m[1] ?? "").startsWith(prefix)) continue;
      if (entry.name.includes("domain-userdata-lock")) continue;
      await Deno.remove(`${dir}/${entry.name}`);
      removed.push(`${dir}/${entry.name}`);
    }
    return removed;
  }, { dir });
}
