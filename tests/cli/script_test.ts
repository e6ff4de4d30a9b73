/**
 * `dxl plan`, `apply` and `destroy` through the real entry point: against the embedded store
 * started in-process (state in XDG_STATE_HOME), and against the real C xenstored and
 * oxenstored (domains through the reference daemons' control socket, backends played by the
 * dxl process). The same script gives the same printed plans (goldens) on all three.
 */

import assert from "node:assert/strict";
import { forEachServer } from "../_helpers/servers.ts";
import { fromFileUrl, joinPosix } from "../_helpers/paths.ts";
import { runDxl, type RunResult, tempHome } from "./_run.ts";

const SCRIPTS = fromFileUrl(new URL("../testdata/cli/scripts/", import.meta.url));
const GOLDEN = fromFileUrl(new URL("../testdata/cli/", import.meta.url));
const UPDATE = Deno.env.get("UPDATE_GOLDEN") === "1";
const WEB = joinPosix(SCRIPTS, "web.ts");
const BIGGER = joinPosix(SCRIPTS, "web_bigger.ts");

async function golden(name: string, actual: string): Promise<void> {
  const text = actual.replaceAll(SCRIPTS, "<scripts>/");
  if (UPDATE) await Deno.writeTextFile(GOLDEN + name, text);
  assert.equal(text, await Deno.readTextFile(GOLDEN + name), name);
}

/** Stderr without the line naming the xenstore, sorted (backends connect in any order). */
function events(run: RunResult): string[] {
  return run.stderr.split("\n").filter((l) =>
    l !== "" && !l.startsWith("dxl: xenstore ") &&
    !l.startsWith("dxl: embedded xenstore")
  ).sort();
}

/** The scenario every store runs: `dxl` is the entry point with this store's global flags. */
async function scenario(
  t: Deno.TestContext,
  dxl: (...args: string[]) => Promise<RunResult>,
): Promise<void> {
  await t.step("plan shows a create, exit 0; --detailed-exitcode exits 3", async () => {
    const run = await dxl("plan", WEB);
    assert.equal(run.code, 0, run.stderr);
    await golden("plan_web_create.txt", run.stdout);
    assert.equal((await dxl("plan", "--detailed-exitcode", WEB)).code, 3);
  });

  await t.step("plan --json is the plan as data", async () => {
    const run = await dxl("plan", "--json", WEB);
    assert.equal(run.code, 0, run.stderr);
    const plan = JSON.parse(run.stdout);
    assert.deepEqual(
      plan.actions.map((a: { kind: string; domain: string }) => `${a.kind} ${a.domain}`),
      ["create web"],
    );
    assert.equal(plan.prune, false);
  });

  await t.step("apply without a terminal and without --yes: exit 2, nothing written", async () => {
    const run = await dxl("apply", WEB);
    assert.equal(run.code, 2);
    await golden("plan_web_create.txt", run.stdout);
    assert.deepEqual(events(run), [
      "dxl: stdin is not a terminal: add --yes to apply without being asked",
    ]);
    assert.equal((await dxl("plan", "--detailed-exitcode", WEB)).code, 3);
  });

  await t.step("apply --yes creates the domain and waits for its backends", async () => {
    const run = await dxl("apply", "--yes", WEB);
    assert.equal(run.code, 0, run.stderr);
    await golden("plan_web_create.txt", run.stdout);
    assert.deepEqual(events(run), [
      "dxl: applied: 1 change",
      "dxl: committed the changes in one transaction",
      "dxl: created domain web (domid 1)",
      "dxl: introduced domain web (domid 1) to xenstored",
      "dxl: web: vbd 51712 of domain 1 connected",
      "dxl: web: vif 0 of domain 1 connected",
    ]);
    const list = await dxl("list");
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^web +1 +512 +1 /m);
    const state = await dxl("read", "/local/domain/0/backend/vbd/1/51712/state");
    assert.equal(state.stdout, "4\n");
  });

  await t.step("apply again: no changes, nothing written, exit 0", async () => {
    const run = await dxl("apply", WEB);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `No changes: the live domains match ${WEB}.\n`);
    assert.deepEqual(events(run), []);
    assert.equal((await dxl("plan", "--detailed-exitcode", WEB)).code, 0);
  });

  await t.step("a changed script: update in place and a new disk", async () => {
    const plan = await dxl("plan", BIGGER);
    assert.equal(plan.code, 0, plan.stderr);
    await golden("plan_web_update.txt", plan.stdout);
    const run = await dxl("apply", "--yes", "--json", BIGGER);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout);
    assert.deepEqual(result.created, []);
    assert.equal(result.attempts, 1);
    assert.equal(result.changes.length, 2);
    assert.equal((await dxl("read", "/local/domain/1/memory/target")).stdout, "262144\n");
    assert.equal((await dxl("plan", "--detailed-exitcode", BIGGER)).code, 0);
  });

  await t.step("destroy --yes removes the domain and its devices", async () => {
    const plan = await dxl("plan", "--destroy", WEB);
    await golden("plan_web_destroy.txt", plan.stdout);
    const run = await dxl("destroy", "--yes", WEB);
    assert.equal(run.code, 0, run.stderr);
    await golden("plan_web_destroy.txt", run.stdout);
    assert.ok(events(run).includes("dxl: destroyed domain web (domid 1)"), run.stderr);
    const list = await dxl("list");
    assert.doesNotMatch(list.stdout, /^web /m);
    const libxl = await dxl("ls", "/libxl");
    assert.doesNotMatch(libxl.stdout, /^\/libxl\/1/m);
    const again = await dxl("destroy", "--yes", WEB);
    assert.equal(again.code, 0);
    assert.equal(again.stdout, `No changes: the live domains match ${WEB}.\n`);
  });
}

Deno.test("plan/apply/destroy on the embedded store started in-process", async (t) => {
  await using home = await tempHome();
  // --embedded: never a real xenstored that answers on this machine's standard socket.
  await scenario(t, (...args) => runDxl(["--embedded", ...args], { stateHome: home.path }));
});

forEachServer("plan/apply/destroy on a real xenstored", async (t, server) => {
  await using home = await tempHome();
  const flags = ["--xenstore", server.socket, "--domain-control", joinPosix(server.dir, "ctl")];
  await scenario(t, (...args) => runDxl([...flags, ...args], { stateHome: home.path }));
}, { kinds: ["c", "ocaml"] });

forEachServer("apply of a new domain on a real host stops before writing", async (_t, server) => {
  await using home = await tempHome();
  const before = await runDxl(["-q", "--xenstore", server.socket, "ls", "/"], {
    stateHome: home.path,
  });
  const run = await runDxl(["--xenstore", server.socket, "apply", "--yes", WEB], {
    stateHome: home.path,
  });
  assert.equal(run.code, 2);
  assert.deepEqual(events(run), [
    "dxl: Cannot create web: this is not a Xen dom0 (no /dev/xen/privcmd) and this xenstored " +
    "has no simulated domain table: run dxl on the Xen host, or use the embedded store, " +
    "`dxl serve` or --domain-control. Nothing was written.",
  ]);
  const after = await runDxl(["-q", "--xenstore", server.socket, "ls", "/"], {
    stateHome: home.path,
  });
  assert.equal(after.stdout, before.stdout);
}, { kinds: ["c", "ocaml"] });
