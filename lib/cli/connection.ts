/**
 * Which xenstore a `dxl` command talks to, and who creates domains there.
 *
 * Order: `--xenstore PATH`, then `$XENSTORED_PATH` (both must answer: naming a socket and
 * silently using another would be wrong), then the standard sockets (`$XENSTORED_RUNDIR/socket`,
 * `/run/xenstored/socket`, `/var/run/xenstored/socket`), then the socket of a `dxl serve`
 * running on this state directory, and when none answers, the embedded xenstored started in
 * this process with its tree in `<state dir>/xenstore.db` (SQLite), a simulated hypervisor and
 * simulated backend drivers.
 *
 * Who creates domains: with `--hypervisor xen`, or on a Xen dom0 (`/dev/xen/privcmd`
 * exists) talking to a xenstored socket, Xen itself through libxenctrl/libxenguest
 * (`XenHypervisor`; `OpenStore.host` then carries what `xl` does besides xenstore); the
 * simulated domain table of the embedded store, `dxl serve` or `--domain-control` otherwise.
 *
 * @module
 */

import { connect, type XenstoreClient } from "../client/mod.ts";
import { socketPaths } from "../client/socket_path.ts";
import { startXenstored, type XenstoredHandle } from "../xenstored/mod.ts";
import { UsageError } from "./errors.ts";
import { err } from "./output.ts";
import { controlCommand } from "./_domain_control.ts";
import { SimulatedDrivers } from "./_drivers.ts";
import { ControlHypervisor, type Hypervisor, SimulatedHypervisor } from "../libxl/mod.ts";
import type { HostOptions } from "../xen/host.ts";
import { PRIVCMD_PATH, xenHostDetected } from "../xen/select.ts";
import { XenHypervisor } from "../xen/xen_hypervisor.ts";
import { XenUnavailableError } from "../xen/errors.ts";

/** Where the connection came from. */
export type StoreSource =
  | { kind: "flag"; path: string }
  | { kind: "env"; path: string }
  | { kind: "standard"; path: string }
  | { kind: "serve"; path: string }
  | { kind: "embedded"; state: string };

/** The hypervisor a command may use to create domains. */
export type HypervisorKind = "simulated" | "xen";

/** Options of {@linkcode openStore}. */
export interface OpenStoreOptions {
  /** `--xenstore`: the only socket to use. @default {the search order} */
  xenstore?: string | undefined;
  /** `--hypervisor`: overrides the choice made from the source. @default {from the source} */
  hypervisor?: HypervisorKind | undefined;
  /**
   * Environment to read `XENSTORED_PATH`, `XENSTORED_RUNDIR`, `XDG_STATE_HOME` and `HOME`
   * from. @default {Deno.env}
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * `--embedded`: use the embedded store even where a xenstored answers (no socket is
   * tried). @default {false}
   */
  embedded?: boolean | undefined;
  /** Skip the standard socket paths (still try `dxl serve`'s). @default {false} */
  noStandard?: boolean;
  /**
   * `--domain-control`: a fake hypervisor's control socket (`create N` / `destroy N`, as
   * `../shared/refxs` has) that the simulated hypervisor drives for a socket xenstore.
   * @default {none}
   */
  domainControl?: string | undefined;
}

/** An open xenstore for one command; dispose it to disconnect (and stop the embedded one). */
export interface OpenStore extends AsyncDisposable {
  /** The connection (privileged: dom0). */
  readonly xs: XenstoreClient;
  /** Where it came from. */
  readonly source: StoreSource;
  /** Which hypervisor kind applies here. */
  readonly hypervisorKind: HypervisorKind;
  /**
   * Creates domains, or `undefined` with {@linkcode OpenStore.noHypervisorReason} when this
   * store has no way to (a real Xen host until dxl binds to the hypervisor).
   */
  readonly hypervisor: Hypervisor | undefined;
  /** Why {@linkcode OpenStore.hypervisor} is `undefined`. */
  readonly noHypervisorReason: string | undefined;
  /**
   * Set when the hypervisor is the real one (Xen through libxenctrl): the options of the
   * steps `xl` takes besides xenstore (lib/xen/host.ts: hotplug scripts, libxl's config
   * file, unpause). `undefined` for the simulated worlds.
   */
  readonly host?: HostOptions | undefined;
  /** One line naming the xenstore in use (printed on stderr). */
  describe(): string;
}

/**
 * `$XDG_STATE_HOME/dxl`, or `$HOME/.local/state/dxl`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stateDir } from "./connection.ts";
 * assert.equal(stateDir({ HOME: "/home/ann" }), "/home/ann/.local/state/dxl");
 * assert.equal(stateDir({ XDG_STATE_HOME: "/s", HOME: "/h" }), "/s/dxl");
 * ```
 */
export function stateDir(env: Readonly<Record<string, string | undefined>> = readEnv()): string {
  const xdg = env["XDG_STATE_HOME"];
  if (xdg) return `${xdg.replace(/\/+$/, "")}/dxl`;
  const home = env["HOME"];
  if (!home) {
    throw new TypeError("Neither XDG_STATE_HOME nor HOME is set: cannot place dxl's state");
  }
  return `${home.replace(/\/+$/, "")}/.local/state/dxl`;
}

/** Files under {@linkcode stateDir}. */
export interface StateFiles {
  /** The SQLite file holding the embedded xenstore's tree. */
  db: string;
  /** The run directory of `dxl serve` (its dom0 socket is `<run>/socket`). */
  run: string;
  /** Held (flock) by whichever process has the embedded store open. */
  lock: string;
}

/**
 * The files under a state directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stateFiles } from "./connection.ts";
 * assert.equal(stateFiles("/s/dxl").db, "/s/dxl/xenstore.db");
 * ```
 */
export function stateFiles(dir: string): StateFiles {
  return { db: `${dir}/xenstore.db`, run: `${dir}/run`, lock: `${dir}/lock` };
}

function readEnv(): Record<string, string | undefined> {
  return Deno.env.toObject();
}

/**
 * Opens the xenstore a command uses (see the module doc for the order).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openStore } from "./connection.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * {
 *   await using store = await openStore({ env: { XDG_STATE_HOME: dir }, embedded: true });
 *   assert.equal(store.source.kind, "embedded");
 *   assert.equal(await store.xs.read("/local/domain/0/name"), "Domain-0");
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openStore(options: OpenStoreOptions = {}): Promise<OpenStore> {
  const env = options.env ?? readEnv();
  if (options.embedded) {
    if (options.xenstore !== undefined) {
      throw new UsageError("--embedded and --xenstore exclude each other");
    }
    return await embeddedStore(stateFiles(stateDir(env)), options.hypervisor);
  }
  if (options.xenstore !== undefined) {
    const xs = await connect({ path: options.xenstore });
    return socketStore(xs, { kind: "flag", path: options.xenstore }, options);
  }
  const envPath = env["XENSTORED_PATH"];
  if (envPath) {
    const xs = await connect({ path: envPath });
    return socketStore(xs, { kind: "env", path: envPath }, options);
  }
  const files = stateFiles(stateDir(env));
  const candidates: StoreSource[] = [];
  if (!options.noStandard) {
    for (const path of socketPaths({ XENSTORED_RUNDIR: env["XENSTORED_RUNDIR"] })) {
      candidates.push({ kind: "standard", path });
    }
  }
  candidates.push({ kind: "serve", path: `${files.run}/socket` });
  for (const source of candidates) {
    if (source.kind !== "standard" && source.kind !== "serve") continue;
    let xs: XenstoreClient;
    try {
      xs = await connect({ path: source.path });
    } catch {
      continue;
    }
    return socketStore(xs, source, options);
  }
  return await embeddedStore(files, options.hypervisor);
}

async function socketStore(
  xs: XenstoreClient,
  source: StoreSource,
  options: OpenStoreOptions,
): Promise<OpenStore> {
  const control = options.domainControl;
  const kind = options.hypervisor ??
    (source.kind === "serve" || control !== undefined ? "simulated" : "xen");
  let hypervisor: Hypervisor | undefined;
  let drivers: SimulatedDrivers | undefined;
  let reason: string | undefined;
  let xen: XenHypervisor | undefined;
  if (kind === "xen") {
    // `--hypervisor xen`, or a Xen dom0 (/dev/xen/privcmd): Xen through libxenctrl. An
    // explicit request that cannot be met is the one error; found by detection, the reason
    // is given when a command needs the hypervisor (reading xenstore needs none).
    try {
      if (options.hypervisor === "xen" || xenHostDetected()) {
        xen = new XenHypervisor(xs);
        hypervisor = xen;
      } else {
        reason = `this is not a Xen dom0 (no ${PRIVCMD_PATH}) and this xenstored has no ` +
          "simulated domain table: run dxl on the Xen host, or use the embedded store, " +
          "`dxl serve` or --domain-control";
      }
    } catch (error) {
      if (!(error instanceof XenUnavailableError) || options.hypervisor === "xen") {
        await xs.close();
        throw error;
      }
      reason = error.message;
    }
  } else if (control !== undefined) {
    // A simulated world on a real daemon (the tests' reference daemons): this process also
    // plays the backend drivers, as the embedded store does.
    try {
      hypervisor = new SimulatedHypervisor(xs, {
        onCreate: async (domid) => void await controlCommand(control, `create ${domid}`),
        onDestroy: async (domid) => void await controlCommand(control, `destroy ${domid}`),
        taken: await existingDomains(xs),
      });
      drivers = await SimulatedDrivers.start(xs);
    } catch (error) {
      await xs.close();
      throw error;
    }
  } else {
    // dxl's embedded xenstored in another process (dxl serve): its domain table, through the
    // embedded-only CONTROL dxl-domain. Other daemons refuse it before anything is written.
    hypervisor = new ControlHypervisor(xs);
  }
  return {
    xs,
    source,
    hypervisorKind: kind,
    hypervisor,
    noHypervisorReason: reason,
    host: xen === undefined ? undefined : { hypervisor: xen },
    describe: () => describeSource(source),
    async [Symbol.asyncDispose]() {
      await drivers?.settle();
      await drivers?.[Symbol.asyncDispose]();
      xen?.close();
      await xs.close();
    },
  };
}

async function embeddedStore(
  files: StateFiles,
  requested: HypervisorKind | undefined,
): Promise<OpenStore> {
  if (requested === "xen") {
    throw new UsageError(
      "--hypervisor xen needs a real xenstored: none answered (give --xenstore PATH)",
    );
  }
  const lock = await lockState(files);
  const cleanup: (() => Promise<void>)[] = [() => Promise.resolve(lock.close())];
  const release = async () => {
    for (const step of cleanup.reverse()) {
      try {
        await step();
      } catch {
        // best effort: keep releasing the rest
      }
    }
  };
  try {
    const runDir = await Deno.makeTempDir({ prefix: "dxl-", dir: "/tmp" });
    cleanup.push(() => Deno.remove(runDir, { recursive: true }));
    const xsd: XenstoredHandle = await startXenstored({
      dir: runDir,
      state: files.db,
      initDom0: true,
    });
    cleanup.push(() => xsd.close());
    const xs = await connect({ path: xsd.socket });
    cleanup.push(() => xs.close());
    const drivers = await SimulatedDrivers.start(xs);
    cleanup.push(async () => {
      // The simulated drivers live only while a dxl process runs: let them finish the
      // handshakes in flight (libxl waits only for InitWait) before they stop.
      await drivers.settle();
      await drivers[Symbol.asyncDispose]();
    });
    await drivers.settle();
    // The embedded xenstored keeps its simulated domain table in the state file.
    const hypervisor = new ControlHypervisor(xs);
    const source: StoreSource = { kind: "embedded", state: files.db };
    return {
      xs,
      source,
      hypervisorKind: "simulated",
      hypervisor,
      noHypervisorReason: undefined,
      describe: () => describeSource(source),
      [Symbol.asyncDispose]: release,
    };
  } catch (error) {
    await release();
    throw error;
  }
}

/** The ids of `/local/domain/<id>` but dom0's: the domains xenstore knows. */
async function existingDomains(xs: XenstoreClient): Promise<number[]> {
  return (await xs.directory("/local/domain").catch(() => [] as string[]))
    .filter((name) => /^[1-9][0-9]*$/.test(name)).map(Number);
}

/**
 * Creates the state directory and takes the exclusive lock on it (`flock` on
 * `<state dir>/lock`), waiting while another process (a `dxl` command or `dxl serve`) has the
 * embedded store open. Closing the returned file releases it (so does the process ending).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lockState, stateFiles } from "./connection.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * const files = stateFiles(dir);
 * const lock = await lockState(files);
 * assert.ok((await Deno.stat(files.lock)).isFile);
 * lock.close(); // released: the next one gets it at once
 * const again = await lockState(files);
 * again.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function lockState(files: StateFiles): Promise<Deno.FsFile> {
  await Deno.mkdir(files.lock.slice(0, files.lock.lastIndexOf("/")), { recursive: true });
  const lock = await Deno.open(files.lock, { create: true, write: true });
  // Say so when another process has the store open (a long `dxl watch`, a `dxl serve`
  // starting): the wait is otherwise silent.
  const waiting = setTimeout(() => {
    err(
      `dxl: waiting for another dxl process using ${files.db} (run \`dxl serve\` to share ` +
        "the store between processes)",
    );
  }, 1000);
  try {
    await lock.lock(true);
  } catch (error) {
    lock.close();
    throw error;
  } finally {
    clearTimeout(waiting);
  }
  return lock;
}

/**
 * The stderr line naming a source.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeSource } from "./connection.ts";
 * assert.equal(
 *   describeSource({ kind: "flag", path: "/tmp/xs/socket" }),
 *   "dxl: xenstore /tmp/xs/socket (--xenstore)",
 * );
 * ```
 */
export function describeSource(source: StoreSource): string {
  switch (source.kind) {
    case "flag":
      return `dxl: xenstore ${source.path} (--xenstore)`;
    case "env":
      return `dxl: xenstore ${source.path} (XENSTORED_PATH)`;
    case "standard":
      return `dxl: xenstore ${source.path}`;
    case "serve":
      return `dxl: xenstore ${source.path} (dxl serve)`;
    case "embedded":
      return `dxl: embedded xenstore, state in ${source.state}`;
  }
}
