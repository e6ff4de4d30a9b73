/**
 * apply's real-host step that reads the plan: libxl's config file follows a memory target
 * changed in place.
 *
 * @module
 */

import type { HostOptions } from "../xen/host.ts";
import { withMemoryTarget } from "../xen/libxl_config.ts";
import { updateDomainConfig } from "../xen/userdata.ts";
import type { Plan } from "./plan.ts";

/** A memory target changed in place goes into libxl's config file too, as `xl mem-set`. */
export async function recordMemoryTargets(
  committed: { p: Plan; uuids: ReadonlyMap<number, string | undefined> },
  host: HostOptions,
): Promise<void> {
  for (const a of committed.p.actions) {
    if (a.kind !== "update" || a.domid === undefined) continue;
    if (!a.changes.some((c) => c.path === "memory")) continue;
    const want = committed.p.config.domains.find((d) => d.name === a.domain);
    const uuid = committed.uuids.get(a.domid);
    if (want === undefined || uuid === undefined) continue;
    await updateDomainConfig(
      { domid: a.domid, uuid },
      (c) => withMemoryTarget(c, want.targetMemKb),
      host.userdataDir === undefined ? {} : { dir: host.userdataDir },
    );
  }
}
