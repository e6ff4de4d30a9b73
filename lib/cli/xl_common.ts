/**
 * What xl's commands in `dxl` share: DOMAIN arguments (a name or an id), device rows for
 * `devices` and the attach/detach commands' `--json`, and the timeout option.
 *
 * @module
 */

import type { XenstoreOps } from "../client/types.ts";
import type { DeviceRecord } from "../libxl/device_list.ts";
import { resolveDomain } from "../libxl/lookup.ts";
import type { Hypervisor } from "../libxl/hypervisor.ts";
import type { LibxlStore } from "../libxl/store.ts";
import { xenbusStateName } from "../libxl/xenbus_state.ts";
import { UsageError } from "./errors.ts";

/**
 * The id of DOMAIN, given as an id or a name as xl accepts it
 * (`libxl_domain_qualifier_to_domid`: all digits is an id, anything else a name): dom0 by
 * `0` or its name, any other domain through libxl's `resolveDomain` (its `/libxl` record).
 * Rejects with `DomainNotFoundError` (exit 2) naming the argument otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { resolveDomainArg } from "./xl_common.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir, initDom0: true });
 * await using xs = await connect({ path: xsd.socket });
 * assert.equal(await resolveDomainArg(xs, "Domain-0"), 0);
 * await assert.rejects(resolveDomainArg(xs, "web"), { name: "DomainNotFoundError" });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function resolveDomainArg(store: LibxlStore, text: string): Promise<number> {
  if (text === "0" || (text !== "" && (await store.tryRead("/local/domain/0/name")) === text)) {
    if (await store.exists("/local/domain/0")) return 0;
  }
  if (text === "") throw new UsageError('A domain is named by its id or name, got ""');
  return await resolveDomain(store, text);
}

/** A device as `dxl devices` and the attach commands' `--json` show it. */
export interface DeviceRow {
  /** The frontend kind (`vbd`, `vif`, `console`, ...). */
  kind: string;
  /** The device id. */
  devid: number;
  /** The backend's domain. */
  backendDomid: number;
  /** The backend kind (`qdisk` for a qdisk disk). */
  backendKind: string;
  /** The backend's `state` as a number, `null` when it has none. */
  state: number | null;
  /** Its name (`Connected`), `null` when unknown. */
  stateName: string | null;
  /** A short description from the record's own keys (vdev and target, MAC and bridge). */
  details: string;
  /** The frontend directory from the record, `null` for a libxl-only device. */
  frontend: string | null;
  /** The backend directory from the record, `null` for a libxl-only device. */
  backend: string | null;
}

/**
 * A row for a `/libxl` record, with the backend's `state` read from the backend the record
 * names (never from a path a guest wrote).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deviceRow } from "./xl_common.ts";
 * const ops = { tryRead: () => Promise.resolve("4") };
 * const row = await deviceRow(ops, {
 *   domid: 1, kind: "vif", devid: 0, backendDomid: 0, backendKind: "vif",
 *   libxlPath: "/libxl/1/device/vif/0", frontendPath: "/local/domain/1/device/vif/0",
 *   backendPath: "/local/domain/0/backend/vif/1/0", keys: { mac: "00:16:3e:aa:bb:cc", bridge: "xenbr0" },
 * });
 * assert.equal(row.stateName, "Connected");
 * assert.equal(row.details, "mac=00:16:3e:aa:bb:cc bridge=xenbr0");
 * ```
 */
export async function deviceRow(
  ops: Pick<XenstoreOps, "tryRead">,
  record: DeviceRecord,
): Promise<DeviceRow> {
  const text = record.backendPath === undefined
    ? undefined
    : await ops.tryRead(`${record.backendPath}/state`);
  const state = text !== undefined && /^[0-9]+$/.test(text) ? Number(text) : null;
  return {
    kind: record.kind,
    devid: record.devid,
    backendDomid: record.backendDomid,
    backendKind: record.backendKind,
    state,
    stateName: state === null ? null : xenbusStateName(state) ?? null,
    details: details(record),
    frontend: record.frontendPath ?? null,
    backend: record.backendPath ?? null,
  };
}

function details(record: DeviceRecord): string {
  const k = record.keys;
  const pick = (...names: string[]) =>
    names.filter((n) => k[n] !== undefined && k[n] !== "").map((n) => `${n}=${k[n]}`).join(" ");
  switch (record.kind) {
    case "vbd":
      return pick("dev", "params", "mode", "device-type");
    case "vif":
      return pick("mac", "bridge", "ip", "rate");
    default:
      return "";
  }
}

/**
 * Parses `--timeout SECONDS` (a positive number) into milliseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTimeout } from "./xl_common.ts";
 * assert.equal(parseTimeout("2.5"), 2500);
 * assert.throws(() => parseTimeout("soon"), /--timeout/);
 * ```
 */
export function parseTimeout(text: string): number {
  const seconds = Number(text);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(text) || !(seconds > 0)) {
    throw new UsageError(
      `--timeout must be a positive number of seconds, got ${JSON.stringify(text)}`,
    );
  }
  return Math.round(seconds * 1000);
}

/**
 * The domain list of a hypervisor that can give one: `listDomains()` (ids), `listInfo()`
 * (the real one's view), or `list()`
 * (`{ domid }` entries, as the control-socket hypervisor of `dxl serve` answers). A
 * hypervisor that only knows the domains made in this process (`SimulatedHypervisor`) is
 * not asked: its list would call every other domain gone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { domainLister } from "./xl_common.ts";
 * const hv = {
 *   createDomain: () => Promise.reject(new Error("unused")),
 *   introduceDomain: () => Promise.resolve(),
 *   destroyDomain: () => Promise.resolve(),
 *   list: () => Promise.resolve([{ domid: 0 }, { domid: 3 }]),
 * };
 * assert.deepEqual([...await domainLister(hv)!()], [0, 3]);
 * assert.equal(domainLister(undefined), undefined);
 * ```
 */
export function domainLister(
  hypervisor: Hypervisor | undefined,
): (() => Promise<Iterable<number>>) | undefined {
  const h = hypervisor as
    | { listDomains?: () => Promise<Iterable<number>>; list?: () => Promise<unknown> }
    | undefined;
  if (typeof h?.listDomains === "function") return () => h.listDomains!();
  const view = hypervisor?.listInfo?.bind(hypervisor); // a real one (XenHypervisor)
  if (view !== undefined) return async () => (await view()).map((d) => d.domid);
  if (typeof h?.list === "function") {
    return async () => {
      const list = await h.list!();
      if (!Array.isArray(list)) throw new TypeError("the hypervisor's list is not an array");
      return list.map((d: { domid?: unknown }) => {
        if (typeof d?.domid !== "number") throw new TypeError("a listed domain has no domid");
        return d.domid;
      });
    };
  }
  return undefined;
}
