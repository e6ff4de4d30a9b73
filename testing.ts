/**
 * `dxl/testing`: test your domain scripts with `deno test`. {@linkcode testEnv} gives a test a
 * throwaway embedded xenstored with a simulated hypervisor and simulated backends (dom0's and
 * every driver domain's), on which a script is planned, applied and inspected exactly as
 * `dxl apply` would do it on a host.
 *
 * The simulated parts are here too, for tests that drive the library directly:
 * {@linkcode SimulatedHypervisor} (creates, introduces and destroys domains, in an embedded
 * xenstored's domain table when given one), {@linkcode SimulatedBackend} (a backend driver that
 * walks devices through the XenBus states as blkback and netback do, or stays silent, answers
 * late or crashes) and
 * {@linkcode SimulatedFrontend} (the guest's side). The main API (`dxl`, `mod.ts`) holds what a
 * production toolstack uses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { testEnv } from "./testing.ts";
 *
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-" });
 * await Deno.writeTextFile(`${dir}/site.ts`, `
 *   import { defineConfig } from "dxl";
 *   export default defineConfig({
 *     domains: [{ name: "web", memory: "512M", disks: ["phy:/dev/vg0/web,xvda,w"] }],
 *   });`);
 * await using env = await testEnv();
 * const plan = await env.plan(`${dir}/site.ts`);
 * assert.deepEqual(plan.actions.map((a) => `${a.kind} ${a.domain}`), ["create web"]);
 * await env.apply(`${dir}/site.ts`);
 * assert.deepEqual(await env.devices("web"), [
 *   { kind: "vbd", devid: 51712, label: "xvda", backend: "Domain-0", state: "Connected" },
 * ]);
 * assert.match(await env.tree("/libxl"), /\/libxl\/1\/dxl\/managed = "1"/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

// The simulated host: hypervisor, backend and frontend drivers.
export { SimulatedBackend, SimulatedFrontend, SimulatedHypervisor } from "./lib/libxl/mod.ts";
export type {
  BackendBehaviour,
  FrontendBehaviour,
  SimulatedBackendOptions,
  SimulatedDomainTable,
  SimulatedFrontendOptions,
  SimulatedHypervisorOptions,
} from "./lib/libxl/mod.ts";

import { connect } from "./lib/client/mod.ts";
import type { XenstoreClient } from "./lib/client/mod.ts";
import { startXenstored } from "./lib/xenstored/mod.ts";
import type { XenstoredHandle } from "./lib/xenstored/mod.ts";
import { listDevices } from "./lib/libxl/device_list.ts";
import { findDomain } from "./lib/libxl/domain.ts";
import { SimulatedHypervisor } from "./lib/libxl/hypervisor.ts";
import { SimulatedBackend } from "./lib/libxl/sim_backend.ts";
import type { SimulatedBackendOptions } from "./lib/libxl/sim_backend.ts";
import { formatTree } from "./lib/libxl/tree.ts";
import { xenbusStateName } from "./lib/libxl/xenbus_state.ts";
import { apply, destroy } from "./lib/config/apply.ts";
import type { ApplyOptions, ApplyResult } from "./lib/config/apply.ts";
import type { EvaluateOptions } from "./lib/config/evaluate.ts";
import { readLive } from "./lib/config/live.ts";
import { loadConfig } from "./lib/config/load.ts";
import type { NormalizedConfig } from "./lib/config/normalized.ts";
import { plan } from "./lib/config/plan.ts";
import type { Plan, PlanOptions } from "./lib/config/plan.ts";

/** A script path (relative to the working directory), a `file:` URL, or a config value. */
export type ScriptSource = string | URL | NormalizedConfig;

/** A device of a domain as {@linkcode TestEnv.devices} lists it. */
export interface TestDevice {
  /** The frontend kind. */
  kind: string;
  /** The device id. */
  devid: number;
  /** `xvda` for a disk (its `dev`), else `<kind> <devid>`. */
  label: string;
  /** The backend domain's name (`Domain-0` for dom0). */
  backend: string;
  /** The backend's XenBus state name (`Connected`), or `undefined` when it has none. */
  state: string | undefined;
}

/** Options of {@linkcode testEnv}. */
export interface TestEnvOptions {
  /** How the simulated backends behave (`silent`, `late`, `crash`). @default {"normal"} */
  backend?: SimulatedBackendOptions["behaviour"];
  /** Permissions for the scripts the env loads. @default {none} */
  evaluate?: EvaluateOptions;
}

/** The throwaway host {@linkcode testEnv} returns; `await using` tears it down. */
export interface TestEnv extends AsyncDisposable {
  /** A dom0 connection to its xenstored. */
  readonly store: XenstoreClient;
  /** The embedded xenstored. */
  readonly xenstored: XenstoredHandle;
  /** The simulated hypervisor apply creates domains with. */
  readonly hypervisor: SimulatedHypervisor;
  /** Evaluates (with the env's permissions) and validates a script. */
  load(script: ScriptSource): Promise<NormalizedConfig>;
  /** The plan applying `script` now would carry out. */
  plan(script: ScriptSource, options?: PlanOptions): Promise<Plan>;
  /** Applies `script` (backends connect before it returns). */
  apply(
    script: ScriptSource,
    options?: Omit<ApplyOptions, "hypervisor">,
  ): Promise<ApplyResult>;
  /** Destroys the domains `script` declares. */
  destroy(script: ScriptSource, options?: { prune?: boolean }): Promise<ApplyResult>;
  /** The devices of domain `name`, from the `/libxl` registry, with their backend states. */
  devices(name: string): Promise<TestDevice[]>;
  /** The domains dxl created, by name. */
  domains(): Promise<string[]>;
  /** The subtree at `path` as `xenstore-ls -f -p` prints it (for snapshot tests). */
  tree(path?: string): Promise<string>;
}

function scriptPath(script: string | URL): string {
  if (typeof script === "string") return script;
  if (script.protocol !== "file:") throw new TypeError(`not a file: URL: ${script.href}`);
  return decodeURIComponent(script.pathname);
}

/**
 * Starts a throwaway embedded xenstored (dom0 initialised, as on a Xen host) in a temporary
 * folder, with a simulated hypervisor and a simulated backend driver for dom0 and for each
 * driver domain apply creates. Dispose of it (`await using`) to stop everything and remove
 * the folder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { testEnv } from "./testing.ts";
 * import { validateConfig } from "./mod.ts";
 * await using env = await testEnv();
 * await env.apply(validateConfig({ domains: [{ name: "db", nics: [{ mac: "00:16:3e:00:00:09" }] }] }));
 * assert.deepEqual(await env.domains(), ["db"]);
 * ```
 */
export async function testEnv(options: TestEnvOptions = {}): Promise<TestEnv> {
  const dir = await Deno.makeTempDir({ prefix: "dxl-test-env-" });
  const xenstored = await startXenstored({ dir, initDom0: true });
  const store = await connect({ path: xenstored.socket });
  const hypervisor = new SimulatedHypervisor(store, { xenstored });
  const behaviour = options.backend ?? "normal";
  const backends = new Map<number, Promise<SimulatedBackend>>();
  const startBackend = (backendDomid: number) => {
    if (!backends.has(backendDomid)) {
      backends.set(backendDomid, SimulatedBackend.start(store, { backendDomid, behaviour }));
    }
    return backends.get(backendDomid)!;
  };
  await startBackend(0);
  const load = async (script: ScriptSource): Promise<NormalizedConfig> =>
    typeof script === "object" && !(script instanceof URL)
      ? script
      : await loadConfig(scriptPath(script), options.evaluate ?? {});
  const names = async (): Promise<Map<number, string>> =>
    new Map((await readLive(store)).domains.map((d) => [d.domid, d.name ?? `domid ${d.domid}`]));
  return {
    store,
    xenstored,
    hypervisor,
    load,
    async plan(script, planOptions = {}) {
      return plan(await load(script), await readLive(store), planOptions);
    },
    async apply(script, applyOptions = {}) {
      const config = await load(script);
      const drivers = new Set(config.domains.filter((d) => d.driverDomain).map((d) => d.name));
      const pending: Promise<unknown>[] = [];
      const result = await apply(store, config, {
        ...applyOptions,
        hypervisor,
        onProgress: (event) => {
          // A driver domain's backends start as soon as it exists.
          if (event.type === "introduced" && drivers.has(event.domain)) {
            pending.push(startBackend(event.domid));
          }
          applyOptions.onProgress?.(event);
        },
      });
      await Promise.all(pending);
      return result;
    },
    async destroy(script, destroyOptions = {}) {
      return destroy(store, await load(script), { ...destroyOptions, hypervisor });
    },
    async devices(name) {
      const domid = await findDomain(store, name);
      if (domid === undefined) throw new RangeError(`no domain named ${JSON.stringify(name)}`);
      const byId = await names();
      const records = await listDevices(store, domid);
      const out: TestDevice[] = [];
      for (const r of records) {
        if (r.kind === "console" && r.devid === 0) continue;
        const state = r.backendPath === undefined
          ? undefined
          : await store.tryRead(`${r.backendPath}/state`);
        out.push({
          kind: r.kind,
          devid: r.devid,
          label: r.kind === "vbd" && r.keys.dev !== undefined ? r.keys.dev : `${r.kind} ${r.devid}`,
          backend: byId.get(r.backendDomid) ?? `domid ${r.backendDomid}`,
          state: state === undefined ? undefined : xenbusStateName(Number(state)),
        });
      }
      return out;
    },
    async domains() {
      return (await readLive(store)).domains.filter((d) => d.managed && !d.removing)
        .map((d) => d.name ?? `domid ${d.domid}`);
    },
    tree(path = "/") {
      return formatTree(store, path);
    },
    async [Symbol.asyncDispose]() {
      for (const backend of backends.values()) await (await backend)[Symbol.asyncDispose]();
      await store.close();
      await xenstored.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
