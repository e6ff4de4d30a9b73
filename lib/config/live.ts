/**
 * The live state a plan is made against, read from xenstore: every domain's name, and for
 * the domains dxl created (marked under the toolstack-only `/libxl/<domid>/dxl`) their
 * settings and devices — devices only from the `/libxl` registry, never from frontends, which
 * the guest owns (XSA-175).
 *
 * @module
 */

import type { DeviceKind } from "../libxl/device_kind.ts";
import { listDevices } from "../libxl/device_list.ts";
import { readDomainUuid } from "../libxl/domain.ts";
import { domainPath, DOMID_FIRST_RESERVED, libxlDomainPath, vmPath } from "../libxl/paths.ts";
import type { Target, TransactionalOptions } from "../libxl/store.ts";
import { inTransaction, listIfPresent } from "../libxl/store.ts";
import type { Transaction } from "../client/types.ts";

/** Where dxl marks a domain as its own: `/libxl/<domid>/dxl` (dom0-only, like all `/libxl`). */
export function dxlMarkPath(domid: number): string {
  return `${libxlDomainPath(domid)}/dxl`;
}

/** A device as its `/libxl` record describes it. */
export interface LiveDevice {
  /** The frontend kind. */
  kind: DeviceKind;
  /** The device id. */
  devid: number;
  /** The backend's domain. */
  backendDomid: number;
  /** The backend kind (`vbd`, `qdisk`, ...). */
  backendKind: DeviceKind;
  /** The record's keys (libxl's copy of the backend keys). */
  keys: Record<string, string>;
}

/** One domain on the host. */
export interface LiveDomain {
  /** Its id. */
  domid: number;
  /** `~/name` (toolstack-written, read-only to the guest), if any. */
  name?: string;
  /** dxl created it (`/libxl/<domid>/dxl/managed`); only such domains are ever changed. */
  managed: boolean;
  /** An apply removed it but did not finish cleaning up (`/libxl/<domid>/dxl/removing`). */
  removing: boolean;
  /** The uuid from `~/vm`. */
  uuid?: string;
  /** `/libxl/<domid>/type`. */
  type?: string;
  /** `~/memory/static-max`. */
  maxMemKb?: number;
  /** `~/memory/target`. */
  targetMemKb?: number;
  /** How many `~/cpu/<i>` there are. */
  vcpus: number;
  /** How many of them are `online`. */
  vcpusOnline: number;
  /** `/vm/<uuid>/image/kernel`. */
  kernel?: string;
  /** `/vm/<uuid>/image/ramdisk`. */
  ramdisk?: string;
  /** `/vm/<uuid>/image/cmdline`. */
  cmdline?: string;
  /** `/libxl/<domid>/dxl/driver-domain` is `1`. */
  driverDomain: boolean;
  /** The devices of a managed domain, from `/libxl` (empty for others). */
  devices: LiveDevice[];
}

/** The host as a plan sees it. */
export interface LiveState {
  /** Every domain (from `/local/domain` and `/libxl`), in id order. */
  domains: LiveDomain[];
}

const ID = /^(0|[1-9][0-9]{0,4})$/;

function num(text: string | undefined): number | undefined {
  return text !== undefined && /^[0-9]+$/.test(text) ? Number(text) : undefined;
}

async function readDomain(tx: Transaction, domid: number): Promise<LiveDomain> {
  const home = domainPath(domid);
  const mark = dxlMarkPath(domid);
  const [name, managed, removing, driver] = await Promise.all([
    tx.tryRead(`${home}/name`),
    tx.tryRead(`${mark}/managed`),
    tx.tryRead(`${mark}/removing`),
    tx.tryRead(`${mark}/driver-domain`),
  ]);
  const domain: LiveDomain = {
    domid,
    managed: managed === "1",
    removing: removing === "1",
    vcpus: 0,
    vcpusOnline: 0,
    driverDomain: driver === "1",
    devices: [],
  };
  if (name !== undefined) domain.name = name;
  if (!domain.managed) return domain;
  const [uuid, type, max, target, cpus, devices] = await Promise.all([
    readDomainUuid(tx, domid),
    tx.tryRead(`${libxlDomainPath(domid)}/type`),
    tx.tryRead(`${home}/memory/static-max`),
    tx.tryRead(`${home}/memory/target`),
    listIfPresent(tx, `${home}/cpu`),
    listDevices(tx, domid),
  ]);
  if (uuid !== undefined) domain.uuid = uuid;
  if (type !== undefined) domain.type = type;
  const maxKb = num(max);
  const targetKb = num(target);
  if (maxKb !== undefined) domain.maxMemKb = maxKb;
  if (targetKb !== undefined) domain.targetMemKb = targetKb;
  const ids = cpus.filter((c) => /^(0|[1-9][0-9]*)$/.test(c));
  const avail = await Promise.all(ids.map((c) => tx.tryRead(`${home}/cpu/${c}/availability`)));
  domain.vcpus = ids.length;
  domain.vcpusOnline = avail.filter((a) => a === "online").length;
  if (uuid !== undefined) {
    const image = `${vmPath(uuid)}/image`;
    const [kernel, ramdisk, cmdline] = await Promise.all(
      ["kernel", "ramdisk", "cmdline"].map((k) => tx.tryRead(`${image}/${k}`)),
    );
    if (kernel !== undefined) domain.kernel = kernel;
    if (ramdisk !== undefined) domain.ramdisk = ramdisk;
    if (cmdline !== undefined) domain.cmdline = cmdline;
  }
  domain.devices = devices.map((d) => ({
    kind: d.kind,
    devid: d.devid,
    backendDomid: d.backendDomid,
    backendKind: d.backendKind,
    keys: d.keys,
  }));
  return domain;
}

/**
 * Reads the live state in one transaction (the caller's, or its own): every domain id under
 * `/local/domain` or `/libxl`, each one's `~/name`, and for the domains dxl manages their
 * uuid, type, memory, vCPUs, kernel/ramdisk/cmdline and the devices recorded under
 * `/libxl/<domid>/device`. Nothing a guest can write is read: `~/name`, `~/memory`, `~/cpu`
 * and `/vm/<uuid>` are the toolstack's and read-only to the guest, and devices come from
 * `/libxl`, which the guest cannot even read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, startXenstored } from "../../mod.ts";
 * import { readLive } from "./live.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * await xs.write("/local/domain/7/name", "other");
 * const live = await readLive(xs);
 * assert.deepEqual(live.domains.map((d) => [d.domid, d.name, d.managed]), [[7, "other", false]]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function readLive(target: Target, options: TransactionalOptions = {}): Promise<LiveState> {
  return inTransaction(target, async (tx) => {
    const [local, libxl] = await Promise.all([
      listIfPresent(tx, "/local/domain"),
      listIfPresent(tx, "/libxl"),
    ]);
    const ids = [...new Set([...local, ...libxl])]
      .filter((e) => ID.test(e) && Number(e) < DOMID_FIRST_RESERVED)
      .map(Number)
      .sort((a, b) => a - b);
    return { domains: await Promise.all(ids.map((domid) => readDomain(tx, domid))) };
  }, options);
}
