/**
 * Checks across domains and devices of one config: names, uuids, fixed domids, device ids
 * and MAC addresses used twice.
 *
 * @module
 */

import type { RawIssue, Segment } from "./_issues.ts";
import { renderPath } from "./_issues.ts";
import type { NormalizedDevice, NormalizedDomain } from "./normalized.ts";

function sourcePath(device: NormalizedDevice): Segment[] {
  const [list, index] = device.source.split(/[[\]]/) as [string, string];
  return [list, Number(index)];
}

/**
 * The cross-checks of `validateConfig` over the domains that validated on their own
 * (`undefined` for the others); `names` renders domains in messages.
 */
export function crossCheck(
  domains: readonly (NormalizedDomain | undefined)[],
  names: readonly (string | undefined)[],
): RawIssue[] {
  const raw: RawIssue[] = [];
  const where = (path: Segment[]) => renderPath(path, names);
  const firstBy = new Map<string, number>();
  const once = (key: string, i: number): number | undefined => {
    const seen = firstBy.get(key);
    if (seen === undefined) firstBy.set(key, i);
    return seen;
  };
  domains.forEach((d, i) => {
    if (d === undefined) return;
    const name = once(`name:${d.name}`, i);
    if (name !== undefined) {
      raw.push({
        path: ["domains", i, "name"],
        message: `${JSON.stringify(d.name)} is also the name of domains[${name}]`,
      });
    }
    if (d.uuid !== undefined) {
      const j = once(`uuid:${d.uuid}`, i);
      if (j !== undefined) {
        raw.push({
          path: ["domains", i, "uuid"],
          message: `${JSON.stringify(d.uuid)} is also the uuid of ${where(["domains", j])}`,
        });
      }
    }
    if (d.domid !== undefined) {
      const j = once(`domid:${d.domid}`, i);
      if (j !== undefined) {
        raw.push({
          path: ["domains", i, "domid"],
          message: `${d.domid} is also the domid of ${where(["domains", j])}`,
        });
      }
    }
  });
  const macs = new Map<string, Segment[]>();
  domains.forEach((d, i) => {
    if (d === undefined) return;
    const ids = new Map<string, NormalizedDevice>();
    for (const device of d.devices) {
      const at: Segment[] = ["domains", i, ...sourcePath(device)];
      const key = `${device.kind}/${device.devid}`;
      const other = ids.get(key);
      if (other !== undefined) {
        raw.push(
          device.kind === "vbd"
            ? {
              path: [...at, "vdev"],
              message: `${JSON.stringify(device.label)} is the same disk (devid ${device.devid}) ` +
                `as ${other.source} (${JSON.stringify(other.label)})`,
            }
            : {
              path: [...at, "devid"],
              message: `${device.devid} is also the devid of ${other.source}`,
            },
        );
      } else {
        ids.set(key, device);
      }
      if (device.kind === "vif" && device.options.mac !== undefined) {
        const mac = device.options.mac;
        const first = macs.get(mac);
        if (first !== undefined) {
          raw.push({
            path: [...at, "mac"],
            message: `${JSON.stringify(mac)} is also the MAC of ${where(first)}`,
          });
        } else {
          macs.set(mac, at);
        }
      }
    }
  });
  return raw;
}
