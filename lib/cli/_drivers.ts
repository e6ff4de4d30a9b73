/**
 * The simulated backend drivers of a simulated world (the embedded store, `dxl serve`, the
 * tests' reference daemons): one {@linkcode SimulatedBackend} for dom0 and one for every
 * other domain (a driver domain serves the backends under its own `/local/domain/<id>/backend`),
 * started as domains are introduced and stopped as they go.
 *
 * @module
 */

import type { XenstoreClient } from "../client/mod.ts";
import { SimulatedBackend } from "../libxl/mod.ts";

/** The ids of dom0 and of every `/local/domain/<id>`. */
async function domainIds(xs: XenstoreClient): Promise<number[]> {
  const names = await xs.directory("/local/domain").catch(() => [] as string[]);
  const ids = new Set([0, ...names.filter((n) => /^(0|[1-9][0-9]*)$/.test(n)).map(Number)]);
  return [...ids].sort((a, b) => a - b);
}

/**
 * Backend drivers for every domain, following `@introduceDomain` and `@releaseDomain`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { SimulatedDrivers } from "./_drivers.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * {
 *   await using xsd = await startXenstored({ dir, initDom0: true });
 *   await using xs = await connect({ path: xsd.socket });
 *   await using drivers = await SimulatedDrivers.start(xs);
 *   assert.deepEqual(drivers.domains, [0]);
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class SimulatedDrivers implements AsyncDisposable {
  readonly #xs: XenstoreClient;
  readonly #backends = new Map<number, SimulatedBackend>();
  readonly #stop = new AbortController();
  #loop: Promise<void> = Promise.resolve();
  #sync: Promise<void> = Promise.resolve();

  private constructor(xs: XenstoreClient) {
    this.#xs = xs;
  }

  /** Starts drivers for the domains that exist, then follows domains coming and going. */
  static async start(xs: XenstoreClient): Promise<SimulatedDrivers> {
    const drivers = new SimulatedDrivers(xs);
    await drivers.#resync();
    const watches = ["@introduceDomain", "@releaseDomain"].map((path) =>
      xs.watch(path, { initial: false, signal: drivers.#stop.signal })
    );
    await Promise.all(watches.map((w) => w.ready));
    drivers.#loop = Promise.all(watches.map(async (watch) => {
      try {
        for await (const _event of watch) await drivers.#resync();
      } catch {
        // the connection closed or the drivers stopped
      }
    })).then(() => {});
    return drivers;
  }

  /** The domains a driver runs for. */
  get domains(): number[] {
    return [...this.#backends.keys()].sort((a, b) => a - b);
  }

  #resync(): Promise<void> {
    this.#sync = this.#sync.then(async () => {
      if (this.#stop.signal.aborted) return;
      const ids = await domainIds(this.#xs);
      for (const id of ids) {
        if (!this.#backends.has(id)) {
          this.#backends.set(id, await SimulatedBackend.start(this.#xs, { backendDomid: id }));
        }
      }
      for (const [id, backend] of this.#backends) {
        if (!ids.includes(id)) {
          this.#backends.delete(id);
          await backend.stop();
        }
      }
    }).catch(() => {});
    return this.#sync;
  }

  /**
   * Waits (at most `timeoutMs`) until no online backend of any domain is still Initialising
   * or in InitWait, and none is Closing: the handshakes in flight have finished.
   */
  async settle(timeoutMs = 3000): Promise<void> {
    const xs = this.#xs;
    const list = (path: string) => xs.directory(path).catch(() => [] as string[]);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await this.#sync;
      let busy = false;
      for (const id of this.domains) {
        const root = `/local/domain/${id}/backend`;
        for (const kind of await list(root)) {
          for (const domid of await list(`${root}/${kind}`)) {
            for (const devid of await list(`${root}/${kind}/${domid}`)) {
              const device = `${root}/${kind}/${domid}/${devid}`;
              const [state, online] = await Promise.all([
                xs.tryRead(`${device}/state`).catch(() => undefined),
                xs.tryRead(`${device}/online`).catch(() => undefined),
              ]);
              if (state === "5" || (online === "1" && (state === "1" || state === "2"))) {
                busy = true;
              }
            }
          }
        }
      }
      if (!busy) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops following domains and stops every driver. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    await this.#sync;
    for (const backend of this.#backends.values()) await backend.stop();
    this.#backends.clear();
  }
}
