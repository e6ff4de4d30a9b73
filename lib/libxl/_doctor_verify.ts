/**
 * The transactional half of `doctor`: each stale finding of the first look (read outside a
 * transaction) proved again inside the transaction that removes it, reading only the nodes
 * its proof rests on — a transaction that reads the whole toolstack tree is slow on C
 * xenstored. Private to doctor.ts.
 *
 * @module
 */

import type { Transaction } from "../client/types.ts";
import { parentPath } from "../protocol/path.ts";
import type { DoctorFinding, Removal } from "./_doctor_findings.ts";
import { uuidOf } from "./_doctor_findings.ts";
import { writableOnlyBy } from "./_doctor_scan.ts";
import { listDevices } from "./device_list.ts";
import { listIfPresent } from "./store.ts";

/** What a proof read. */
interface Evidence {
  exists: Map<string, boolean>;
  backends: Map<number, string[]>;
  vmPointer: Map<number, string | undefined>;
  pointers: Set<string> | undefined;
  empty: Map<string, boolean>;
  parentOurs: Map<string, boolean>;
}

const plain = (path: string): Removal => ({ path, emptiedParents: false });
const upward = (path: string): Removal => ({ path, emptiedParents: true });

/** Reads, inside `tx`, what the proofs of `findings` rest on. */
async function gather(tx: Transaction, findings: DoctorFinding[]): Promise<Evidence> {
  const e: Evidence = {
    exists: new Map(),
    backends: new Map(),
    vmPointer: new Map(),
    pointers: undefined,
    empty: new Map(),
    parentOurs: new Map(),
  };
  const jobs: Promise<void>[] = [];
  const exists = (path: string) => {
    if (!e.exists.has(path)) {
      e.exists.set(path, false);
      jobs.push(tx.exists(path).then((x) => void e.exists.set(path, x)));
    }
  };
  const backends = (domid: number) => {
    if (e.backends.has(domid)) return;
    e.backends.set(domid, []);
    jobs.push(
      listDevices(tx, domid).then((records) => {
        e.backends.set(domid, records.flatMap((r) => r.backendPath ?? []));
      }),
    );
  };
  const vmPointer = (domid: number) => {
    if (e.vmPointer.has(domid)) return;
    e.vmPointer.set(domid, undefined);
    jobs.push(
      tx.tryRead(`/local/domain/${domid}/vm`).then(async (vm) => {
        e.vmPointer.set(domid, vm);
        const uuid = uuidOf(vm);
        if (uuid !== undefined) e.exists.set(`/vm/${uuid}`, await tx.exists(`/vm/${uuid}`));
      }),
    );
  };
  for (const f of findings) {
    if (f.removes.length === 0) continue;
    const domid = f.domid;
    switch (f.kind) {
      case "stale-domain":
      case "stale-home":
        exists(`/libxl/${domid}`);
        exists(`/local/domain/${domid}`);
        backends(domid!);
        vmPointer(domid!);
        break;
      case "stale-vm":
        exists(f.path);
        if (e.pointers === undefined) {
          e.pointers = new Set();
          jobs.push(
            listIfPresent(tx, "/local/domain").then(async (homes) => {
              const vms = await Promise.all(homes.map((h) => tx.tryRead(`/local/domain/${h}/vm`)));
              for (const vm of vms) if (vm !== undefined) e.pointers!.add(vm);
            }),
          );
        }
        break;
      case "orphan-backend": {
        exists(f.path);
        backends(domid!);
        const parent = parentPath(f.path)!;
        jobs.push(
          tx.getPerms(parent).then(
            (perms) => void e.parentOurs.set(parent, writableOnlyBy(perms)),
            () => void e.parentOurs.set(parent, false),
          ),
        );
        break;
      }
      case "empty-parent":
        jobs.push(
          Promise.all([tx.readBytes(f.path), listIfPresent(tx, f.path), tx.getPerms(f.path)])
            .then(
              ([value, children, perms]) =>
                void e.empty.set(
                  f.path,
                  value.length === 0 && children.length === 0 && writableOnlyBy(perms),
                ),
              () => void e.empty.set(f.path, false),
            ),
        );
        break;
      default:
        break;
    }
  }
  // Jobs add jobs (a vm pointer's /vm entry): wait until none is left.
  for (let done = 0; done < jobs.length;) {
    const batch = jobs.slice(done);
    done = jobs.length;
    await Promise.all(batch);
  }
  return e;
}

/**
 * The findings of the first look with each stale one proved again in `tx` (and its
 * removals recomputed from what `tx` read); a stale finding that no longer holds is
 * dropped. Findings `fix` leaves are passed through. `listDomains` is asked after the
 * reads, so a domain created meanwhile is in its answer.
 */
export async function verify(
  tx: Transaction,
  findings: DoctorFinding[],
  listDomains: (() => Promise<Iterable<number>>) | undefined,
): Promise<DoctorFinding[]> {
  const e = await gather(tx, findings);
  const table = listDomains === undefined ? undefined : new Set(await listDomains());
  const vmOf = (domid: number): Removal[] => {
    const uuid = uuidOf(e.vmPointer.get(domid));
    return uuid !== undefined && e.exists.get(`/vm/${uuid}`) ? [plain(`/vm/${uuid}`)] : [];
  };
  const out: DoctorFinding[] = [];
  for (const f of findings) {
    if (f.removes.length === 0) {
      out.push(f);
      continue;
    }
    const domid = f.domid!;
    const libxl = `/libxl/${domid}`;
    const home = `/local/domain/${domid}`;
    const gone = table !== undefined && !table.has(domid);
    const backends = (e.backends.get(domid) ?? []).map(upward);
    let removes: Removal[] | undefined;
    switch (f.kind) {
      case "stale-domain":
        if (!e.exists.get(libxl)) break;
        if (!e.exists.get(home)) removes = [...backends, plain(libxl)];
        else if (gone) removes = [...backends, ...vmOf(domid), plain(home), plain(libxl)];
        break;
      case "stale-home":
        if (gone && e.exists.get(home) && !e.exists.get(libxl)) {
          removes = [...vmOf(domid), plain(home)];
        }
        break;
      case "stale-vm":
        if (e.exists.get(f.path) && !e.pointers?.has(f.path)) removes = [plain(f.path)];
        break;
      case "orphan-backend":
        if (
          e.exists.get(f.path) && !(e.backends.get(domid) ?? []).includes(f.path) &&
          e.parentOurs.get(parentPath(f.path)!)
        ) {
          removes = [upward(f.path)];
        }
        break;
      case "empty-parent":
        if (e.empty.get(f.path)) removes = [upward(f.path)];
        break;
      default:
        removes = f.removes;
    }
    if (removes !== undefined) out.push({ ...f, removes });
  }
  return out;
}
