/**
 * Apply: a whole plan in one xenstore transaction, then one wait for the backends.
 *
 * @module
 */

import { backoff, delay } from "../client/retry.ts";
import { TransactionConflictError } from "../protocol/errors.ts";
import { cleanupDevice } from "../libxl/device_remove.ts";
import type { DomainBuildRequest, Hypervisor } from "../libxl/hypervisor.ts";
import { libxlDomainPath } from "../libxl/paths.ts";
import type { LibxlStore } from "../libxl/store.ts";
import { isErrno, rmIfPresent } from "../libxl/store.ts";
import { waitForBackend } from "../libxl/device_add.ts";
import { XenbusState, xenbusStateName } from "../libxl/xenbus_state.ts";
import { waitForXenbusState } from "../libxl/xenbus_wait.ts";
import type { HostOptions } from "../xen/host.ts";
import { connectDevice, finishCreate, forgetDomain, removalHook } from "../xen/host.ts";
import { ApplyConflictError, DeviceWaitTimeoutError, StalePlanError } from "./errors.ts";
import type { UnsettledDevice } from "./errors.ts";
import { readLive } from "./live.ts";
import type { NormalizedConfig } from "./normalized.ts";
import type { Plan, PlanOptions } from "./plan.ts";
import { plan, planChanges, summarizeAction } from "./plan.ts";
import type { AfterCommit, NewDomain, Pending } from "./_apply_writes.ts";
import { writePlan } from "./_apply_writes.ts";
import { recordMemoryTargets, settleNewDomains } from "./_apply_host.ts";

/** What apply reports as it goes (the CLI draws these). */
export type ApplyEvent =
  | { type: "planned"; attempt: number; changes: number }
  | { type: "domain-created"; domain: string; domid: number }
  | { type: "conflict"; attempt: number; attempts: number }
  | { type: "committed"; attempt: number }
  | { type: "introduced"; domain: string; domid: number }
  | { type: "domain-destroyed"; domain: string; domid: number; error?: string }
  | { type: "device-connected"; domain: string; device: string }
  | { type: "device-closed"; domain: string; device: string }
  | { type: "device-timeout"; domain: string; device: string; wanted: "connected" | "closed" }
  | { type: "done"; changes: number };

/** Options of {@linkcode apply}. */
export interface ApplyOptions {
  /** Creates, introduces and destroys domains (the embedded store: `SimulatedHypervisor`). */
  hypervisor: Hypervisor;
  /** Called for every {@linkcode ApplyEvent}. @default {nothing} */
  onProgress?: (event: ApplyEvent) => void;
  /**
   * The one timeout for every new backend to connect and every removed one to close.
   * @default {10000}
   */
  timeoutMs?: number;
  /** Transaction attempts (each re-reads and re-plans) before {@linkcode ApplyConflictError}. @default {8} */
  attempts?: number;
  /** With a config: also remove domains dxl created that it does not declare. @default {false} */
  prune?: boolean;
  /** Wait for backends after the commit. @default {true} */
  wait?: boolean;
  /** The clock for `start_time`. @default {Date.now} */
  now?: () => number;
  /** Stops retrying and waiting. @default {none} */
  signal?: AbortSignal;
  /**
   * What `xl` does on a real Xen host besides xenstore (lib/xen/host.ts), for a real
   * hypervisor: libxl's domain config file written for each new domain and updated for its
   * disks and nics, their hotplug scripts run (`add` once the backend is in InitWait,
   * `remove` once it closed; a failing script fails the apply after the cleanup), new
   * domains unpaused once every device connected (destroyed, as `xl create` does, when one
   * did not), a memory target changed in place recorded there and set as the hypervisor's
   * limit (as `xl mem-set`), config files removed for destroyed domains. `userdataDir` and `hotplug` as in `HostOptions`. With `host`, the backends are
   * waited for even when `wait` is false (a script needs its backend's InitWait).
   * @default {none: xenstore only (simulated backends play the scripts' part)}
   */
  host?: Pick<HostOptions, "userdataDir" | "hotplug">;
}

/** A domain made for this attempt, with what it was built from. */
type FreshDomain = NewDomain & { request: DomainBuildRequest };

/** What {@linkcode apply} did. */
export interface ApplyResult {
  /** The plan that was committed (re-made inside the transaction). */
  plan: Plan;
  /** Transaction attempts used (0 when there was nothing to do). */
  attempts: number;
  /** The domains created, with their ids. */
  created: { domain: string; domid: number }[];
}

function isPlan(x: Plan | NormalizedConfig): x is Plan {
  return Array.isArray((x as Plan).actions);
}

/** The actions of a plan as comparable text (ids of new domains are not known yet). */
function signature(p: Plan): string {
  return JSON.stringify(planChanges(p).map(summarizeAction));
}

class Replan extends Error {
  constructor() {
    super("the store changed between planning and the transaction");
    this.name = "Replan";
  }
}

/**
 * Applies a config (or a plan made by {@linkcode plan}) in ONE xenstore transaction:
 * domains the plan creates are first created by the hypervisor (their ids go into the
 * transaction); inside it the live state is read again and re-planned (so nothing another
 * writer did since is lost), then every domain record, device and `/libxl` registry entry is
 * written in libxl's order (`writeNewDomain` for a new domain: the tree `xl create` writes,
 * without its SET_PERMS that change nothing), plus dxl's mark under `/libxl/<domid>/dxl`. Removed devices get libxl's removal request
 * (`online=0`, `state=5`) in the transaction. On EAGAIN the new domains are destroyed again
 * and everything is re-read and re-planned, up to `attempts` times
 * ({@linkcode ApplyConflictError}); any other failure also destroys them, so a failed apply
 * leaves neither records nor domains. After the commit: INTRODUCE, hypervisor destroy of
 * removed domains, ONE wait (`timeoutMs`) for every new backend to connect and every removed
 * one to close, then the removed devices are cleaned up (as libxl's forced removal does when
 * they did not close) and {@linkcode DeviceWaitTimeoutError} names each device that did not
 * get there. An empty plan writes nothing.
 *
 * Given a {@linkcode Plan}, apply refuses ({@linkcode StalePlanError}) when the store no
 * longer gives the same plan.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, startXenstored } from "../../mod.ts";
 * import { SimulatedBackend, SimulatedHypervisor } from "../../testing.ts";
 * import { apply } from "./apply.ts";
 * import { validateConfig } from "./validate.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * await using _backends = await SimulatedBackend.start(xs);
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const config = validateConfig({
 *   domains: [{ name: "web", memory: "512M", disks: ["phy:/dev/vg0/web,xvda,w"], nics: [{}] }],
 * });
 * const first = await apply(xs, config, { hypervisor });
 * assert.deepEqual(first.created.map((c) => c.domain), ["web"]);
 * const again = await apply(xs, config, { hypervisor });
 * assert.equal(again.attempts, 0); // nothing to do, nothing written
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function apply(
  store: LibxlStore,
  what: Plan | NormalizedConfig,
  options: ApplyOptions,
): Promise<ApplyResult> {
  const desired = isPlan(what) ? what.config : what;
  const planOptions: PlanOptions = isPlan(what)
    ? { prune: what.prune, destroy: what.destroy }
    : { prune: options.prune ?? false };
  return run(store, desired, planOptions, isPlan(what) ? what : undefined, options);
}

/** Options of {@linkcode destroy}. */
export interface DestroyOptions extends Omit<ApplyOptions, "prune"> {
  /** Also remove the domains dxl created that the config does not declare. @default {false} */
  prune?: boolean;
}

/**
 * Removes the domains a config declares (and with `prune` every other domain dxl created),
 * the same way apply removes them: one transaction with libxl's removal request for every
 * device and the domain records gone, then the hypervisor destroys the domains, one wait for
 * the backends to close, and cleanup. Domains dxl did not create are never touched.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, startXenstored } from "../../mod.ts";
 * import { SimulatedBackend, SimulatedHypervisor } from "../../testing.ts";
 * import { apply, destroy } from "./apply.ts";
 * import { validateConfig } from "./validate.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * await using _backends = await SimulatedBackend.start(xs);
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const config = validateConfig({ domains: [{ name: "web", nics: [{}] }] });
 * await apply(xs, config, { hypervisor });
 * await destroy(xs, config, { hypervisor });
 * assert.deepEqual(await xs.directory("/libxl"), []);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function destroy(
  store: LibxlStore,
  config: NormalizedConfig,
  options: DestroyOptions,
): Promise<ApplyResult> {
  return run(store, config, { prune: options.prune ?? false, destroy: true }, undefined, options);
}

async function run(
  store: LibxlStore,
  desired: NormalizedConfig,
  planOptions: PlanOptions,
  given: Plan | undefined,
  options: ApplyOptions,
): Promise<ApplyResult> {
  const attempts = options.attempts ?? 8;
  const emit = options.onProgress ?? (() => {});
  const hv = options.hypervisor;
  for (let attempt = 1;; attempt++) {
    options.signal?.throwIfAborted();
    const first = plan(desired, await readLive(store), planOptions);
    if (given !== undefined && signature(first) !== signature(given)) {
      throw new StalePlanError(planChanges(first).map(summarizeAction));
    }
    const changes = planChanges(first).length;
    emit({ type: "planned", attempt, changes });
    if (changes === 0) {
      emit({ type: "done", changes: 0 });
      return { plan: first, attempts: 0, created: [] };
    }
    const fresh = new Map<string, FreshDomain>();
    let committed: { p: Plan; after: AfterCommit; uuids: Map<number, string | undefined> };
    try {
      for (const a of first.actions) {
        if (a.device !== undefined || (a.kind !== "create" && a.kind !== "replace")) continue;
        const want = desired.domains.find((d) => d.name === a.domain)!;
        const uuid = want.uuid ?? crypto.randomUUID();
        const request: DomainBuildRequest = {
          uuid,
          name: want.name,
          type: want.type,
          maxMemKb: want.maxMemKb,
          targetMemKb: want.targetMemKb,
          vcpus: want.vcpus,
        };
        if (want.domid !== undefined) request.domid = want.domid;
        if (want.kernel !== undefined) request.kernel = want.kernel;
        if (want.ramdisk !== undefined) request.ramdisk = want.ramdisk;
        if (want.cmdline !== undefined) request.cmdline = want.cmdline;
        const created = await hv.createDomain(request);
        fresh.set(want.name, { want, uuid, created, request });
        emit({ type: "domain-created", domain: want.name, domid: created.domid });
      }
      committed = await store.transaction(async (tx) => {
        const live = await readLive(tx);
        const p = plan(desired, live, planOptions);
        if (signature(p) !== signature(first)) throw new Replan();
        const writeOptions = options.now === undefined ? {} : { now: options.now };
        // removed domains lose ~/vm in the transaction: their uuids name libxl's config files
        const uuids = new Map(live.domains.map((d) => [d.domid, d.uuid]));
        return { p, after: await writePlan(tx, p, live, fresh, writeOptions), uuids };
      }, { attempts: 1 });
    } catch (error) {
      for (const { created } of fresh.values()) {
        await hv.destroyDomain(created.domid).catch(() => {});
      }
      const conflict = error instanceof Replan || error instanceof TransactionConflictError ||
        isErrno(error, "EAGAIN");
      if (!conflict) throw error;
      if (given !== undefined && error instanceof Replan) {
        const now = plan(desired, await readLive(store), planOptions);
        throw new StalePlanError(planChanges(now).map(summarizeAction), { cause: error });
      }
      emit({ type: "conflict", attempt, attempts });
      if (attempt >= attempts) throw new ApplyConflictError(attempts, { cause: error });
      await delay(backoff(attempt, 5), options.signal);
      continue;
    }
    emit({ type: "committed", attempt });
    await afterCommit(store, committed, fresh, options);
    emit({ type: "done", changes });
    return {
      plan: committed.p,
      attempts: attempt,
      created: [...fresh.values()].map((f) => ({ domain: f.want.name, domid: f.created.domid })),
    };
  }
}

async function afterCommit(
  store: LibxlStore,
  committed: { p: Plan; after: AfterCommit; uuids: ReadonlyMap<number, string | undefined> },
  fresh: ReadonlyMap<string, FreshDomain>,
  options: ApplyOptions,
): Promise<void> {
  const { after, uuids } = committed;
  const emit = options.onProgress ?? (() => {});
  const hv = options.hypervisor;
  const host: HostOptions | undefined = options.host === undefined
    ? undefined
    : { ...options.host, hypervisor: hv };
  const domains = [...fresh.values()];
  // Without host steps nothing else happens per domain: the INTRODUCEs go out together.
  if (host === undefined) await Promise.all(domains.map((d) => hv.introduceDomain(d.created)));
  for (const { want, created, request } of domains) {
    if (host !== undefined) {
      await hv.introduceDomain(created);
      // xl create: libxl's config file; the domain stays paused until its devices connected
      await finishCreate(created.domid, request, {
        ...host,
        unpause: false,
        vcpusOnline: want.vcpusOnline,
      });
    }
    emit({ type: "introduced", domain: want.name, domid: created.domid });
  }
  for (const { name, domid } of after.removedDomains) {
    try {
      await hv.destroyDomain(domid);
      emit({ type: "domain-destroyed", domain: name, domid });
    } catch (error) {
      emit({ type: "domain-destroyed", domain: name, domid, error: String(error) });
    }
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const unsettled: UnsettledDevice[] = [];
  const scriptErrors: Error[] = [];
  const failed = new Set<string>();
  if ((options.wait ?? true) || host !== undefined) {
    const signal = options.signal === undefined
      ? AbortSignal.timeout(timeoutMs)
      : AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)]);
    const wait = { timeoutMs, signal };
    const miss = async (p: Pending, wanted: "connected" | "closed", path: string) => {
      failed.add(p.domain);
      const state = await store.tryRead(path).catch(() => undefined);
      unsettled.push({
        domain: p.domain,
        device: p.device,
        wanted,
        state: state === undefined ? undefined : `${state} (${xenbusStateName(Number(state))})`,
      });
      emit({ type: "device-timeout", domain: p.domain, device: p.device, wanted });
    };
    await Promise.all([
      ...after.connect.map(async (p) => {
        try {
          if (host === undefined) await waitForBackend(store, p.spec!, wait);
          else {
            await connectDevice(store, p.spec!, {
              ...host,
              timeoutMs,
              hotplug: { ...host.hotplug, signal },
            });
          }
          emit({ type: "device-connected", domain: p.domain, device: p.device });
        } catch (error) {
          if (error instanceof Error && error.name === "HotplugError") {
            failed.add(p.domain);
            scriptErrors.push(error);
            return;
          }
          const be = `/local/domain/${p.spec!.backendDomid}/backend/${p.spec!.backendKind}/` +
            `${p.spec!.domid}/${p.spec!.devid}/state`;
          await miss(p, "connected", be);
        }
      }),
      ...after.close.map(async (p) => {
        const path = `${p.record!.backendPath}/state`;
        try {
          await waitForXenbusState(store, path, {
            ...wait,
            state: XenbusState.Closed,
            device: p.device,
          });
          emit({ type: "device-closed", domain: p.domain, device: p.device });
        } catch {
          await miss(p, "closed", path);
        }
      }),
    ]);
  }
  // xl create: unpaused once its devices connected; on a host destroyed when one did not
  await settleNewDomains(store, fresh.values(), {
    hypervisor: hv,
    host,
    failed,
    onDestroyed: (event) => emit({ type: "domain-destroyed", ...event }),
  });
  const removal = host === undefined
    ? undefined
    : removalHook(store, { ...host, onScriptError: (e) => scriptErrors.push(e) });
  for (const p of [...after.close, ...after.cleanup]) {
    await removal?.(p.record!);
    await cleanupDevice(store, p.record!);
  }
  for (const { domid } of after.removedDomains) {
    await rmIfPresent(store, libxlDomainPath(domid));
    if (host !== undefined) await forgetDomain({ domid, uuid: uuids.get(domid) }, host);
  }
  if (host !== undefined) await recordMemoryTargets(store, committed, host);
  if (unsettled.length > 0) throw new DeviceWaitTimeoutError(unsettled, timeoutMs);
  if (scriptErrors.length === 1) throw scriptErrors[0];
  if (scriptErrors.length > 1) {
    throw new AggregateError(
      scriptErrors,
      `${scriptErrors.length} hotplug scripts failed: ` +
        scriptErrors.map((e) => e.message).join(" | "),
    );
  }
}
