/**
 * A simulated backend driver for a domain without real ones (the embedded xenstored, tests,
 * the demo): it watches `/local/domain/<backendDomid>/backend` and walks each device through
 * the XenBus states as blkback and netback do.
 *
 * @module
 */

import { delay } from "../client/retry.ts";
import type { Watch } from "../client/types.ts";
import type { DeviceKind } from "./device_kind.ts";
import { checkDomid, parseBackendPath } from "./paths.ts";
import type { LibxlStore } from "./store.ts";
import { switchXenbusState, XenbusState } from "./xenbus_state.ts";

/**
 * How the driver behaves: `normal`; `silent` (never answers anything); `late` (answers after
 * `lateMs` each step); `crash` (answers adds, then dies at the first removal without
 * answering it).
 */
export type BackendBehaviour = "normal" | "silent" | "late" | "crash";

/** Options of {@linkcode SimulatedBackend}. */
export interface SimulatedBackendOptions {
  /** The domain the driver runs in. @default {0} */
  backendDomid?: number;
  /** Serve only these backend kinds. @default {every kind} */
  kinds?: readonly DeviceKind[];
  /** How the driver behaves (see {@linkcode BackendBehaviour}). @default {"normal"} */
  behaviour?: BackendBehaviour;
  /** The delay of `late`, in milliseconds. @default {100} */
  lateMs?: number;
  /** Waits `ms` (injected so tests need not sleep). @default {setTimeout} */
  delay?: (ms: number, signal: AbortSignal) => Promise<void>;
  /**
   * Runs as the hotplug script would, between InitWait and `hotplug-status=connected`
   * (for example writing `physical-device`). @default {nothing}
   */
  hotplug?: (store: LibxlStore, backendPath: string) => Promise<void>;
}

/**
 * The simulated driver. On a new device (`state=1`) it writes `state=2` (InitWait), runs the
 * hotplug step and writes `hotplug-status=connected` when the device has a `script` or a
 * `hotplug-status` key, then `state=4` (Connected). When the toolstack writes `state=5`
 * (Closing) or `online=0` it writes `state=6` (Closed). Only backend paths of exactly the
 * right shape are acted on.
 *
 * @example
 * ```ts ignore
 * import { SimulatedBackend } from "./sim_backend.ts";
 * await using backend = await SimulatedBackend.start(xs);
 * ```
 */
export class SimulatedBackend implements AsyncDisposable {
  readonly #store: LibxlStore;
  readonly #root: string;
  readonly #kinds: ReadonlySet<string> | undefined;
  readonly #behaviour: BackendBehaviour;
  readonly #lateMs: number;
  readonly #delay: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #hotplug: SimulatedBackendOptions["hotplug"];
  readonly #stop = new AbortController();
  #watch: Watch | undefined;
  #loop: Promise<void> = Promise.resolve();
  #crashed = false;
  /** Every error the driver met (it keeps going). */
  readonly errors: unknown[] = [];

  private constructor(store: LibxlStore, options: SimulatedBackendOptions) {
    this.#store = store;
    this.#root = `/local/domain/${
      checkDomid(options.backendDomid ?? 0, { what: "backendDomid" })
    }/backend`;
    this.#kinds = options.kinds === undefined ? undefined : new Set(options.kinds);
    this.#behaviour = options.behaviour ?? "normal";
    this.#lateMs = options.lateMs ?? 100;
    this.#delay = options.delay ?? delay;
    this.#hotplug = options.hotplug;
  }

  /** Starts a driver on `store` and resolves once its watch is registered. */
  static async start(
    store: LibxlStore,
    options: SimulatedBackendOptions = {},
  ): Promise<SimulatedBackend> {
    const backend = new SimulatedBackend(store, options);
    const watch = store.watch(backend.#root, { initial: true });
    backend.#watch = watch;
    await watch.ready;
    backend.#loop = backend.#run(watch);
    return backend;
  }

  /** True once a `crash` driver has died. */
  get crashed(): boolean {
    return this.#crashed;
  }

  async #run(watch: Watch): Promise<void> {
    try {
      for await (const event of watch) {
        if (this.#stop.signal.aborted || this.#crashed) break;
        if (event.kind === "reconnected") {
          await this.#scan();
          continue;
        }
        if (event.initial) {
          await this.#scan();
          continue;
        }
        const device = this.#devicePath(event.path);
        if (device !== undefined) await this.#step(device);
      }
    } catch (error) {
      if (!this.#stop.signal.aborted) this.errors.push(error);
    }
  }

  #devicePath(path: string): string | undefined {
    const parts = path.split("/");
    if (parts.length < 8) return undefined;
    const candidate = parts.slice(0, 8).join("/");
    const parsed = parseBackendPath(candidate);
    if (parsed === undefined || !candidate.startsWith(`${this.#root}/`)) return undefined;
    if (this.#kinds !== undefined && !this.#kinds.has(parsed.backendKind)) return undefined;
    return candidate;
  }

  async #scan(): Promise<void> {
    const list = async (p: string) => {
      try {
        return await this.#store.directory(p);
      } catch {
        return [];
      }
    };
    for (const kind of await list(this.#root)) {
      for (const domid of await list(`${this.#root}/${kind}`)) {
        for (const devid of await list(`${this.#root}/${kind}/${domid}`)) {
          const device = this.#devicePath(`${this.#root}/${kind}/${domid}/${devid}`);
          if (device !== undefined) await this.#step(device, true);
        }
      }
    }
  }

  async #pause(): Promise<void> {
    if (this.#behaviour === "late") await this.#delay(this.#lateMs, this.#stop.signal);
  }

  /**
   * Moves a device on. `resume` (a scan when the driver starts): a device left in InitWait by
   * a driver that stopped mid-handshake (another process) is taken on from there.
   */
  async #step(device: string, resume = false): Promise<void> {
    if (this.#behaviour === "silent" || this.#crashed) return;
    try {
      const state = await this.#store.tryRead(`${device}/state`);
      const online = await this.#store.tryRead(`${device}/online`);
      if (state === String(XenbusState.Closing) || (online === "0" && state !== "6")) {
        if (this.#behaviour === "crash") {
          this.#crashed = true;
          return;
        }
        await this.#pause();
        if (this.#stop.signal.aborted) return;
        await switchXenbusState(this.#store, device, { state: XenbusState.Closed });
        return;
      }
      if (online !== "1") return;
      const resumed = resume && state === String(XenbusState.InitWait);
      if (state !== String(XenbusState.Initialising) && !resumed) return;
      await this.#pause();
      if (this.#stop.signal.aborted) return;
      if (
        !resumed &&
        !(await switchXenbusState(this.#store, device, { state: XenbusState.InitWait }))
      ) return;
      const script = await this.#store.tryRead(`${device}/script`);
      const hotplug = await this.#store.tryRead(`${device}/hotplug-status`);
      if (script !== undefined || hotplug !== undefined) {
        if (this.#hotplug !== undefined) await this.#hotplug(this.#store, device);
        await this.#store.write(`${device}/hotplug-status`, "connected");
      }
      await this.#pause();
      if (this.#stop.signal.aborted) return;
      if ((await this.#store.tryRead(`${device}/state`)) !== String(XenbusState.InitWait)) return;
      await switchXenbusState(this.#store, device, { state: XenbusState.Connected });
    } catch (error) {
      if (!this.#stop.signal.aborted) this.errors.push(error);
    }
  }

  /** Stops the driver: UNWATCH, then waits for the step in progress. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#watch?.close();
    await this.#loop;
  }

  /** Same as {@linkcode SimulatedBackend.stop}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
