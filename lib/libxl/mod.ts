/**
 * dxl's libxl layer: domains and devices laid out in xenstore exactly as libxl lays them
 * out, found and torn down only through the toolstack's own `/libxl` records (XSA-175).
 *
 * Pure parts (paths, kinds, disk names, permission lists, device builders) do no I/O; the
 * operations take a connection (`LibxlStore`, e.g. dxl's `XenstoreClient`) or an open
 * `Transaction`, so they run in their own transaction or in the caller's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import {
 *   destroyDomain, makeDomain, parseDiskSpec, removeDevice, SimulatedBackend,
 *   SimulatedHypervisor, vbd, vif, waitForBackend,
 * } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * await using _driver = await SimulatedBackend.start(xs);
 * const { domid } = await makeDomain(xs, {
 *   hypervisor, name: "web", maxMemKb: 262144,
 *   devices: (d) => [
 *     vbd({ domid: d, ...parseDiskSpec("phy:/dev/vg/web,xvda,w") }),
 *     vif({ domid: d, devid: 0, rate: "10Mb/s" }),
 *   ],
 * });
 * const [disk, nic] = [{ kind: "vbd", devid: 51712 }, { kind: "vif", devid: 0 }] as const;
 * await waitForBackend(xs, vbd({ domid, vdev: "xvda", target: "/dev/vg/web" }));
 * await removeDevice(xs, { domid, ...nic });
 * const { devices } = await destroyDomain(xs, domid, { hypervisor });
 * assert.deepEqual(devices.map((r) => `${r.record.kind}/${r.record.devid}`), [
 *   `${disk.kind}/${disk.devid}`,
 *   "console/0",
 * ]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export * from "./device_kind.ts";
export * from "./paths.ts";
export * from "./vdev.ts";
export * from "./perms.ts";
export * from "./xenbus_state.ts";
export * from "./xenbus_wait.ts";
export * from "./store.ts";
export * from "./device.ts";
export * from "./devices/vbd.ts";
export * from "./disk_spec.ts";
export * from "./devices/vif.ts";
export * from "./rate.ts";
export * from "./devices/console.ts";
export * from "./devices/vkbd.ts";
export * from "./devices/vfb.ts";
export * from "./devices/p9.ts";
export * from "./devices/vtpm.ts";
export * from "./devices/vusb.ts";
export * from "./devices/vdispl.ts";
export * from "./devices/vsnd.ts";
export * from "./devices/pci.ts";
export * from "./device_add.ts";
export * from "./device_list.ts";
export * from "./device_remove.ts";
export * from "./domain.ts";
export * from "./domain_destroy.ts";
export * from "./domain_control.ts";
export * from "./domain_resources.ts";
export * from "./cdrom.ts";
export * from "./lookup.ts";
export * from "./hypervisor.ts";
export * from "./control_hypervisor.ts";
export * from "./sim_backend.ts";
export * from "./sim_frontend.ts";
export * from "./tree.ts";
export * from "./doctor.ts";
