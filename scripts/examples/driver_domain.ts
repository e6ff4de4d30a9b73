/**
 * A network driver domain and a guest whose nic is served by it (xl's `backend=netdom`),
 * while the guest's disk stays on dom0. dxl creates the driver domain first.
 *
 * @module
 */

import { defineConfig } from "dxl";

export default defineConfig({
  domains: [
    {
      name: "netdom",
      driverDomain: true, // xl's driver_domain=1
      memory: "256M",
      kernel: "/boot/vmlinuz-6.1-xen",
      pci: ["0000:03:00.0"], // the physical nic it drives
    },
    {
      name: "app",
      memory: "1G",
      kernel: "/boot/vmlinuz-6.1-xen",
      disks: ["phy:/dev/vg0/app,xvda,w"],
      nics: [{ backend: "netdom", bridge: "br-app", mac: "00:16:3e:30:00:01" }],
    },
  ],
});
