// Needs --allow-read=tests/testdata/cli/inventory: the domains come from hosts.json there.
import { defineConfig } from "dxl";

const inventory = JSON.parse(
  await Deno.readTextFile(new URL("../inventory/hosts.json", import.meta.url)),
) as { name: string; memory: string }[];

export default defineConfig({ domains: inventory.map((d) => ({ ...d, nics: [{}] })) });
