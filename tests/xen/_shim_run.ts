/**
 * Runs a suite file of tests/xen in the fake Xen host environment: a `deno test` subprocess
 * with `LD_PRELOAD` of ../shared/fakexl (built here with gcc), inside a private mount
 * namespace (`unshare -m`, as root) whose /etc/xen (xl.conf and the stand-in hotplug
 * scripts), /var/lib/xen, /var/run/xen, /var/log/xen and /srv are temp dirs. Skips with one
 * line when something is missing (a failure under CI=true).
 *
 * @module
 */

import assert from "node:assert/strict";
import { REFXS_DIR, refxsUnavailable } from "../_helpers/servers.ts";
import { fromFileUrl, joinPosix } from "../_helpers/paths.ts";
import { exists, mayRun, tryRun } from "./_prereq.ts";
import { buildFakexl, FAKEXL_DIR as FAKEXL } from "../_helpers/fakexl.ts";

const HERE = fromFileUrl(new URL(".", import.meta.url));
const REFXS_HOME = Deno.env.get("REFXS_HOME") ?? joinPosix(REFXS_DIR, ".work");
const ROOT = joinPosix(REFXS_HOME, "root");

async function firstExisting(paths: string[]): Promise<string | undefined> {
  for (const p of paths) if (await exists(p)) return p;
  return undefined;
}

/**
 * The stand-in scripts' hotplug-common.sh with the same log line written in one `write()`:
 * the shared one writes a line in pieces, so two scripts running at once (libxl and dxl run a
 * domain's hotplug scripts concurrently) could interleave their lines.
 */
const ATOMIC_LOG = `log_invocation() {
  line="$(basename "$0") $*"
  for v in XENBUS_PATH XENBUS_TYPE XENBUS_BASE_PATH script vif netdev INTERFACE; do
    eval "val=\\\${$v-}"
    [ -n "$val" ] && line="$line $v=$val"
  done
  printf '%s\\n' "$line" >> "\${GOLDEN_HOTPLUG_LOG:-/tmp/golden-hotplug.log}"
}
`;

interface Setup {
  shim: string;
  xl: string;
  initDom0: string;
  root: string;
}

/** Everything the suite needs, or why it cannot run here. */
async function prepare(): Promise<Setup | string> {
  if (Deno.uid() !== 0) {
    return "needs root: the suite binds temp dirs over /etc/xen, /var/lib/xen, /srv in a private mount namespace";
  }
  const refxs = await refxsUnavailable();
  if (refxs !== undefined) return refxs;
  if (!(await tryRun("unshare", ["--version"])).ok) return "no unshare(1) (util-linux)";
  const bin = "usr/lib/xen-4.17/bin";
  const xl = await firstExisting([`/${bin}/xl`, `${ROOT}/${bin}/xl`]);
  if (xl === undefined) return "no xl 4.17 (apt-get install xen-utils-4.17)";
  const initDom0 = await firstExisting([`/${bin}/xen-init-dom0`, `${ROOT}/${bin}/xen-init-dom0`]);
  if (initDom0 === undefined) return "no xen-init-dom0 (xen-utils-4.17)";
  const lib = "usr/lib/x86_64-linux-gnu";
  const libs = await firstExisting([
    `/${lib}/libxenguest.so.4.17`,
    `${ROOT}/${lib}/libxenguest.so.4.17`,
  ]);
  if (libs === undefined) return "no libxenguest.so.4.17 (apt-get install libxenmisc4.17)";
  const root = await Deno.makeTempDir({ prefix: "dxl-xenhost-", dir: "/tmp" });
  const built = await buildFakexl(root);
  if ("error" in built) {
    await Deno.remove(root, { recursive: true });
    return built.error;
  }
  await Deno.mkdir(`${root}/etc-xen/scripts`, { recursive: true });
  await Deno.writeTextFile(`${root}/etc-xen/xl.conf`, "");
  for await (const e of Deno.readDir(`${FAKEXL}/scripts`)) {
    await Deno.copyFile(`${FAKEXL}/scripts/${e.name}`, `${root}/etc-xen/scripts/${e.name}`);
    await Deno.chmod(`${root}/etc-xen/scripts/${e.name}`, 0o755);
  }
  await Deno.writeTextFile(`${root}/etc-xen/scripts/hotplug-common.sh`, ATOMIC_LOG);
  for (const d of ["var-lib-xen", "run-xen", "log-xen", "srv"]) await Deno.mkdir(`${root}/${d}`);
  return { shim: built.so, xl, initDom0, root };
}

/**
 * Runs `suite` (a file next to this one) under the shim and asserts that exactly `tests`
 * tests passed; `what` names it in the skip line.
 */
export async function runShimSuite(suite: string, tests: number, what: string): Promise<void> {
  const setup = await prepare();
  if (!mayRun(what, typeof setup === "string" ? setup : undefined)) return;
  const { shim, xl, initDom0, root } = setup as Setup;
  try {
    const env: Record<string, string> = {
      LD_PRELOAD: shim,
      LD_LIBRARY_PATH: [
        `${ROOT}/usr/lib/x86_64-linux-gnu`,
        Deno.env.get("LD_LIBRARY_PATH") ?? "",
      ].join(":"),
      PATH: `${Deno.env.get("PATH") ?? "/usr/bin:/bin"}:${ROOT}/usr/bin`,
      PYTHONPATH: `${ROOT}/usr/lib/python3/dist-packages`,
      DXL_REFXS: REFXS_DIR,
      DXL_XL: xl,
      DXL_XEN_INIT_DOM0: initDom0,
      DXL_FAKEBACKEND: `${FAKEXL}/fakebackend.py`,
      NO_COLOR: "1",
    };
    const run = await tryRun("unshare", [
      "-m",
      "bash",
      `${HERE}_host_ns.sh`,
      root,
      Deno.execPath(),
      "test",
      "-A",
      `${HERE}${suite}`,
    ], { env: { ...Deno.env.toObject(), ...env } });
    const output = run.stdout + run.stderr;
    const summary = /(ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/.exec(output);
    assert.ok(run.ok && summary !== null, `the suite failed:\n${output.slice(-12000)}`);
    assert.equal(Number(summary[2]), tests, `every suite test ran:\n${output}`);
    assert.equal(Number(summary[3]), 0);
    if (Deno.env.get("DXL_XEN_VERBOSE") === "1") {
      // deno-lint-ignore no-console
      console.log(output);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}
