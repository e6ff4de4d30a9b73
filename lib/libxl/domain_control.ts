/**
 * The PV control protocol (`xl shutdown`, `xl reboot`, `xl sysrq`): requests written to the
 * guest's `~/control/shutdown` and `~/control/sysrq`, and the wait for the guest to
 * acknowledge (`libxl__domain_pvcontrol` in `libxl_domain.c`, `libxl_send_sysrq` in
 * `libxl.c`, the suspend acknowledgement of `libxl_dom_suspend.c`; Xen 4.17).
 *
 * @module
 */

import { ControlTimeoutError, DomainNotFoundError, NoParavirtError } from "./errors.ts";
import { checkDomid, domainPath, libxlDomainPath } from "./paths.ts";
import type { LibxlStore, Target, TransactionalOptions } from "./store.ts";
import { inTransaction } from "./store.ts";
import { waitForNode } from "./_wait_node.ts";

/** What `~/control/shutdown` asks of the guest. */
export type ShutdownRequest = "poweroff" | "reboot" | "suspend" | "halt";

const REQUESTS: readonly ShutdownRequest[] = ["poweroff", "reboot", "suspend", "halt"];

/** The `control/feature-*` node a guest's PV drivers set to 1 for each request. */
const FEATURE: Record<ShutdownRequest, string> = {
  poweroff: "feature-poweroff",
  halt: "feature-poweroff", // Linux handles "halt" with its poweroff handler
  reboot: "feature-reboot",
  suspend: "feature-suspend",
};

/** Options of {@linkcode shutdownDomain}. */
export interface ShutdownOptions {
  /** The request. @default {"poweroff"} */
  request?: ShutdownRequest;
  /**
   * Whether the guest's PV drivers answer control requests. libxl always sends them to PV
   * and PVH guests, and to an HVM guest only when its PV drivers are up (it asks the
   * hypervisor for `HVM_PARAM_CALLBACK_IRQ`); without that, dxl takes the guest's
   * `control/feature-<request>` = `1` (which Linux's drivers write) as the sign.
   * @default {true for pv and pvh; for hvm, control/feature-<request> is "1"}
   */
  pvDrivers?: boolean;
  /**
   * Wait for the guest's acknowledgement: `control/shutdown` cleared (for `suspend`: any
   * value but `suspend`). libxl waits 60 s.
   * @default {true}
   */
  wait?: boolean;
  /** Give up waiting after this many milliseconds. @default {60000} */
  timeoutMs?: number;
  /** Stops waiting (rejects with `ControlTimeoutError`, its `cause` the reason). */
  signal?: AbortSignal;
  /** Waits `ms` or until `signal` aborts (injected so tests need not sleep). @default {setTimeout} */
  delay?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The clock used to report the time waited. @default {performance.now} */
  now?: () => number;
}

/** The domain's type from its `/libxl` record; DomainNotFoundError without one. */
async function libxlType(store: LibxlStore, domid: number): Promise<string> {
  const type = await store.tryRead(`${libxlDomainPath(domid)}/type`);
  if (type === undefined && (await store.tryRead(libxlDomainPath(domid))) === undefined) {
    throw new DomainNotFoundError(domid);
  }
  return type ?? "pv";
}

/**
 * Asks a guest to power off, reboot, suspend or halt, as `xl shutdown` / `xl reboot` do
 * (`libxl_domain_shutdown`, `libxl_domain_reboot`, `libxl__domain_pvcontrol`): checks that
 * the guest has a PV control interface (else {@linkcode NoParavirtError}, libxl's
 * `ERROR_NOPARAVIRT`, where xl suggests `-F`), writes the request to `~/control/shutdown`
 * outside any transaction (the node keeps the permissions domain creation gave it: owned by
 * the guest), then waits for the guest to acknowledge by clearing it. When the guest does
 * not, it rejects with {@linkcode ControlTimeoutError} and leaves the request in place — except
 * for `suspend`, which (as libxl does) is cancelled by clearing the node in a transaction
 * unless the guest acknowledged at the last moment. Takes a connection, not a transaction:
 * the wait needs a watch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { shutdownDomain } from "./domain_control.ts";
 * import { makeDomain } from "./domain_create.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 *
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536 });
 * await shutdownDomain(xs, domid, { request: "reboot", wait: false });
 * assert.equal(await xs.read(`/local/domain/${domid}/control/shutdown`), "reboot");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function shutdownDomain(
  store: LibxlStore,
  domid: number,
  options: ShutdownOptions = {},
): Promise<void> {
  checkDomid(domid);
  const request = options.request ?? "poweroff";
  if (!REQUESTS.includes(request)) {
    throw new TypeError(
      `request must be one of ${REQUESTS.map((r) => `"${r}"`).join(", ")}, got ${
        JSON.stringify(request)
      }`,
    );
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new RangeError(`timeoutMs must be a non-negative number, got ${timeoutMs}`);
  }
  const type = await libxlType(store, domid);
  const control = `${domainPath(domid)}/control`;
  let available = options.pvDrivers;
  let why = "the caller says the guest has no PV drivers";
  if (available === undefined) {
    if (type === "hvm") {
      const feature = await store.tryRead(`${control}/${FEATURE[request]}`);
      available = feature === "1";
      why = `an HVM guest without PV drivers: control/${FEATURE[request]} is ${
        feature === undefined ? "missing" : JSON.stringify(feature)
      }`;
    } else {
      available = true;
    }
  }
  if (!available) throw new NoParavirtError(domid, request, why);
  const path = `${control}/shutdown`;
  await store.write(path, request);
  if (options.wait === false) return;
  // pvcontrol_acked: cleared or removed; domain_suspend_pvcontrol_acked: anything but "suspend".
  const acked = request === "suspend"
    ? (v: string | undefined) => v !== "suspend" || undefined
    : (v: string | undefined) => v === undefined || v === "" || undefined;
  try {
    await waitForNode(
      store,
      path,
      acked,
      {
        timeoutMs,
        signal: options.signal,
        delay: options.delay,
        now: options.now,
      },
      (ended) =>
        new ControlTimeoutError(domid, request, {
          waitedMs: ended.waitedMs,
          value: ended.last,
          cause: ended.cause,
        }),
    );
  } catch (error) {
    if (!(error instanceof ControlTimeoutError) || request !== "suspend") throw error;
    // Cancel the suspend request, unless the guest acknowledged it at the last minute.
    const late = await store.transaction(async (tx) => {
      const state = await tx.tryRead(path);
      if (state !== "suspend") return true;
      await tx.write(path, "");
      return false;
    });
    if (!late) throw error;
  }
}

/** Options of {@linkcode sendSysrq}. */
export interface SysrqOptions extends TransactionalOptions {
  /** The SysRq key: one character (`b` reboot, `s` sync, `h` help, ...). */
  key: string;
}

/**
 * Sends a SysRq key to the guest, as `xl sysrq` (`libxl_send_sysrq`): writes the one
 * character to `~/control/sysrq` (created at domain creation, owned by the guest, which
 * clears it). Runs in the caller's transaction or its own, which also checks that the domain
 * has a `/libxl` record ({@linkcode DomainNotFoundError}). A key that is not exactly one
 * printable character is refused, as xl refuses it ("Only one sysrq letter allowed").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { sendSysrq } from "./domain_control.ts";
 * import { makeDomain } from "./domain_create.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 *
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536 });
 * await sendSysrq(xs, domid, { key: "s" });
 * assert.equal(await xs.read(`/local/domain/${domid}/control/sysrq`), "s");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function sendSysrq(target: Target, domid: number, options: SysrqOptions): Promise<void> {
  checkDomid(domid);
  const key = options?.key;
  if (typeof key !== "string" || !/^[\x21-\x7e]$/.test(key)) {
    throw new TypeError(
      `a sysrq key is one printable character (xl: "Only one sysrq letter allowed"), got ${
        JSON.stringify(key)
      }`,
    );
  }
  return inTransaction(target, async (tx) => {
    if ((await tx.tryRead(libxlDomainPath(domid))) === undefined) {
      throw new DomainNotFoundError(domid);
    }
    await tx.write(`${domainPath(domid)}/control/sysrq`, key);
  }, options);
}
