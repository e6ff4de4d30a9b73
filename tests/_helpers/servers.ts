/**
 * Starts the xenstore servers a suite runs against: the real C xenstored and oxenstored
 * (through `../shared/refxs`, Debian's unmodified Xen 4.17 daemons) and dxl's embedded
 * xenstored. One suite, every server: {@linkcode forEachServer}.
 *
 * When a real daemon cannot be started the suite says so plainly and skips it; under
 * `CI=true` an unavailable server is a failure instead.
 *
 * @module
 */

import { startXenstored } from "../../lib/xenstored/mod.ts";
import { fromFileUrl, joinPosix } from "./paths.ts";

/** The servers a suite can run against. */
export type ServerKind = "c" | "ocaml" | "embedded";

/** A running xenstore server for one test. */
export interface TestServer extends AsyncDisposable {
  /** Which implementation this is. */
  readonly kind: ServerKind;
  /** Its dom0 Unix socket: every connection on it is privileged dom0. */
  readonly socket: string;
  /** The run directory (sockets, logs). */
  readonly dir: string;
  /**
   * Makes domain `domid` exist, gives it `/local/domain/<domid>` (owned by it, readable by
   * dom0), INTRODUCEs it, and returns a Unix socket whose connection *is* that unprivileged
   * guest. Use a fresh domid per guest session: the real daemons' guest ring keeps state.
   */
  guest(domid: number): Promise<string>;
  /**
   * Makes domain `domid` exist in the server's stand-in hypervisor, as a real hypervisor's
   * create would, without touching xenstore (a toolstack then writes and INTRODUCEs it).
   */
  createDomain(domid: number): Promise<void>;
  /** Makes domain `domid` vanish as the hypervisor would (fires `@releaseDomain`). */
  destroyDomain(domid: number): Promise<void>;
}

/** Where `../shared/refxs` lives: `$DXL_REFXS`, or `shared/refxs` beside the repository. */
export const REFXS_DIR: string = Deno.env.get("DXL_REFXS") ??
  joinPosix(fromFileUrl(new URL("../../../shared/refxs", import.meta.url)));

/** Why a real daemon cannot be started here, or `undefined` when it can. */
export async function refxsUnavailable(): Promise<string | undefined> {
  try {
    await Deno.stat(joinPosix(REFXS_DIR, "start.sh"));
  } catch {
    return `the reference daemons are missing: no ${REFXS_DIR}/start.sh (set DXL_REFXS)`;
  }
  const home = Deno.env.get("REFXS_HOME") ?? joinPosix(REFXS_DIR, ".work");
  const candidates = [home, joinPosix(Deno.env.get("HOME") ?? "/root", ".cache/refxs")];
  for (const dir of candidates) {
    try {
      await Deno.stat(joinPosix(dir, "fakehv.so"));
      return undefined;
    } catch {
      // try the next place setup.sh may have used
    }
  }
  return `the reference daemons are not set up: run ${REFXS_DIR}/setup.sh (needs apt-get)`;
}

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr);
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${out.code}): ${err}${text}`);
  }
  return text.trim();
}

/** One line to the control socket of a `../shared/refxs` run dir `dir`; its `OK …` answer. */
export async function refxsCtl(dir: string, command: string): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path: joinPosix(dir, "ctl") });
  try {
    await conn.write(new TextEncoder().encode(`${command}\n`));
    const buf = new Uint8Array(4096);
    let text = "";
    while (!text.includes("\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    if (!text.startsWith("OK")) throw new Error(`ctl ${command}: ${text.trim()}`);
    return text.trim();
  } finally {
    conn.close();
  }
}

async function startReal(kind: "c" | "ocaml"): Promise<TestServer> {
  const dir = await Deno.makeTempDir({ prefix: `dxl-${kind}-`, dir: "/tmp" });
  await run("bash", [joinPosix(REFXS_DIR, "start.sh"), kind, dir]);
  const refxs = joinPosix(REFXS_DIR, "refxs.py");
  return {
    kind,
    socket: joinPosix(dir, "socket"),
    dir,
    guest: (domid) => run("python3", [refxs, dir, "guest", String(domid)]),
    createDomain: async (domid) => void await refxsCtl(dir, `create ${domid}`),
    destroyDomain: async (domid) => {
      await run("python3", [refxs, dir, "destroy", String(domid)]);
    },
    async [Symbol.asyncDispose]() {
      await run("bash", [joinPosix(REFXS_DIR, "stop.sh"), dir]);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function startEmbedded(): Promise<TestServer> {
  const dir = await Deno.makeTempDir({ prefix: "dxl-embedded-", dir: "/tmp" });
  const xs = await startXenstored({ dir });
  return {
    kind: "embedded",
    socket: xs.socket,
    dir,
    guest: (domid) => xs.guest(domid),
    createDomain: (domid) => Promise.resolve(xs.createDomain(domid)),
    destroyDomain: (domid) => xs.destroyDomain(domid),
    async [Symbol.asyncDispose]() {
      await xs.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Starts one server of the given kind. */
export function startServer(kind: ServerKind): Promise<TestServer> {
  switch (kind) {
    case "c":
    case "ocaml":
      return startReal(kind);
    case "embedded":
      return startEmbedded();
  }
}

/** The kinds {@linkcode forEachServer} runs by default: `$DXL_SERVERS` (comma-separated) or all. */
export function defaultKinds(): ServerKind[] {
  const env = Deno.env.get("DXL_SERVERS");
  const all: ServerKind[] = ["embedded", "c", "ocaml"];
  if (!env) return all;
  return env.split(",").map((s) => s.trim()).filter((s): s is ServerKind =>
    (all as string[]).includes(s)
  );
}

const IN_CI = Deno.env.get("CI") === "true";
const reported = new Set<string>();

/** Options of {@linkcode forEachServer}. */
export interface ForEachServerOptions {
  /** Which servers to run against. @default {defaultKinds()} */
  kinds?: ServerKind[];
}

/**
 * Registers one `Deno.test` per server kind, named `"<name> [<kind>]"`. Each test starts its
 * own server, runs `fn` and stops the server. A server that cannot run here is skipped with a
 * plain message (and fails the test under `CI=true`).
 */
export function forEachServer(
  name: string,
  fn: (t: Deno.TestContext, server: TestServer) => Promise<void>,
  options: ForEachServerOptions = {},
): void {
  for (const kind of options.kinds ?? defaultKinds()) {
    Deno.test(`${name} [${kind}]`, async (t) => {
      const reason = await unavailable(kind);
      if (reason !== undefined) {
        if (IN_CI) throw new Error(`CI=true and the ${kind} server is unavailable: ${reason}`);
        if (!reported.has(kind)) {
          reported.add(kind);
          // deno-lint-ignore no-console
          console.warn(`SKIPPED every test against the ${kind} server: ${reason}`);
        }
        return;
      }
      await using server = await startServer(kind);
      await fn(t, server);
    });
  }
}

async function unavailable(kind: ServerKind): Promise<string | undefined> {
  if (kind === "embedded") return undefined;
  return await refxsUnavailable();
}
