/**
 * Choosing the hypervisor: the real one where this is a Xen dom0 (or when asked for), the
 * simulated one elsewhere.
 *
 * @module
 */

import type { DomainIntroducer, Hypervisor } from "../libxl/hypervisor.ts";
import type { XenHypervisorOptions } from "./xen_hypervisor.ts";
import { XenHypervisor } from "./xen_hypervisor.ts";
import { XenUnavailableError } from "./errors.ts";

/** Where a Xen dom0 has the hypercall device. */
export const PRIVCMD_PATH = "/dev/xen/privcmd";

/** Which hypervisor to use: `auto` picks `xen` when {@linkcode PRIVCMD_PATH} exists. */
export type HypervisorKind = "auto" | "xen" | "simulated";

/** `access(path, F_OK) == 0` through libc (FFI is not bound by Deno's guard on /dev). */
function accessByLibc(path: string): boolean {
  const libc = Deno.dlopen(
    "libc.so.6",
    {
      access: { parameters: ["buffer", "i32"], result: "i32" },
    } as const,
  );
  try {
    return libc.symbols.access(new TextEncoder().encode(`${path}\0`), 0) === 0;
  } finally {
    libc.close();
  }
}

/**
 * Whether this machine is a Xen dom0: `/dev/xen/privcmd` (or `path`) exists. Deno lets a
 * process look at device files only with `--allow-all`; without it the check goes through
 * libc's `access()` when `--allow-ffi` is granted (which the real hypervisor needs anyway),
 * and with neither this throws `XenUnavailableError` (missing `privilege`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { xenHostDetected } from "./select.ts";
 * assert.equal(xenHostDetected("/nonexistent/privcmd"), false);
 * ```
 */
export function xenHostDetected(path: string = PRIVCMD_PATH): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return false;
    }
    if (error instanceof Deno.errors.NotCapable) {
      if (Deno.permissions.querySync({ name: "ffi" }).state === "granted") {
        return accessByLibc(path);
      }
      throw new XenUnavailableError(
        `checking ${path} needs Deno's --allow-ffi or --allow-all (Deno guards device files)`,
        { missing: "privilege", cause: error },
      );
    }
    throw error;
  }
}

/** Options of {@linkcode selectHypervisor}. */
export interface SelectHypervisorOptions {
  /** Which one. @default {"auto"} */
  kind?: HypervisorKind;
  /** Makes the simulated hypervisor (the CLI and config layer know its domain table). */
  simulated: () => Hypervisor;
  /** The device whose presence means "Xen dom0". @default {"/dev/xen/privcmd"} */
  privcmdPath?: string;
  /** Options of the real one. @default {{}} */
  xen?: XenHypervisorOptions;
}

/**
 * The hypervisor the CLI and the config layer use: `xen` opens {@linkcode XenHypervisor}
 * (missing libraries or privilege reject with one `XenUnavailableError` naming what is
 * missing), `simulated` calls `simulated()`, and `auto` (the default) is `xen` when
 * `/dev/xen/privcmd` exists and `simulated` otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SimulatedHypervisor } from "../libxl/hypervisor.ts";
 * import { selectHypervisor } from "./select.ts";
 * const xs = { introduce: async () => {}, release: async () => {}, exists: async () => false };
 * const hv = selectHypervisor(xs, {
 *   privcmdPath: "/nonexistent/privcmd",
 *   simulated: () => new SimulatedHypervisor(xs),
 * });
 * assert.ok(hv instanceof SimulatedHypervisor);
 * ```
 */
export function selectHypervisor(
  xs: DomainIntroducer,
  options: SelectHypervisorOptions,
): Hypervisor {
  const kind = options.kind ?? "auto";
  const real = kind === "xen" || (kind === "auto" && xenHostDetected(options.privcmdPath));
  return real ? new XenHypervisor(xs, options.xen ?? {}) : options.simulated();
}
