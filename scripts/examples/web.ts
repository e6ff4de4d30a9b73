/**
 * A single web server: 512 MiB, two vCPUs, an LVM disk, a data image and one nic.
 *
 * ```sh
 * dxl plan scripts/examples/web.ts
 * dxl apply scripts/examples/web.ts
 * ```
 *
 * @module
 */

import { defineConfig } from "dxl";

export default defineConfig({
  domains: [{
    name: "web",
    memory: "512M",
    vcpus: 2,
    kernel: "/boot/vmlinuz-6.1-xen",
    cmdline: "root=/dev/xvda ro console=hvc0",
    disks: [
      "phy:/dev/vg0/web,xvda,w", // xl's disk spec, as in an xl.cfg
      { target: "/srv/xen/web-data.qcow2", vdev: "xvdb", format: "qcow2" }, // qcow2: qdisk
    ],
    nics: [{ bridge: "xenbr0", mac: "00:16:3e:10:00:01", rate: "100Mb/s" }],
  }],
});
