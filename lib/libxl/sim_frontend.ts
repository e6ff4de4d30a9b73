/**
 * A simulated guest frontend: given a connection that is the guest (or dom0 acting for it),
 * it follows each of one device's backend through the XenBus handshake as a PV driver does.
 *
 * @module
 */

import { delay } from "../client/retry.ts";
import type { Watch } from "../client/types.ts";
import type { DeviceRef } from "./device_add.ts";
import { frontendPath, parseBackendPath } from "./paths.ts";
import type { LibxlStore } from "./store.ts";
import { parseXenbusState, switchXenbusState, XenbusState } from "./xenbus_state.ts";

/** How the frontend behaves: the same modes as the simulated backend driver. */
export type FrontendBehaviour = "normal" | "silent" | "late" | "crash";

/** Options of {@linkcode SimulatedFrontend}. */
export interface SimulatedFrontendOptions {
  /** How the frontend behaves (see {@linkcode FrontendBehaviour}). @default {"normal"} */
  behaviour?: FrontendBehaviour;
  /** The delay of `late`, in milliseconds. @default {100} */
  lateMs?: number;
  /** Waits `ms` (injected so tests need not sleep). @default {setTimeout} */
  delay?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * One device's frontend. It reads its `backend` pointer (checked to be a backend path for
 * this very device), watches the backend's `state`, and answers: InitWait → writes
 * `ring-ref`, `event-channel` and `state=3` (Initialised); Connected → `state=4`; Closing →
 * `state=5`, then `state=6` (Closed). `crash` stops answering at the first Closing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { vif } from "./devices/vif.ts";
 * import { makeDomain } from "./domain_create.ts";
 * import { SimulatedHypervisor } from "./hypervisor.ts";
 * import { SimulatedBackend } from "./sim_backend.ts";
 * import { SimulatedFrontend } from "./sim_frontend.ts";
 * import { XenbusState } from "./xenbus_state.ts";
 * import { waitForXenbusState } from "./xenbus_wait.ts";
 *
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, {
 *   hypervisor, name: "web", maxMemKb: 65536,
 *   devices: (d) => [vif({ domid: d, devid: 0 })],
 * });
 * await using guest = await connect({ path: xsd.domainSocket(domid) }); // the guest itself
 * await using _fe = await SimulatedFrontend.start(guest, { domid, kind: "vif", devid: 0 });
 * await using _be = await SimulatedBackend.start(xs);
 * const state = await waitForXenbusState(xs, `/local/domain/${domid}/device/vif/0/state`, {
 *   state: XenbusState.Initialised,
 *   alsoAccept: [XenbusState.Connected],
 * });
 * assert.ok(state >= XenbusState.Initialised);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class SimulatedFrontend implements AsyncDisposable {
  readonly #store: LibxlStore;
  readonly #dir: string;
  readonly #behaviour: FrontendBehaviour;
  readonly #lateMs: number;
  readonly #delay: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #stop = new AbortController();
  #watch: Watch | undefined;
  #loop: Promise<void> = Promise.resolve();
  /** Every error the frontend met. */
  readonly errors: unknown[] = [];

  private constructor(store: LibxlStore, device: DeviceRef, options: SimulatedFrontendOptions) {
    this.#store = store;
    this.#dir = frontendPath(device);
    this.#behaviour = options.behaviour ?? "normal";
    this.#lateMs = options.lateMs ?? 100;
    this.#delay = options.delay ?? delay;
  }

  /**
   * Starts the frontend of `device`; rejects if its `backend` pointer is missing or is not a
   * backend path for this device.
   */
  static async start(
    store: LibxlStore,
    device: DeviceRef,
    options: SimulatedFrontendOptions = {},
  ): Promise<SimulatedFrontend> {
    const fe = new SimulatedFrontend(store, device, options);
    const backend = await store.read(`${fe.#dir}/backend`);
    const parsed = parseBackendPath(backend);
    if (parsed === undefined || parsed.domid !== device.domid || parsed.devid !== device.devid) {
      throw new TypeError(`${fe.#dir}/backend is not a backend path for this device: ${backend}`);
    }
    const watch = store.watch(`${backend}/state`, { initial: true });
    fe.#watch = watch;
    await watch.ready;
    fe.#loop = fe.#run(watch, `${backend}/state`);
    return fe;
  }

  async #run(watch: Watch, statePath: string): Promise<void> {
    try {
      for await (const _ of watch) {
        if (this.#stop.signal.aborted) break;
        if (this.#behaviour === "silent") continue;
        const state = parseXenbusState(await this.#store.tryRead(statePath));
        if (state === undefined) continue;
        if (state === XenbusState.Closing && this.#behaviour === "crash") break;
        if (this.#behaviour === "late") await this.#delay(this.#lateMs, this.#stop.signal);
        if (this.#stop.signal.aborted) break;
        await this.#answer(state);
      }
    } catch (error) {
      if (!this.#stop.signal.aborted) this.errors.push(error);
    }
  }

  async #answer(backendState: XenbusState): Promise<void> {
    let mine = parseXenbusState(await this.#store.tryRead(`${this.#dir}/state`));
    const set = (s: XenbusState) => switchXenbusState(this.#store, this.#dir, { state: s });
    const ready = backendState === XenbusState.InitWait || backendState === XenbusState.Connected;
    if (ready && mine === XenbusState.Initialising) {
      // Publish the rings first, even when it first sees a backend already Connected.
      await this.#store.write(`${this.#dir}/ring-ref`, "8");
      await this.#store.write(`${this.#dir}/event-channel`, "9");
      await set(XenbusState.Initialised);
      mine = XenbusState.Initialised;
    }
    if (backendState === XenbusState.Connected && mine !== XenbusState.Connected) {
      await set(XenbusState.Connected);
    } else if (backendState === XenbusState.Closing && mine !== XenbusState.Closed) {
      await set(XenbusState.Closing);
      await set(XenbusState.Closed);
    }
  }

  /** Stops following the backend. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#watch?.close();
    await this.#loop;
  }

  /** Same as {@linkcode SimulatedFrontend.stop}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
