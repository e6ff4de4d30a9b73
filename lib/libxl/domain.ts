/**
 * Domain records: what `libxl__domain_make` and the xenstore part of `libxl__build_post`
 * write, renaming with the uniqueness check inside the transaction, listing and lookup.
 *
 * @module
 */

import type { Transaction, XenstoreOps } from "../client/types.ts";
import { addDevice } from "./device_add.ts";
import { pvConsole } from "./devices/console.ts";
import { text } from "./devices/_fields.ts";
import { DeviceConfigError, DomainNameInUseError, DomainRenameConflictError } from "./errors.ts";
import type { CreatedDomain, DomainBuildRequest } from "./hypervisor.ts";
import type { DomainPlan, MakeDomainOptions } from "./_domain_options.ts";
import { checkDomainOptions } from "./_domain_options.ts";

export type { DomainType, MakeDomainOptions } from "./_domain_options.ts";
import { checkDomid, checkUuid, domainPath, libxlDomainPath, vmPath } from "./paths.ts";
import { noperm, roperm, rwperm } from "./perms.ts";
import type { LibxlStore, Target, TransactionalOptions } from "./store.ts";
import { inTransaction, listIfPresent, pipelined, rmIfPresent } from "./store.ts";
import type { Permission } from "../protocol/perms.ts";

/** A domain made by {@linkcode makeDomain}. */
export interface DomainInfo {
  /** Its id. */
  domid: number;
  /** Its name. */
  name: string;
  /** Its uuid. */
  uuid: string;
}

/** The domain that holds `name` other than `except`, read through `ops` (inside its tx). */
async function nameHolder(
  ops: XenstoreOps,
  name: string,
  except: number,
): Promise<number | undefined> {
  const ids = (await listIfPresent(ops, "/local/domain"))
    .filter((entry) => /^(0|[1-9][0-9]*)$/.test(entry) && Number(entry) !== except);
  const names = await Promise.all(ids.map((id) => ops.tryRead(`/local/domain/${id}/name`)));
  const i = names.indexOf(name);
  return i < 0 ? undefined : Number(ids[i]);
}

async function writeName(tx: Transaction, domid: number, uuid: string, name: string) {
  const holder = await nameHolder(tx, name, domid);
  if (holder !== undefined) throw new DomainNameInUseError(name, holder);
  await tx.write(`${domainPath(domid)}/name`, name);
  await tx.write(`${vmPath(uuid)}/name`, name);
}

function startTime(ms: number): string {
  const centis = Math.floor(ms / 10);
  return `${Math.floor(centis / 100)}.${String(centis % 100).padStart(2, "0")}`;
}

/**
 * Creates a domain's xenstore records as `xl create` does: one transaction for
 * `libxl__domain_make` (`~`, `/vm/<uuid>`, `/libxl/<domid>` with libxl's noperm / roperm /
 * rwperm layout, the name checked for uniqueness inside it), `dm-version`, one transaction
 * for the build (`memory/`, `domid`, `store/`, `cpu/`, `/vm/<uuid>/image`, `start_time`),
 * INTRODUCE, and the primary console. If any step fails, what was written is removed and
 * the hypervisor destroys the domain again. Driver domains get `~/libxl` and
 * `~/device-model`, `xsdata` and `platformdata` are written where libxl writes them, and an
 * HVM guest gets `~/hvmloader`, `feature-s3`/`-s4` and `/vm/<uuid>/rtc/timeoffset`.
 *
 * Not done (nothing in dxl needs them yet): stub domains (`<name>-dm` and its records),
 * HVM's `hvmloader/generation-id-address` (it comes from the domain build), and the
 * `SET_FEATURE` / `SET_QUOTA` requests around INTRODUCE (libxl sends them only when a feature
 * mask or quota is configured).
 *
 * @example
 * ```ts ignore
 * import { makeDomain } from "./domain.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 * const dom = await makeDomain(xs, { hypervisor: new SimulatedHypervisor(xs), name: "web", maxMemKb: 262144 });
 * ```
 */
export async function makeDomain(
  store: LibxlStore,
  options: MakeDomainOptions,
): Promise<DomainInfo> {
  const o = checkDomainOptions(options);
  const tx: TransactionalOptions = {};
  if (options.attempts !== undefined) tx.attempts = options.attempts;
  if (options.signal !== undefined) tx.signal = options.signal;
  const request: DomainBuildRequest = {
    uuid: o.uuid,
    name: o.name,
    type: o.type,
    maxMemKb: o.maxMemKb,
    targetMemKb: o.targetMemKb,
    vcpus: o.vcpus,
  };
  if (options.domid !== undefined) request.domid = options.domid;
  if (o.kernel !== undefined) request.kernel = o.kernel;
  if (o.ramdisk !== undefined) request.ramdisk = o.ramdisk;
  if (o.cmdline !== undefined) request.cmdline = o.cmdline;
  const created: CreatedDomain = await options.hypervisor.createDomain(request);
  try {
    await writeDomain(store, created, o, options, tx);
  } catch (error) {
    const domid = created.domid;
    for (const path of [vmPath(o.uuid), domainPath(domid), libxlDomainPath(domid)]) {
      await rmIfPresent(store, path).catch(() => {});
    }
    await options.hypervisor.destroyDomain(domid).catch(() => {});
    throw error;
  }
  return { domid: created.domid, name: o.name, uuid: o.uuid };
}

async function writeDomain(
  store: LibxlStore,
  created: CreatedDomain,
  o: DomainPlan,
  options: MakeDomainOptions,
  tx: TransactionalOptions,
): Promise<void> {
  const domid = created.domid;
  const home = domainPath(domid);
  const vm = vmPath(o.uuid);
  const libxl = libxlDomainPath(domid);
  await inTransaction(store, async (t) => {
    const holder = await nameHolder(t, o.name, domid);
    if (holder !== undefined) throw new DomainNameInUseError(o.name, holder);
    await pipelined((send) => {
      const mknod = (path: string, perms: Permission[]) => {
        send(t.write(path, ""));
        send(t.setPerms(path, perms));
      };
      send(rmIfPresent(t, home));
      mknod(home, roperm(domid));
      send(rmIfPresent(t, vm));
      mknod(vm, roperm(domid));
      send(rmIfPresent(t, libxl));
      mknod(libxl, noperm());
      mknod(`${libxl}/device`, noperm());
      send(t.write(`${home}/vm`, vm));
      send(t.write(`${home}/name`, o.name));
      send(t.write(`${vm}/name`, o.name));
      mknod(`${home}/cpu`, roperm(domid));
      mknod(`${home}/memory`, roperm(domid));
      mknod(`${home}/device`, roperm(domid));
      mknod(`${home}/device/suspend/event-channel`, rwperm(domid));
      mknod(`${home}/control`, roperm(domid));
      if (o.type === "hvm") mknod(`${home}/hvmloader`, roperm(domid));
      const control = ["shutdown", "feature-poweroff", "feature-reboot", "feature-suspend"];
      if (o.type === "hvm") control.push("feature-s3", "feature-s4");
      control.push("sysrq");
      for (const key of control) mknod(`${home}/control/${key}`, rwperm(domid));
      for (const dir of ["data", "drivers", "feature", "attr", "error"]) {
        mknod(`${home}/${dir}`, rwperm(domid));
      }
      if (o.driverDomain) {
        mknod(`${home}/libxl`, rwperm(domid));
        mknod(`${home}/device-model`, rwperm(domid));
      }
      send(t.write(`${vm}/uuid`, o.uuid));
      send(t.write(`${vm}/name`, o.name));
      for (const [key, value] of o.xsdata) send(t.write(`${home}/${key}`, value));
      for (const [key, value] of o.platformdata) send(t.write(`${home}/platform/${key}`, value));
      send(t.write(`${home}/control/platform-feature-multiprocessor-suspend`, "1"));
      send(t.write(`${home}/control/platform-feature-xs_reset_watches`, "1"));
      send(t.write(`${libxl}/type`, o.type));
    });
  }, tx);
  await store.write(`${libxl}/dm-version`, "qemu_xen");
  await inTransaction(store, (t) =>
    pipelined((send) => {
      send(t.write(`${home}/memory/static-max`, String(o.maxMemKb)));
      send(t.write(`${home}/memory/target`, String(o.targetMemKb)));
      send(t.write(`${home}/memory/videoram`, String(o.videoramKb)));
      send(t.write(`${home}/domid`, String(domid)));
      send(t.write(`${home}/store/port`, String(created.store.port)));
      send(t.write(`${home}/store/ring-ref`, String(created.store.gfn)));
      for (let i = 0; i < o.vcpus; i++) {
        send(t.write(`${home}/cpu/${i}/availability`, i < o.online ? "online" : "offline"));
      }
      if (o.type === "hvm") {
        send(t.write(`${vm}/rtc/timeoffset`, o.timeoffset));
        send(t.write(`${vm}/image/ostype`, "hvm"));
      } else {
        send(t.write(`${vm}/image/ostype`, "linux"));
        if (o.kernel !== undefined) send(t.write(`${vm}/image/kernel`, o.kernel));
        if (o.ramdisk !== undefined) send(t.write(`${vm}/image/ramdisk`, o.ramdisk));
        if (o.cmdline !== undefined) send(t.write(`${vm}/image/cmdline`, o.cmdline));
      }
      send(t.write(`${vm}/start_time`, startTime((options.now ?? Date.now)())));
    }), tx);
  await options.hypervisor.introduceDomain(created);
  await store.write(`${libxl}/dm-version`, "qemu_xen");
  if (options.console ?? true) {
    await addDevice(
      store,
      pvConsole({ domid, port: created.console.port, ringRef: created.console.gfn }),
      { ...tx, checkExists: false },
    );
  }
}

/** Options of {@linkcode renameDomain}. */
export interface RenameDomainOptions extends TransactionalOptions {
  /** The new name; must be unique. */
  name: string;
  /** Rename only if the current name is this (libxl's `old_name`). */
  expectedName?: string;
}

/**
 * Renames a domain: `~/name` and `/vm/<uuid>/name`, in one transaction (the caller's or its
 * own) that also checks that no other domain has the new name — inside the transaction, so
 * two concurrent renames to one name cannot both succeed. The uuid comes from `~/vm` (libxl
 * asks the hypervisor): `~/vm` is written by the toolstack and read-only to the guest, and it
 * is used only when it is exactly `/vm/<uuid>`; a domain without one cannot be renamed.
 *
 * @example
 * ```ts ignore
 * import { renameDomain } from "./domain.ts";
 * await renameDomain(xs, 3, { name: "db", expectedName: "web" });
 * ```
 */
export function renameDomain(
  target: Target,
  domid: number,
  options: RenameDomainOptions,
): Promise<void> {
  checkDomid(domid);
  const newName = text("domain", "name", options.name);
  if (newName === "") throw new DeviceConfigError("domain", "name", "must not be empty");
  return inTransaction(target, async (tx) => {
    const current = await tx.tryRead(`${domainPath(domid)}/name`);
    if (options.expectedName !== undefined && current !== options.expectedName) {
      throw new DomainRenameConflictError(domid, options.expectedName, current);
    }
    const uuid = await readDomainUuid(tx, domid);
    if (uuid === undefined) throw new DomainRenameConflictError(domid, current ?? "", undefined);
    await writeName(tx, domid, uuid, newName);
  }, options);
}

/**
 * The uuid from a domain's `~/vm` pointer when it is exactly `/vm/<uuid>`, else `undefined`.
 *
 * @example
 * ```ts ignore
 * import { readDomainUuid } from "./domain.ts";
 * console.log(await readDomainUuid(xs, 1));
 * ```
 */
export async function readDomainUuid(ops: XenstoreOps, domid: number): Promise<string | undefined> {
  const vm = await ops.tryRead(`${domainPath(domid)}/vm`);
  const m = vm === undefined ? null : /^\/vm\/([0-9a-f-]{36})$/.exec(vm);
  if (m === null) return undefined;
  try {
    return checkUuid(m[1]!);
  } catch {
    return undefined;
  }
}

/** A domain as {@linkcode listDomains} reports it. */
export interface DomainSummary {
  /** Its id. */
  domid: number;
  /** `~/name`, if any. */
  name: string | undefined;
  /** The uuid from `~/vm`, if well formed. */
  uuid: string | undefined;
  /** `/libxl/<domid>/type`. */
  type: string | undefined;
}

/**
 * The domains the toolstack made (those with a `/libxl/<domid>` record), with their names,
 * in id order, read in one transaction.
 *
 * @example
 * ```ts ignore
 * import { listDomains } from "./domain.ts";
 * for (const d of await listDomains(xs)) console.log(d.domid, d.name);
 * ```
 */
export function listDomains(
  target: Target,
  options: TransactionalOptions = {},
): Promise<DomainSummary[]> {
  return inTransaction(target, async (tx) => {
    const ids = (await listIfPresent(tx, "/libxl"))
      .filter((e) => /^(0|[1-9][0-9]*)$/.test(e) && Number(e) <= 0x7fef)
      .map(Number)
      .sort((a, b) => a - b);
    return await Promise.all(ids.map(async (domid): Promise<DomainSummary> => {
      const [name, uuid, type] = await Promise.all([
        tx.tryRead(`${domainPath(domid)}/name`),
        readDomainUuid(tx, domid),
        tx.tryRead(`${libxlDomainPath(domid)}/type`),
      ]);
      return { domid, name, uuid, type };
    }));
  }, options);
}

/**
 * The id of the toolstack-made domain called `name`, or `undefined`.
 *
 * @example
 * ```ts ignore
 * import { findDomain } from "./domain.ts";
 * console.log(await findDomain(xs, "web"));
 * ```
 */
export async function findDomain(
  target: Target,
  name: string,
  options: TransactionalOptions = {},
): Promise<number | undefined> {
  return (await listDomains(target, options)).find((d) => d.name === name)?.domid;
}
