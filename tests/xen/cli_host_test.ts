/**
 * The real hypervisor wired into the CLI and the config layer: `dxl apply`, `dxl list` and
 * `dxl destroy` with `--hypervisor xen` through the entry point on a fake Xen host (the
 * suite `_cli_suite.ts` under the fakexl shim, real `xl` beside it; root needed, skipped
 * with one line otherwise), and the one clear error where Xen cannot be used (no shim).
 */

import assert from "node:assert/strict";
import { startXenstored } from "../../lib/xenstored/mod.ts";
import { MAIN, runDxl, tempHome } from "../cli/_run.ts";
import { runShimSuite } from "./_shim_run.ts";

Deno.test("dxl apply / list / destroy --hypervisor xen beside real xl (fakexl shim, refxs C xenstored)", async () => {
  await runShimSuite("_cli_suite.ts", 7, "the CLI real-host suite");
});

Deno.test("--hypervisor xen where Xen cannot be used: one line naming what is missing, exit 1", async () => {
  if (Deno.env.get("LD_PRELOAD")?.includes("fakexl")) return; // the shim stands in for Xen
  await using home = await tempHome();
  await using xsd = await startXenstored({ dir: home.path, initDom0: true });
  // with every permission: the libraries are not on the loader's path here (a library), or
  // they are and there is no /dev/xen/privcmd (a device)
  const run = await runDxl(["-q", "--xenstore", xsd.socket, "--hypervisor", "xen", "list"], {
    stateHome: home.path,
    env: { LD_LIBRARY_PATH: "" },
  });
  assert.equal(run.code, 1, run.stderr);
  assert.equal(run.stdout, "");
  // only dxl's line (libxencall's own is kept quiet)
  const lines = run.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, run.stderr);
  assert.match(
    lines[0]!,
    /^dxl: Xen hypervisor unavailable: (cannot load libxenctrl\.so\.4\.17 \(install Debian's libxenmisc4\.17, which ships libxenctrl and libxenguest\): .+|no \/dev\/xen\/privcmd \(ENOENT\): this is not a Xen dom0, or xen-privcmd is not loaded)$/,
  );
  // without --allow-ffi (as a `deno run` without the dxl task's flags): the permission
  const noFfi = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-read",
      "--allow-write",
      "--allow-net",
      "--allow-env",
      "--allow-run",
      "--allow-sys",
      MAIN,
      "-q",
      "--xenstore",
      xsd.socket,
      "--hypervisor",
      "xen",
      "list",
    ],
    env: { XDG_STATE_HOME: home.path },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(noFfi.code, 1);
  assert.equal(
    new TextDecoder().decode(noFfi.stderr),
    "dxl: Xen hypervisor unavailable: loading libxenctrl.so.4.17 needs Deno's --allow-ffi permission\n",
  );
});
