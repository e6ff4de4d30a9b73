/**
 * Domain records after creation: renaming with the uniqueness check inside the transaction,
 * listing and lookup. Creation itself is in `domain_create.ts` (re-exported here).
 *
 * @module
 */

import type { Transaction, XenstoreOps } from "../client/types.ts";
import { text } from "./devices/_fields.ts";
import { DeviceConfigError, DomainNameInUseError, DomainRenameConflictError } from "./errors.ts";
import { nameHolder } from "./_domain_names.ts";
import { checkDomid, checkUuid, domainPath, libxlDomainPath, vmPath } from "./paths.ts";
import type { Target, TransactionalOptions } from "./store.ts";
import { inTransaction, listIfPresent } from "./store.ts";

export { creationOrder, makeDomain, writeNewDomain } from "./domain_create.ts";
export type { DomainInfo, MakeDomainOptions, NewDomainOptions } from "./domain_create.ts";
export type { DomainType } from "./hypervisor.ts";

async function writeName(tx: Transaction, domid: number, uuid: string, name: string) {
  const holder = await nameHolder(tx, name, domid);
  if (holder !== undefined) throw new DomainNameInUseError(name, holder);
  await tx.write(`${domainPath(domid)}/name`, name);
  await tx.write(`${vmPath(uuid)}/name`, name);
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
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 * import { makeDomain } from "./domain_create.ts";
 * import { renameDomain } from "./domain.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536 });
 * await renameDomain(xs, domid, { name: "db", expectedName: "web" });
 * assert.equal(await xs.read(`/local/domain/${domid}/name`), "db");
 * await Deno.remove(dir, { recursive: true });
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
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 * import { makeDomain } from "./domain_create.ts";
 * import { readDomainUuid } from "./domain.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const dom = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536 });
 * assert.equal(await readDomainUuid(xs, dom.domid), dom.uuid);
 * await Deno.remove(dir, { recursive: true });
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
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 * import { makeDomain } from "./domain_create.ts";
 * import { listDomains } from "./domain.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536 });
 * const [only] = await listDomains(xs);
 * assert.deepEqual([only?.domid, only?.name, only?.type], [domid, "web", "pv"]);
 * await Deno.remove(dir, { recursive: true });
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
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 * import { makeDomain } from "./domain_create.ts";
 * import { findDomain } from "./domain.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536 });
 * assert.equal(await findDomain(xs, "web"), domid);
 * assert.equal(await findDomain(xs, "db"), undefined);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function findDomain(
  target: Target,
  name: string,
  options: TransactionalOptions = {},
): Promise<number | undefined> {
  return (await listDomains(target, options)).find((d) => d.name === name)?.domid;
}
