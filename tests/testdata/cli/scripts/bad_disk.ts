// A disk spec whose access part is wrong.
import { defineConfig } from "dxl";

export default defineConfig({
  domains: [{ name: "web", memory: "512M", disks: ["phy:/dev/vg0/web,xvda,q"] }],
});
