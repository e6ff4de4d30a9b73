/**
 * A fleet from a loop: eight identical workers, each with its own disk and a fixed MAC, and
 * a larger database. Plain TypeScript: functions, loops, template strings.
 *
 * @module
 */

import { defineConfig } from "dxl";
import type { DomainConfig } from "dxl";

const WORKERS = 8;

function worker(i: number): DomainConfig {
  const n = String(i).padStart(2, "0");
  return {
    name: `worker-${n}`,
    memory: "1G",
    vcpus: 2,
    kernel: "/boot/vmlinuz-6.1-xen",
    disks: [`phy:/dev/vg0/worker-${n},xvda,w`],
    nics: [{ bridge: "xenbr0", mac: `00:16:3e:20:00:${i.toString(16).padStart(2, "0")}` }],
  };
}

export default defineConfig({
  domains: [
    ...Array.from({ length: WORKERS }, (_, i) => worker(i + 1)),
    {
      name: "db",
      memory: "4G",
      maxmem: "8G",
      vcpus: 4,
      kernel: "/boot/vmlinuz-6.1-xen",
      disks: ["phy:/dev/vg0/db,xvda,w", "phy:/dev/vg0/db-wal,xvdb,w"],
      nics: [{ bridge: "xenbr1" }],
    },
  ],
});
