/**
 * The read half of `doctor`: one consistent snapshot (read inside the caller's transaction)
 * of everything the checks look at. Private to doctor.ts.
 *
 * @module
 */

import type { Transaction, XenstoreOps } from "../client/types.ts";
import { XenstoreError } from "../protocol/errors.ts";
import type { Permission } from "../protocol/perms.ts";
import type { DeviceRecord } from "./device_list.ts";
import { listDevices } from "./device_list.ts";
import { DEVICE_KINDS } from "./device_kind.ts";
import type { Target } from "./store.ts";
import { isErrno, listIfPresent } from "./store.ts";

/** One node as read in the snapshot. */
export interface ScannedNode {
  /** Its value's length in bytes (-1 where the value was not read). */
  size: number;
  /** Its value, where the checks need it (`/libxl`). */
  value: Uint8Array | undefined;
  /** Its permissions (entry 0 is the owner). */
  perms: Permission[];
  /** Its children's names. */
  children: string[];
}

/** Everything the checks need, read in one transaction. */
export interface Snapshot {
  /** Numeric entries of `/libxl`. */
  libxlIds: number[];
  /** Numeric entries of `/local/domain`. */
  homes: number[];
  /** Entries of `/vm`. */
  vms: string[];
  /** `~/vm` of each home that has one. */
  vmPointers: Map<number, string>;
  /** Every node under `/libxl` (and `/libxl` itself). */
  libxlNodes: Map<string, ScannedNode>;
  /** Every node under each `/local/domain/<n>/backend`, keyed by path. */
  backendNodes: Map<string, ScannedNode>;
  /** `~/device/<kind>` of each home, for the kinds that exist. */
  frontendKindDirs: Map<string, ScannedNode>;
  /** The valid `/libxl` device records of every domain in `/libxl`. */
  records: DeviceRecord[];
  /** The value of each recorded frontend's `backend` node (absent when it has none). */
  frontendPointers: Map<string, string>;
}

const NUMERIC = /^(0|[1-9][0-9]{0,4})$/;

function ids(entries: string[]): number[] {
  return entries.filter((e) => NUMERIC.test(e) && Number(e) < 0x7ff0).map(Number)
    .sort((a, b) => a - b);
}

async function readNode(
  tx: XenstoreOps,
  path: string,
  withValue = true,
): Promise<ScannedNode | undefined> {
  try {
    const [value, perms, children] = await Promise.all([
      withValue ? tx.readBytes(path) : undefined,
      tx.getPerms(path),
      listIfPresent(tx, path),
    ]);
    return { size: value?.length ?? -1, value, perms, children };
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined; // removed meanwhile: the commit conflicts
    throw error;
  }
}

/**
 * Reads `root` and its whole subtree into `into`, a level at a time (requests pipelined);
 * values only down to `valueDepth` levels below `root`.
 */
async function walk(
  tx: XenstoreOps,
  root: string,
  into: Map<string, ScannedNode>,
  valueDepth = Infinity,
): Promise<void> {
  let level = [root];
  for (let depth = 0; level.length > 0; depth++) {
    const nodes = await Promise.all(level.map((path) => readNode(tx, path, depth <= valueDepth)));
    const next: string[] = [];
    for (const [i, node] of nodes.entries()) {
      if (node === undefined) continue;
      const path = level[i]!;
      into.set(path, node);
      for (const child of node.children) next.push(`${path}/${child}`);
    }
    level = next;
  }
}

/**
 * The snapshot of `/libxl` as a read-only transaction, so that `listDevices` (and its
 * record checks) run on what was read instead of reading it all again.
 */
function snapshotTransaction(nodes: Map<string, ScannedNode>): Transaction {
  const node = (op: string, path: string) => {
    const found = nodes.get(path);
    if (found === undefined) throw new XenstoreError("ENOENT", op, { path });
    return found;
  };
  const bytes = (path: string) => {
    const value = node("READ", path).value;
    if (value === undefined) throw new XenstoreError("ENOENT", "READ", { path });
    return value;
  };
  const readOnly = (op: string) => () => Promise.reject(new TypeError(`${op} on a snapshot`));
  return {
    id: -1,
    read: (path) => Promise.resolve().then(() => new TextDecoder().decode(bytes(path))),
    readBytes: (path) => Promise.resolve().then(() => bytes(path)),
    tryRead: (path) =>
      Promise.resolve(nodes.has(path) ? new TextDecoder().decode(bytes(path)) : undefined),
    exists: (path) => Promise.resolve(nodes.has(path)),
    directory: (path) => Promise.resolve().then(() => [...node("DIRECTORY", path).children]),
    getPerms: (path) => Promise.resolve().then(() => [...node("GET_PERMS", path).perms]),
    write: readOnly("WRITE"),
    mkdir: readOnly("MKDIR"),
    rm: readOnly("RM"),
    setPerms: readOnly("SET_PERMS"),
    commit: () => Promise.resolve(),
    abort: () => Promise.resolve(),
  };
}

/**
 * Reads the snapshot through `tx`: a transaction (a consistent snapshot) or the store itself
 * (cheaper, for a first look: what it finds is then read again in a transaction).
 */
export async function scan(tx: Target): Promise<Snapshot> {
  const [libxlIds, homes, vms] = await Promise.all([
    listIfPresent(tx, "/libxl").then(ids),
    listIfPresent(tx, "/local/domain").then(ids),
    listIfPresent(tx, "/vm"),
  ]);
  const libxlNodes = new Map<string, ScannedNode>();
  const backendNodes = new Map<string, ScannedNode>();
  const frontendKindDirs = new Map<string, ScannedNode>();
  const vmPointers = new Map<number, string>();
  const kinds = new Set<string>(DEVICE_KINDS);
  await Promise.all([
    walk(tx, "/libxl", libxlNodes),
    ...homes.map(async (domid) => {
      const home = `/local/domain/${domid}`;
      const vm = await tx.tryRead(`${home}/vm`);
      if (vm !== undefined) vmPointers.set(domid, vm);
      // Values only where the empty-parent check needs them (backend, kind, frontend domid).
      await walk(tx, `${home}/backend`, backendNodes, 2);
      const present = (await listIfPresent(tx, `${home}/device`)).filter((k) => kinds.has(k));
      await Promise.all(present.map(async (kind) => {
        const node = await readNode(tx, `${home}/device/${kind}`);
        if (node !== undefined) frontendKindDirs.set(`${home}/device/${kind}`, node);
      }));
    }),
  ]);
  const memory = snapshotTransaction(libxlNodes);
  const records = (await Promise.all(libxlIds.map((domid) => listDevices(memory, domid)))).flat();
  const frontendPointers = new Map<string, string>();
  await Promise.all(records.map(async (record) => {
    if (record.frontendPath === undefined) return;
    const pointer = await tx.tryRead(`${record.frontendPath}/backend`);
    if (pointer !== undefined) frontendPointers.set(record.frontendPath, pointer);
  }));
  return {
    libxlIds,
    homes,
    vms,
    vmPointers,
    libxlNodes,
    backendNodes,
    frontendKindDirs,
    records,
    frontendPointers,
  };
}

/** True when only dom0 (and `also`, if given) can write a node with these permissions. */
export function writableOnlyBy(perms: readonly Permission[], also?: number): boolean {
  const ok = (domid: number) => domid === 0 || domid === also;
  const [owner, ...rest] = perms;
  if (owner === undefined || !ok(owner.domid)) return false;
  if (owner.access === "write" || owner.access === "both") return false;
  return rest.every((p) => ok(p.domid) || p.access === "none" || p.access === "read");
}
