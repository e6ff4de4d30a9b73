/**
 * The finding types of `doctor` and the checks on backends, emptied parents and the trust
 * rules. Private to doctor.ts, which re-exports the types.
 *
 * @module
 */

import { formatPermissions } from "../protocol/perms.ts";
import { parentPath } from "../protocol/path.ts";
import { checkUuid } from "./paths.ts";
import type { ScannedNode, Snapshot } from "./_doctor_scan.ts";
import { writableOnlyBy } from "./_doctor_scan.ts";

/** What a finding is about. */
export type DoctorFindingKind =
  /** `/libxl/<n>` (and the rest of the domain's records) of a domain that is gone. */
  | "stale-domain"
  /** `/local/domain/<n>` of a domain that is gone and has no `/libxl` record. */
  | "stale-home"
  /** `/vm/<uuid>` that no domain's `~/vm` points at. */
  | "stale-vm"
  /** A backend directory that no `/libxl` record names. */
  | "orphan-backend"
  /** An empty directory a cleanup should have removed with its last child. */
  | "empty-parent"
  /** A `/libxl` node some guest can read or write. */
  | "libxl-guest-access"
  /** A frontend whose `backend` node disagrees with the `/libxl` record. */
  | "frontend-redirected"
  /** A node under a backend directory owned or writable by a domain other than dom0 and the backend's. */
  | "guest-owned-backend-node"
  /** A `/libxl` device entry that is not a valid record (dxl ignores it). */
  | "malformed-record"
  /** A domain the hypervisor has and xenstore has no (or no complete) records for. */
  | "orphaned-domain"
  /** A domain with records that xenstored does not know: gone or still being created. */
  | "unverified-domain";

/** `stale`: left behind; `violation`: breaks a trust rule; `warning`: needs a person. */
export type DoctorSeverity = "stale" | "violation" | "warning";

/** One removal `fix` makes for a finding. */
export interface Removal {
  /** The node removed with its subtree. */
  path: string;
  /** Also remove each ancestor left empty, as libxl's `libxl__xs_path_cleanup`. */
  emptiedParents: boolean;
}

/** One problem found. */
export interface DoctorFinding {
  /** What it is about. */
  kind: DoctorFindingKind;
  /** How bad it is. */
  severity: DoctorSeverity;
  /** The node it is about. */
  path: string;
  /** The domain it concerns, when one does. */
  domid: number | undefined;
  /** One line for a person: what is wrong, and what `fix` does or why it leaves it. */
  message: string;
  /** What `fix` removes for it; empty when it is not provably stale. */
  removes: Removal[];
}

/** Records a finding. */
export type Add = (
  kind: DoctorFindingKind,
  severity: DoctorSeverity,
  path: string,
  domid: number | undefined,
  message: string,
  removes?: Removal[],
) => void;

/** Splits a path under a backend tree. */
export const BACKEND_NODE =
  /^\/local\/domain\/([0-9]+)\/backend(?:\/([^/]+))?(?:\/([^/]+))?(?:\/([^/]+))?/;

/** The uuid of a `/vm/<uuid>` pointer, if it has exactly that shape. */
export function uuidOf(pointer: string | undefined): string | undefined {
  const m = pointer === undefined ? null : /^\/vm\/(.+)$/.exec(pointer);
  if (m === null) return undefined;
  try {
    return checkUuid(m[1]!);
  } catch {
    return undefined;
  }
}

function isEmpty(node: ScannedNode): boolean {
  return node.size === 0 && node.children.length === 0;
}

/** Adds the findings of one group of checks. */
export function checkBackends(
  snap: Snapshot,
  removedDomains: Set<number>,
  add: Add,
  upward: (path: string) => Removal,
): void {
  const named = new Set(snap.records.map((r) => r.backendPath).filter((p) => p !== undefined));
  for (const [path, node] of snap.backendNodes) {
    const m = BACKEND_NODE.exec(path)!;
    const backendDomid = Number(m[1]);
    const depth = path.split("/").length - 5; // 0 = backend, 3 = backend/<kind>/<domid>/<devid>
    if (!writableOnlyBy(node.perms, backendDomid)) {
      add(
        "guest-owned-backend-node",
        "violation",
        path,
        backendDomid,
        `${path} can be written by a domain other than dom0 and the backend's (${
          formatPermissions(node.perms)
        }): its content is not the backend's word`,
      );
    }
    if (depth !== 3 || named.has(path)) continue;
    const frontendDomid = Number(m[3]);
    const parent = snap.backendNodes.get(parentPath(path)!);
    const ours = parent !== undefined && writableOnlyBy(parent.perms);
    const gone = removedDomains.has(frontendDomid) ? ` (domain ${frontendDomid} is gone)` : "";
    add(
      "orphan-backend",
      "stale",
      path,
      frontendDomid,
      ours
        ? `${path} has no /libxl record naming it${gone}; fix removes it`
        : `${path} has no /libxl record naming it, but its parent is not dom0-only (${
          formatPermissions(parent?.perms ?? [])
        }), so fix leaves it`,
      ours ? [upward(path)] : [],
    );
  }
}

/** Adds the findings of one group of checks. */
export function checkEmptyParents(
  snap: Snapshot,
  unsettled: Set<number>,
  add: Add,
  upward: (path: string) => Removal,
): void {
  const report = (path: string, node: ScannedNode, domid: number | undefined) => {
    if (!isEmpty(node)) return;
    const ours = writableOnlyBy(node.perms);
    add(
      "empty-parent",
      "stale",
      path,
      domid,
      ours
        ? `${path} is empty: a cleanup stopped before removing it; fix removes it`
        : `${path} is empty but not dom0-only (${formatPermissions(node.perms)}), so fix leaves it`,
      ours ? [upward(path)] : [],
    );
  };
  for (const [path, node] of snap.backendNodes) {
    const depth = path.split("/").length - 5;
    if (depth < 3) report(path, node, Number(BACKEND_NODE.exec(path)![1]));
  }
  for (const [path, node] of snap.libxlNodes) {
    const m = /^\/libxl\/([0-9]+)\/device\/[^/]+$/.exec(path);
    if (m !== null && !unsettled.has(Number(m[1]))) report(path, node, Number(m[1]));
  }
  for (const [path, node] of snap.frontendKindDirs) {
    const domid = Number(/^\/local\/domain\/([0-9]+)\//.exec(path)![1]);
    if (!unsettled.has(domid)) report(path, node, domid);
  }
}

/** Adds the findings of one group of checks. */
export function checkTrust(snap: Snapshot, add: Add): void {
  for (const [path, node] of snap.libxlNodes) {
    const [owner, ...rest] = node.perms;
    const guests = rest.filter((p) => p.domid !== 0 && p.access !== "none");
    if (owner?.domid === 0 && owner.access === "none" && guests.length === 0) continue;
    const domid = Number(/^\/libxl\/([0-9]+)/.exec(path)?.[1] ?? NaN);
    add(
      "libxl-guest-access",
      "violation",
      path,
      Number.isNaN(domid) ? undefined : domid,
      `${path} is not dom0-only (${
        formatPermissions(node.perms)
      }): a guest can read or change the toolstack's record; it must be n0`,
    );
  }
  const valid = new Set(snap.records.map((r) => r.libxlPath));
  for (const path of snap.libxlNodes.keys()) {
    const m = /^\/libxl\/([0-9]+)\/device\/[^/]+\/[^/]+$/.exec(path);
    if (m === null || valid.has(path)) continue;
    add(
      "malformed-record",
      "warning",
      path,
      Number(m[1]),
      `${path} is not a valid device record (its frontend/backend pointers are not this device's paths): dxl ignores it`,
    );
  }
  for (const record of snap.records) {
    if (record.frontendPath === undefined) continue;
    const pointer = snap.frontendPointers.get(record.frontendPath);
    if (pointer === undefined || pointer === record.backendPath) continue;
    add(
      "frontend-redirected",
      "violation",
      `${record.frontendPath}/backend`,
      record.domid,
      `${record.frontendPath}/backend is ${
        JSON.stringify(pointer)
      } but ${record.libxlPath} records ${
        JSON.stringify(record.backendPath)
      }: domain ${record.domid} redirected its frontend; dxl follows the record only`,
    );
  }
}
