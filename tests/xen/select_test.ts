/**
 * Choosing the hypervisor, and the one clear error when the real one cannot be used. Runs
 * in-process without the fakexl shim: this machine has no /dev/xen/privcmd (a Xen dom0 is
 * detected and skipped here).
 */

import assert from "node:assert/strict";
import { SimulatedHypervisor } from "../../lib/libxl/hypervisor.ts";
import { XenUnavailableError } from "../../lib/xen/errors.ts";
import { PRIVCMD_PATH, selectHypervisor, xenHostDetected } from "../../lib/xen/select.ts";
import { XenHypervisor } from "../../lib/xen/xen_hypervisor.ts";
import { exists, mayRun } from "./_prereq.ts";

const noStore = {
  introduce: () => Promise.resolve(),
  release: () => Promise.resolve(),
  exists: () => Promise.resolve(false),
};

const ffi = async () => (await Deno.permissions.query({ name: "ffi" })).state === "granted";

Deno.test("selectHypervisor() picks the simulated one where there is no /dev/xen/privcmd", () => {
  const hv = selectHypervisor(noStore, {
    privcmdPath: "/nonexistent/xen/privcmd",
    simulated: () => new SimulatedHypervisor(noStore),
  });
  assert.ok(hv instanceof SimulatedHypervisor);
  assert.equal(xenHostDetected("/nonexistent/xen/privcmd"), false);
});

Deno.test("selectHypervisor() with kind xen and no Xen fails naming what is missing", async () => {
  if (Deno.env.get("LD_PRELOAD")?.includes("fakexl")) return; // the shim stands in for Xen
  const dom0 = await exists(PRIVCMD_PATH).catch(() => false);
  if (!mayRun("the no-Xen error test", dom0 ? "this is a Xen dom0" : undefined)) return;
  assert.throws(
    () => selectHypervisor(noStore, { kind: "xen", simulated: () => assert.fail("simulated") }),
    (e: unknown) => {
      assert.ok(e instanceof XenUnavailableError, String(e));
      return true;
    },
  );
  const granted = await ffi();
  const libsHere = await exists("/usr/lib/x86_64-linux-gnu/libxenctrl.so.4.17");
  try {
    using hv = new XenHypervisor(noStore);
    assert.fail(`opened ${hv}`);
  } catch (e) {
    assert.ok(e instanceof XenUnavailableError, String(e));
    if (!granted) {
      assert.equal(e.missing, "privilege");
      assert.match(e.message, /--allow-ffi/);
    } else if (libsHere) {
      assert.equal(e.missing, "device");
      assert.match(e.message, /\/dev\/xen\/privcmd/);
    } else {
      assert.equal(e.missing, "library");
      assert.match(e.message, /libxenctrl\.so\.4\.17.*libxenmisc4\.17/);
    }
  }
});

Deno.test("XenHypervisor names a library that cannot be loaded", async () => {
  if (!(await ffi())) return; // covered by the test above (the --allow-ffi message)
  assert.throws(
    () => new XenHypervisor(noStore, { libraries: { xenguest: "/nonexistent/libxenguest.so" } }),
    (e: unknown) =>
      e instanceof XenUnavailableError && e.missing === "library" &&
      e.message.includes("cannot load /nonexistent/libxenguest.so"),
  );
});
