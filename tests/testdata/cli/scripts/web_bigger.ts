// web.ts with more memory and a second disk: an update in place and a new device.
import { defineConfig } from "dxl";

export default defineConfig({
  domains: [{
    name: "web",
    memory: "256M",
    maxmem: "512M",
    disks: ["phy:/dev/vg0/web,xvda,w", "phy:/dev/vg0/data,xvdb,w"],
    nics: [{}],
  }],
});
