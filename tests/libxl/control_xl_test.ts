/**
 * `xl sysrq` and `xl shutdown` of Xen 4.17 (Debian's xl and libxl under ../shared/fakexl)
 * against dxl's sendSysrq() and shutdownDomain() on one domain, on the real C xenstored:
 * the same node gets the same value, and both wait for the guest to clear the request.
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { sendSysrq, shutdownDomain } from "../../lib/libxl/domain_control.ts";
import { makeDomain } from "../../lib/libxl/domain_create.ts";
import { forEachServer } from "../_helpers/servers.ts";
import { testHypervisor, until } from "./_helpers.ts";
import { realXl, type XlRun } from "./_xl.ts";

forEachServer(
  "sendSysrq() and shutdownDomain() write what real xl sysrq / xl shutdown write",
  async (_t, server) => {
    const xl = await realXl(server.socket);
    const initDom0 = await realXl(server.socket, "xen-init-dom0");
    if (xl === undefined || initDom0 === undefined) return;
    assert.equal((await initDom0([])).code, 0);
    await using xs = await connect({ path: server.socket });
    const hv = testHypervisor(server, xs, 5);
    const { domid } = await makeDomain(xs, {
      hypervisor: hv.hypervisor,
      name: "g",
      maxMemKb: 65536,
    });
    const control = `/local/domain/${domid}/control`;
    await using guest = await connect({ path: hv.guestSocket(domid) });

    const theirs = await xl(["sysrq", "g", "s"]);
    assert.equal(theirs.code, 0, theirs.stderr);
    const xlSysrq = await xs.read(`${control}/sysrq`);
    await guest.write(`${control}/sysrq`, "");
    await sendSysrq(xs, domid, { key: "s" });
    assert.equal(await xs.read(`${control}/sysrq`), xlSysrq);
    assert.equal(xlSysrq, "s");

    for (const [command, request] of [["shutdown", "poweroff"], ["reboot", "reboot"]] as const) {
      const xlRun: Promise<XlRun> = xl([command, "g"]);
      await until(async () => (await guest.tryRead(`${control}/shutdown`)) === request, command);
      await guest.write(`${control}/shutdown`, ""); // the guest acknowledges
      const done: XlRun = await xlRun;
      assert.equal(done.code, 0, done.stderr);
      const ours = shutdownDomain(xs, domid, { request });
      await until(async () => (await guest.tryRead(`${control}/shutdown`)) === request, request);
      await guest.write(`${control}/shutdown`, "");
      await ours;
    }
    assert.deepEqual(await xs.getPerms(`${control}/shutdown`), [{ domid, access: "none" }]);
  },
  { kinds: ["c"] },
);
