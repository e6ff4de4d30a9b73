/**
 * `dxl doctor [--fix]` through the real entry point against the embedded, C and OCaml
 * xenstored: golden text and JSON for a healthy and a damaged store, the fix and what it
 * leaves.
 */

import assert from "node:assert/strict";
import { forEachServer } from "../_helpers/servers.ts";
import { ControlHypervisor } from "../../lib/libxl/control_hypervisor.ts";
import { runDxl, tempHome } from "./_run.ts";
import { fromFileUrl, joinPosix } from "../_helpers/paths.ts";

const WEB = joinPosix(fromFileUrl(new URL("../testdata/cli/scripts/", import.meta.url)), "web.ts");
import { XL_GOLDEN, xlWorld } from "./xl_world.ts";

const UPDATE = Deno.env.get("UPDATE_GOLDEN") === "1";

async function golden(name: string, actual: string): Promise<void> {
  const file = XL_GOLDEN + name;
  if (UPDATE) await Deno.writeTextFile(file, actual);
  assert.equal(actual, await Deno.readTextFile(file), file);
}

forEachServer(
  "dxl doctor: golden reports, --fix removes the stale part only",
  async (t, server) => {
    await using home = await tempHome();
    await using w = await xlWorld(server, home.path);
    const web = await w.domain("web");
    assert.equal((await w.dxl("block-attach", "web", "phy:/dev/vg0/web,xvda,w")).code, 0);
    await w.settled(web);
    // dxl's embedded xenstored gives its domain table (CONTROL dxl-domain list); C and OCaml
    // xenstored have none, so there a dead domain can only be reported.
    const listed = server.kind === "embedded";

    await t.step("a healthy store", async () => {
      const text = await w.dxl("doctor");
      assert.equal(text.code, 0, text.stderr);
      assert.equal(text.stdout, "doctor: nothing to report\n");
      const json = await w.dxl("doctor", "--json");
      assert.deepEqual(JSON.parse(json.stdout), {
        findings: [],
        changes: [],
        usedDomainList: listed,
      });
    });

    // Damage: what interrupted runs leave, and a trust-rule violation.
    await w.xs.write("/vm/0badc0de-0000-4000-8000-000000000001/name", "ghost");
    await w.xs.write(`/local/domain/0/backend/vbd/${web}/51800/state`, "4");
    await w.xs.write("/libxl/9/type", "pv"); // a teardown that stopped after removing ~
    await w.xs.mkdir(`/local/domain/0/backend/vkbd/${web}`);
    await w.xs.setPerms(`/libxl/${web}/device/vbd/51712`, `n0,r${web}`);
    const damaged = await w.tree();

    await t.step("a damaged store: report only", async () => {
      const text = await w.dxl("doctor");
      assert.equal(text.code, 0, text.stderr);
      await golden("doctor_damaged.txt", text.stdout);
      const json = await w.dxl("doctor", "--json");
      const { usedDomainList, ...rest } = JSON.parse(json.stdout);
      assert.equal(usedDomainList, listed);
      await golden("doctor_damaged.json", JSON.stringify(rest, null, 2) + "\n");
      assert.equal(await w.tree(), damaged, "reporting changes nothing");
    });

    await t.step("--fix", async () => {
      const fixed = await w.dxl("doctor", "--fix");
      assert.equal(fixed.code, 0, fixed.stderr);
      await golden("doctor_fix.txt", fixed.stdout);
      const after = await w.dxl("doctor", "--json");
      const left = JSON.parse(after.stdout) as { findings: { kind: string; path: string }[] };
      assert.deepEqual(left.findings.map((f) => `${f.kind} ${f.path}`), [
        `libxl-guest-access /libxl/${web}/device/vbd/51712`,
      ]);
      assert.equal(await w.xs.exists("/libxl/9"), false);
      assert.equal(await w.xs.exists(`/local/domain/0/backend/vbd/${web}/51712`), true);
    });

    await t.step(
      "a dead domain: removed with the domain table, else reported and left",
      async () => {
        await w.server.destroyDomain(web);
        const fixed = await w.dxl("doctor", "--fix", "--json");
        assert.equal(fixed.code, 0, fixed.stderr);
        const report = JSON.parse(fixed.stdout) as {
          findings: { kind: string; path: string }[];
          changes: unknown[];
        };
        const found = (kind: string) =>
          report.findings.some((f) => f.kind === kind && f.path === `/libxl/${web}`);
        if (listed) {
          assert.ok(found("stale-domain"), fixed.stdout);
          assert.equal(await w.xs.exists(`/libxl/${web}`), false);
          assert.equal(await w.xs.exists(`/local/domain/${web}`), false);
          assert.equal(await w.xs.exists(`/local/domain/0/backend/vbd/${web}`), false);
        } else {
          assert.match(fixed.stderr, /no domain list from the hypervisor/);
          assert.ok(found("unverified-domain"), fixed.stdout);
          assert.deepEqual(report.changes, []);
          assert.equal(await w.xs.exists(`/libxl/${web}`), true);
        }
      },
    );
  },
);

Deno.test("dxl doctor on the embedded store: applied domains of earlier runs are not 'gone'", async () => {
  await using home = await tempHome();
  const dxl = (...args: string[]) => runDxl(args, { stateHome: home.path });
  const apply = await dxl("apply", "--yes", WEB);
  assert.equal(apply.code, 0, apply.stderr);
  // A new process: the embedded store's domain table came back from its state file.
  const json = await dxl("-q", "doctor", "--fix", "--json");
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), { findings: [], changes: [], usedDomainList: true });
  // A record a killed teardown left, next to the live domain: only it goes.
  assert.equal((await dxl("-q", "write", "/libxl/7/type", "pv")).code, 0);
  const fixed = await dxl("-q", "doctor", "--fix");
  assert.equal(fixed.code, 0, fixed.stderr);
  assert.match(fixed.stdout, /^removed +\/libxl\/7$/m);
  assert.match((await dxl("-q", "list")).stdout, /^web +1 /m);
});

forEachServer(
  "a domain a killed apply left without records: doctor names it, dxl destroy <id> removes it",
  async (_t, server) => {
    await using home = await tempHome();
    await using w = await xlWorld(server, home.path);
    // The hypervisor side of an apply that was killed before its transaction committed.
    const orphan = await new ControlHypervisor(w.xs).createDomain({ uuid: crypto.randomUUID() });
    const seen = JSON.parse((await w.dxl("doctor", "--json")).stdout) as {
      findings: { kind: string; domid: number; message: string }[];
    };
    assert.deepEqual(seen.findings.map((f) => [f.kind, f.domid]), [
      ["orphaned-domain", orphan.domid],
    ]);
    assert.match(seen.findings[0]!.message, new RegExp(`dxl destroy ${orphan.domid} removes it`));
    const destroy = await w.dxl("destroy", String(orphan.domid), "--json");
    assert.equal(destroy.code, 0, destroy.stderr);
    assert.deepEqual(JSON.parse(destroy.stdout), {
      domid: orphan.domid,
      devices: 0,
      hypervisor: true,
    });
    const after = JSON.parse((await w.dxl("doctor", "--json")).stdout);
    assert.deepEqual(after.findings, []);
    // Without records and unknown to the hypervisor, an id is still refused.
    const again = await w.dxl("--quiet", "destroy", String(orphan.domid));
    assert.equal(again.code, 2);
    assert.match(again.stderr, /^dxl: No domain \d+: \/libxl\/\d+ does not exist\n$/);
  },
  // Only dxl's embedded xenstored keeps a domain table a client can list (CONTROL).
  { kinds: ["embedded"] },
);
