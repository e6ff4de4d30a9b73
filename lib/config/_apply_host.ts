/**
 * apply's real-host steps after the commit: a memory target changed in place goes into
 * libxl's config file and the hypervisor's limit (as `xl mem-set`), and each new domain is
 * unpaused once its devices connected or destroyed when one did not (as `xl create`).
 *
 * @module
 */

import type { Hypervisor } from "../libxl/hypervisor.ts";
import type { LibxlStore } from "../libxl/store.ts";
import type { HostOptions } from "../xen/host.ts";
import { discardDomain } from "../xen/host.ts";
import { enforceMemoryTarget, hasMemoryLimits } from "../xen/host_memory.ts";
import { withMemoryTarget } from "../xen/libxl_config.ts";
import { updateDomainConfig } from "../xen/userdata.ts";
import type { Plan } from "./plan.ts";

/**
 * A memory target changed in place goes into libxl's config file too, and the hypervisor's
 * limit follows it (`xc_domain_setmaxmem`, as `xl mem-set`'s enforce), when the host's
 * hypervisor has memory calls.
 */
export async function recordMemoryTargets(
  store: LibxlStore,
  committed: { p: Plan; uuids: ReadonlyMap<number, string | undefined> },
  host: HostOptions,
): Promise<void> {
  for (const a of committed.p.actions) {
    if (a.kind !== "update" || a.domid === undefined) continue;
    if (!a.changes.some((c) => c.path === "memory")) continue;
    const want = committed.p.config.domains.find((d) => d.name === a.domain);
    const uuid = committed.uuids.get(a.domid);
    if (want === undefined || uuid === undefined) continue;
    if (hasMemoryLimits(host.hypervisor)) {
      await enforceMemoryTarget(store, a.domid, host.hypervisor);
    }
    await updateDomainConfig(
      { domid: a.domid, uuid },
      (c) => withMemoryTarget(c, want.targetMemKb),
      host.userdataDir === undefined ? {} : { dir: host.userdataDir },
    );
  }
}

/** Options of {@linkcode settleNewDomains}. */
export interface SettleOptions {
  /** The hypervisor that made them. */
  hypervisor: Hypervisor;
  /** The host steps, on a real Xen host. @default {none} */
  host?: HostOptions | undefined;
  /** Names of the domains with a device that did not connect. */
  failed: ReadonlySet<string>;
  /**
   * A domain was destroyed; `error` names its devices' removal script failures (the destroy
   * went on; libxl logs them, and the create's error stays the device that did not connect).
   */
  onDestroyed: (event: { domain: string; domid: number; error?: string }) => void;
}

/**
 * xl create's end for the domains apply made: each whose devices all connected is
 * unpaused; on a Xen host one with a device that did not connect is destroyed as libxl
 * destroys a failed create (`discardDomain`: removal scripts, records, config file, the
 * domain), rather than left paused. Without a host such a domain stays (the simulated
 * hypervisor has no pause).
 */
export async function settleNewDomains(
  store: LibxlStore,
  domains: Iterable<{ want: { name: string }; created: { domid: number } }>,
  options: SettleOptions,
): Promise<void> {
  const { hypervisor, host } = options;
  for (const { want: { name }, created: { domid } } of domains) {
    if (!options.failed.has(name)) await hypervisor.unpauseDomain?.(domid);
    else if (host !== undefined) {
      const errors: Error[] = [];
      await discardDomain(store, domid, {
        ...host,
        hypervisor,
        onScriptError: (e) => errors.push(e),
      });
      const error = errors.map((e) => e.message).join(" | ");
      options.onDestroyed({ domain: name, domid, ...(error === "" ? {} : { error }) });
    }
  }
}
