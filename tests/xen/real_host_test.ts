/**
 * XenHypervisor, hotplug scripts and libxl's config file on a (fake) Xen host beside real
 * xl: runs `_shim_suite.ts` in a `deno test` subprocess with `LD_PRELOAD` of
 * ../shared/fakexl (built here with gcc), inside a private mount namespace (`unshare -m`,
 * as root) whose /etc/xen (xl.conf and the stand-in hotplug scripts), /var/lib/xen,
 * /var/run/xen, /var/log/xen and /srv are temp dirs. Skips with one line when something
 * is missing (a failure under CI=true).
 */

import { runShimSuite } from "./_shim_run.ts";

Deno.test("XenHypervisor, hotplug and libxl's config file beside real xl (fakexl shim, refxs C xenstored)", async () => {
  await runShimSuite("_shim_suite.ts", 7, "the real-host suite");
});
