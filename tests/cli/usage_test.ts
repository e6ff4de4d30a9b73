/**
 * What `dxl` answers to bad input (one clear line, exit 2), and its help and version: every
 * command's `--help` has examples; the exit codes are documented.
 */

import assert from "node:assert/strict";
import { buildProgram } from "../../lib/cli/main.ts";
import { fromFileUrl, joinPosix } from "../_helpers/paths.ts";
import { runDxl, type RunResult, tempHome } from "./_run.ts";

const SCRIPTS = fromFileUrl(new URL("../testdata/cli/scripts/", import.meta.url));
const denoJson = JSON.parse(
  await Deno.readTextFile(fromFileUrl(new URL("../../deno.json", import.meta.url))),
);

Deno.test("bad input: one line on stderr, exit 2", async (t) => {
  await using home = await tempHome();
  const dxl = (...args: string[]) => runDxl(args, { stateHome: home.path });
  const cases: { args: string[]; stderr: string }[] = [
    { args: ["frobnicate"], stderr: "error: unknown command 'frobnicate'\n" },
    { args: ["ls", "--frob"], stderr: "error: unknown option '--frob'\n" },
    { args: ["--frob", "ls"], stderr: "error: unknown option '--frob'\n" },
    { args: ["read"], stderr: "error: missing required argument 'path'\n" },
    { args: ["-q", "plan", "missing.ts"], stderr: 'dxl: Script "missing.ts" does not exist\n' },
    {
      args: ["-q", "plan", joinPosix(SCRIPTS, "bad_disk.ts")],
      stderr: `dxl: ${SCRIPTS}bad_disk.ts: domains["web"].disks[0]: Invalid disk spec ` +
        '"phy:/dev/vg0/web,xvda,q": unknown value for access near "q"\n',
    },
    {
      args: ["-q", "plan", joinPosix(SCRIPTS, "inventory.ts")],
      stderr: `dxl: ${SCRIPTS}inventory.ts: needs read access to ` +
        `"${fromFileUrl(new URL("../testdata/cli/inventory/hosts.json", import.meta.url))}"; ` +
        `grant it with --allow-read=${
          fromFileUrl(new URL("../testdata/cli/inventory/hosts.json", import.meta.url))
        }\n`,
    },
    {
      args: ["-q", "apply", "--timeout", "soon", "--yes", joinPosix(SCRIPTS, "web.ts")],
      stderr: 'dxl: --timeout "soon" is not a positive number\n',
    },
    {
      args: ["--hypervisor", "kvm", "list"],
      stderr: "error: option '--hypervisor <kind>' argument 'kvm' is invalid. Allowed choices " +
        "are simulated, xen.\n",
    },
    {
      args: ["-q", "devices", "nosuch"],
      stderr: 'dxl: No domain "nosuch": no /libxl record has that name\n',
    },
    {
      args: ["-q", "write", "/a", "b\\q"],
      stderr: 'dxl: Bad escape "\\q" in "b\\q": use \\\\, \\n, \\t, \\r, \\NNN (octal) or \\xHH\n',
    },
  ];
  for (const c of cases) {
    await t.step(`dxl ${c.args.join(" ")}`, async () => {
      const run = await dxl(...c.args);
      assert.equal(run.stderr.replaceAll(SCRIPTS, SCRIPTS), c.stderr);
      assert.equal(run.code, 2);
      assert.equal(run.stdout, "");
    });
  }
  await t.step("a bad disk spec on the command line names the wrong part", async () => {
    const apply = await dxl("-q", "apply", "--yes", joinPosix(SCRIPTS, "web.ts"));
    assert.equal(apply.code, 0, apply.stderr);
    const run = await dxl("-q", "block-attach", "web", "phy:/dev/vg0/x,xvdb,q");
    assert.equal(run.code, 2);
    assert.equal(run.stderr.split("\n").length, 2, run.stderr);
    assert.match(run.stderr, /near "q"/);
  });
  await t.step("the allowed script permission makes the same script run", async () => {
    const run = await dxl(
      "-q",
      "plan",
      `--allow-read=${fromFileUrl(new URL("../testdata/cli/inventory", import.meta.url))}`,
      joinPosix(SCRIPTS, "inventory.ts"),
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /\+ create domain app1\n[^]*\+ create domain app2\n/);
    const bare = await dxl("-q", "plan", "--allow-read", joinPosix(SCRIPTS, "inventory.ts"));
    assert.equal(bare.code, 0, bare.stderr);
    assert.equal(bare.stdout, run.stdout);
  });
});

Deno.test("--version, --help with exit codes, and examples in every command's --help", async () => {
  await using home = await tempHome();
  const version = await runDxl(["--version"], { stateHome: home.path });
  assert.equal(version.code, 0);
  assert.equal(version.stdout, `${denoJson.version}\n`);
  const help = await runDxl(["--help"], { stateHome: home.path });
  assert.equal(help.code, 0);
  assert.match(
    help.stdout,
    /Exit codes: 0 ok, 1 error, 2 bad usage or input, 3 changes pending \(plan --detailed-exitcode\)/,
  );
  const none = await runDxl([], { stateHome: home.path });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^Usage: dxl /);
  const names = buildProgram().commands.map((c) => c.name()).filter((n) => n !== "help");
  const helps: RunResult[] = [];
  for (let i = 0; i < names.length; i += 4) {
    helps.push(
      ...await Promise.all(
        names.slice(i, i + 4).map((name) => runDxl([name, "--help"], { stateHome: home.path })),
      ),
    );
  }
  names.forEach((name, i) => {
    const run = helps[i]!;
    assert.equal(run.code, 0, `${name}: ${run.stderr}`);
    assert.match(run.stdout, new RegExp(`^Usage: dxl ${name} `), name);
    assert.match(run.stdout, /\nExamples:\n {2}\$ dxl /, `dxl ${name} --help has no examples`);
  });
});
