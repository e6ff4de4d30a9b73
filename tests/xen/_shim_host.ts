/**
 * One fake Xen host for the suite in `_shim_suite.ts` (run by real_host_test.ts inside a
 * private mount namespace with `LD_PRELOAD` of fakexl): a reference C xenstored whose
 * domain table the shim shares, dom0's keys from the real `xen-init-dom0`, and
 * `fakebackend.py` playing blkback/netback/xenconsoled. Real `xl` runs against the same.
 *
 * @module
 */

import assert from "node:assert/strict";
import { tryRun } from "./_prereq.ts";
import { refxsCtl } from "../_helpers/servers.ts";

/** What real_host_test.ts passes in the environment. */
export const ENV = {
  refxs: Deno.env.get("DXL_REFXS") ?? "",
  xl: Deno.env.get("DXL_XL") ?? "",
  initDom0: Deno.env.get("DXL_XEN_INIT_DOM0") ?? "",
  fakebackend: Deno.env.get("DXL_FAKEBACKEND") ?? "",
};

/** Polls `read` until it yields a value other than undefined (or throws after `ms`). */
export async function waitFor<T>(
  read: () => Promise<T | undefined>,
  what: string,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A running fake host. */
export interface ShimHost extends AsyncDisposable {
  /** The xenstored run directory (FAKEHV_DIR). */
  dir: string;
  /** Its dom0 socket. */
  socket: string;
  /** Runs real `xl` (under the same shim and store); rejects unless it exits 0. */
  xl(...args: string[]): Promise<string>;
  /** Runs real `xl` and returns its status and output whatever it is. */
  xlStatus(...args: string[]): Promise<{ ok: boolean; output: string }>;
  /** The refxs control socket's `list` answer, e.g. `OK 0 1:mapped`. */
  ctlList(): Promise<string>;
  /** The hotplug scripts' invocation log (fakexl stand-ins), one line each. */
  hotplugLog(): Promise<string[]>;
}

/** Empties a directory (the namespace's /var/lib/xen between tests). */
async function empty(dir: string): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    await Deno.remove(`${dir}/${entry.name}`, { recursive: true });
  }
}

/**
 * Starts a fresh host: new xenstored dir (domids and event channel ports start at 1 again),
 * FAKEHV_DIR / XENSTORED_PATH pointed at it for this process and its children, an empty
 * /var/lib/xen, dom0 initialised, fakebackend running.
 */
export async function startShimHost(): Promise<ShimHost> {
  const dir = await Deno.makeTempDir({ prefix: "dxl-xh-", dir: "/tmp" });
  const started = await tryRun("bash", [`${ENV.refxs}/start.sh`, "c", dir]);
  assert.ok(started.ok, `refxs start.sh failed: ${started.stderr}${started.stdout}`);
  const socket = `${dir}/socket`;
  const hotplugLog = `${dir}/hotplug.log`;
  Deno.env.set("FAKEHV_DIR", dir);
  Deno.env.set("XENSTORED_PATH", socket);
  Deno.env.set("GOLDEN_HOTPLUG_LOG", hotplugLog);
  Deno.env.delete("FAKEXL_FAIL_BUILD");
  Deno.env.delete("FAKEXL_LOG");
  await empty("/var/lib/xen");
  const init = await tryRun(ENV.initDom0, []);
  assert.ok(init.ok, `xen-init-dom0 failed: ${init.stderr}`);
  const backend = new Deno.Command("python3", {
    args: [ENV.fakebackend, socket, `${dir}/fakebackend.log`],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  await waitFor(async () => {
    const log = await Deno.readTextFile(`${dir}/fakebackend.log`).catch(() => "");
    return log.includes("watching") ? true : undefined;
  }, "fakebackend to watch the store");
  const xlStatus = async (...args: string[]) => {
    const r = await tryRun(ENV.xl, args);
    return { ok: r.ok, output: r.stdout + r.stderr };
  };
  return {
    dir,
    socket,
    xlStatus,
    async xl(...args: string[]) {
      const r = await xlStatus(...args);
      assert.ok(r.ok, `xl ${args.join(" ")} failed: ${r.output}`);
      return r.output;
    },
    ctlList: () => refxsCtl(dir, "list"),
    async hotplugLog() {
      const text = await Deno.readTextFile(hotplugLog).catch(() => "");
      return text.split("\n").filter((l) => l !== "");
    },
    async [Symbol.asyncDispose]() {
      try {
        backend.kill("SIGTERM");
      } catch {
        // already gone
      }
      await backend.stderr.cancel();
      await backend.status;
      await tryRun("bash", [`${ENV.refxs}/stop.sh`, dir]);
      await Deno.remove(dir, { recursive: true });
    },
  };
}
