// One PV guest with a disk and a NIC (tests/cli/script_test.ts).
import { defineConfig } from "dxl";

export default defineConfig({
  domains: [{ name: "web", memory: "512M", disks: ["phy:/dev/vg0/web,xvda,w"], nics: [{}] }],
});
