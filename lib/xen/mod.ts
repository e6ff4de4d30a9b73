/**
 * Running beside `xl` on a real Xen host: the hypervisor through libxenctrl/libxenguest
 * (`Deno.dlopen`), hotplug scripts as libxl runs them, and libxl's domain config file.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { hotplugCommands, xenHostDetected } from "./mod.ts";
 * assert.equal(xenHostDetected("/nonexistent/xen/privcmd"), false);
 * const ops = { tryRead: (p: string) => Promise.resolve(p.endsWith("/script") ? "/bin/true" : undefined) };
 * const runs = await hotplugCommands(ops, {
 *   domid: 1, kind: "vbd", devid: 51712, backendDomid: 0, backendKind: "vbd",
 *   backendPath: "/local/domain/0/backend/vbd/1/51712",
 * }, "remove");
 * assert.deepEqual(runs.map((r) => r.args), [["remove"]]);
 * ```
 *
 * @module
 */

export * from "./autoballoon.ts";
export * from "./domid_history.ts";
export * from "./errors.ts";
export * from "./host.ts";
export * from "./host_memory.ts";
export * from "./hotplug.ts";
export * from "./libxl_config.ts";
export * from "./select.ts";
export * from "./userdata.ts";
export * from "./xen_hypervisor.ts";
