/**
 * Domains from a JSON inventory kept outside the script's folder: the script reads
 * `../hosts.json`, which it may only with the read permission granted
 * (`dxl apply --allow-read=scripts/examples/hosts.json scripts/examples/inventory/site.ts`).
 * Without it, dxl stops before anything is planned and says which permission to grant.
 *
 * @module
 */

import { defineConfig } from "dxl";

interface Guest {
  name: string;
  memoryMb: number;
  mac: string;
}

export default defineConfig(async () => {
  const text = await Deno.readTextFile(new URL("../hosts.json", import.meta.url));
  const { guests } = JSON.parse(text) as { guests: Guest[] };
  return {
    domains: guests.map((g) => ({
      name: g.name,
      memory: `${g.memoryMb}M`,
      kernel: "/boot/vmlinuz-6.1-xen",
      disks: [`phy:/dev/vg0/${g.name},xvda,w`],
      nics: [{ mac: g.mac }],
    })),
  };
});
