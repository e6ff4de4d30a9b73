/**
 * Runs Xen 4.17's own `xl` (Debian's, under `../shared/fakexl`'s LD_PRELOAD stand-in for the
 * hypercalls) against a test xenstore, for tests that compare dxl with the real thing.
 *
 * @module
 */

import { REFXS_DIR } from "../_helpers/servers.ts";
import { joinPosix } from "../_helpers/paths.ts";
import { buildFakexl } from "../_helpers/fakexl.ts";

/** What one `xl` run printed. */
export interface XlRun {
  code: number;
  stdout: string;
  stderr: string;
}

const IN_CI = Deno.env.get("CI") === "true";
let warned = false;
let shim: Promise<{ so: string } | { error: string }> | undefined;

/** fakexl.so built once per test process into a temp dir removed when the process ends. */
function fakexlShim(): Promise<{ so: string } | { error: string }> {
  shim ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "dxl-fakexl-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    return await buildFakexl(dir);
  })();
  return shim;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * A runner for real `xl` (or another Xen 4.17 tool beside it, such as `xen-init-dom0`)
 * talking to the xenstored at `socket`, or `undefined` (after one plain line; a failure
 * under `CI=true`) when it or fakexl is not available here.
 */
export async function realXl(
  socket: string,
  program = "xl",
): Promise<((args: string[]) => Promise<XlRun>) | undefined> {
  const built = await fakexlShim();
  const refxsHome = Deno.env.get("REFXS_HOME") ?? joinPosix(REFXS_DIR, ".work");
  const root = joinPosix(refxsHome, "root");
  let xl = `/usr/lib/xen-4.17/bin/${program}`;
  let libs = "";
  if (!(await exists(xl))) {
    xl = joinPosix(root, `usr/lib/xen-4.17/bin/${program}`);
    libs = `${joinPosix(root, "usr/lib/x86_64-linux-gnu")}:${
      joinPosix(root, "usr/lib/xen-4.17/lib")
    }`;
  }
  if ("error" in built || !(await exists(xl))) {
    const why = "error" in built ? built.error : `no xl binary at ${xl}`;
    if (IN_CI) throw new Error(`CI=true and real xl is unavailable: ${why}`);
    if (!warned) {
      warned = true;
      // deno-lint-ignore no-console
      console.warn(`SKIPPED the comparisons with real xl: ${why}`);
    }
    return undefined;
  }
  const so = built.so;
  const dir = socket.slice(0, socket.lastIndexOf("/"));
  return async (args) => {
    const env: Record<string, string> = {
      LD_PRELOAD: so,
      XENSTORED_PATH: socket,
      FAKEHV_DIR: dir,
    };
    if (libs !== "") env.LD_LIBRARY_PATH = libs;
    const out = await new Deno.Command(xl, {
      args,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
  };
}
