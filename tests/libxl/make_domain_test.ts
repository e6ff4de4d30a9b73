/** makeDomain's optional layout (driver domains, xsdata, platformdata, HVM) and the hypervisor. */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { makeDomain } from "../../lib/libxl/domain.ts";
import { destroyDomain } from "../../lib/libxl/domain_destroy.ts";
import { DeviceConfigError } from "../../lib/libxl/errors.ts";
import { SimulatedHypervisor } from "../../lib/libxl/hypervisor.ts";
import { startXenstored } from "../../lib/xenstored/mod.ts";
import { forEachServer } from "../_helpers/servers.ts";
import { testHypervisor } from "./_helpers.ts";

forEachServer(
  "makeDomain() writes driver-domain nodes, xsdata and platformdata as libxl does",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    const { domid } = await makeDomain(xs, {
      hypervisor,
      name: "storage",
      maxMemKb: 65536,
      driverDomain: true,
      xsdata: { "vm-data/role": "storage" },
      platformdata: { acpi: "1" },
    });
    const home = `/local/domain/${domid}`;
    for (const dir of ["libxl", "device-model"]) {
      assert.equal(await xs.read(`${home}/${dir}`), "");
      assert.deepEqual(await xs.getPerms(`${home}/${dir}`), [{ domid, access: "none" }], dir);
    }
    assert.equal(await xs.read(`${home}/vm-data/role`), "storage");
    assert.equal(await xs.read(`${home}/platform/acpi`), "1");
    assert.deepEqual(await xs.getPerms(`${home}/platform/acpi`), [
      { domid: 0, access: "none" },
      { domid, access: "read" },
    ], "platformdata inherits roperm from ~");
  },
);

forEachServer(
  "makeDomain() of an HVM guest writes hvmloader, feature-s3/s4 and rtc/timeoffset, no image/kernel",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    const { hypervisor } = testHypervisor(server, xs);
    const { domid, uuid } = await makeDomain(xs, {
      hypervisor,
      name: "win",
      type: "hvm",
      maxMemKb: 65536,
      kernel: "/srv/hvmloader-is-not-recorded",
      timeoffset: "3600",
    });
    const home = `/local/domain/${domid}`;
    assert.equal(await xs.read(`${home}/hvmloader`), "");
    assert.equal(await xs.read(`${home}/control/feature-s4`), "");
    assert.equal(await xs.read(`/vm/${uuid}/rtc/timeoffset`), "3600");
    assert.equal(await xs.read(`/vm/${uuid}/image/ostype`), "hvm");
    assert.equal(await xs.exists(`/vm/${uuid}/image/kernel`), false);
    assert.equal(await xs.read(`/libxl/${domid}/type`), "hvm");
  },
);

Deno.test("makeDomain() rejects an xsdata key that leaves ~, naming the field", async () => {
  const never = () => Promise.reject(new Error("must not be reached"));
  const hypervisor = { createDomain: never, introduceDomain: never, destroyDomain: never };
  for (const key of ["../0/name", "/abs", "a//b"]) {
    await assert.rejects(
      makeDomain({} as never, { hypervisor, name: "x", maxMemKb: 1, xsdata: { [key]: "v" } }),
      (e: unknown) => e instanceof DeviceConfigError && e.field === `xsdata.${key}`,
      key,
    );
  }
});

Deno.test("SimulatedHypervisor with xenstored makes domains exist in the embedded xenstored", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dxl-libxl-hv-", dir: "/tmp" });
  try {
    await using xsd = await startXenstored({ dir });
    await using xs = await connect({ path: xsd.socket });
    const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
    const { domid } = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536 });
    {
      await using guest = await connect({ path: xsd.domainSocket(domid) });
      assert.equal(await guest.read("name"), "web", "the guest reads its own home");
    }
    await destroyDomain(xs, domid, { hypervisor });
    assert.deepEqual(hypervisor.domains, []);
    assert.equal(await xs.exists(`/local/domain/${domid}`), false);
    const again = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 65536 });
    assert.equal(again.domid, domid, "the id is free again");
    await destroyDomain(xs, again.domid, { hypervisor });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
