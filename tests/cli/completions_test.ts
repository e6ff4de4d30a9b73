/**
 * `dxl completions`: the scripts name every registered command and its options; the bash
 * one completes commands, options and (for script commands) files when sourced in bash.
 */

import assert from "node:assert/strict";
import { buildProgram } from "../../lib/cli/main.ts";
import { completionScript } from "../../lib/cli/completions.ts";
import { runDxl, tempHome } from "./_run.ts";

async function bashComplete(script: string, words: string[]): Promise<string[]> {
  const file = await Deno.makeTempFile({ prefix: "dxl-compl-", dir: "/tmp" });
  try {
    await Deno.writeTextFile(file, script);
    const quoted = words.map((w) => `'${w}'`).join(" ");
    const out = await new Deno.Command("bash", {
      args: [
        "-c",
        `source ${file}; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _dxl; ` +
        `printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(new TextDecoder().decode(out.stderr), "");
    return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "");
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("dxl completions bash prints the script through the entry point", async () => {
  await using home = await tempHome();
  const run = await runDxl(["completions", "bash"], { stateHome: home.path });
  assert.equal(run.code, 0);
  assert.equal(run.stdout, completionScript(buildProgram(), "bash"));
  const bad = await runDxl(["completions", "tcsh"], { stateHome: home.path });
  assert.equal(bad.code, 2);
  assert.equal(
    bad.stderr,
    "error: command-argument value 'tcsh' is invalid for argument 'shell'. Allowed choices are bash, zsh, fish.\n",
  );
});

Deno.test("the bash script completes commands, then each command's options", async () => {
  const script = completionScript(buildProgram(), "bash");
  assert.deepEqual(await bashComplete(script, ["dxl", "wa"]), ["watch"]);
  assert.deepEqual(await bashComplete(script, ["dxl", "ls", "--t"]), ["--tree"]);
  assert.deepEqual(await bashComplete(script, ["dxl", "--xenstore", "/x", "read", "--r"]), [
    "--raw",
  ]);
  assert.deepEqual(await bashComplete(script, ["dxl", "-q", "chmod", "-"]), [
    "--recursive",
    "-r",
    "--upto",
    "-u",
    "--help",
    "-h",
  ]);
});

Deno.test("every shell's script names every command", () => {
  const program = buildProgram();
  const names = program.commands.map((c) => c.name()).filter((n) => n !== "help");
  for (const shell of ["bash", "zsh", "fish"] as const) {
    const script = completionScript(program, shell);
    for (const name of names) assert.ok(script.includes(name), `${shell} lacks ${name}`);
  }
  assert.match(completionScript(program, "fish"), /-n '__fish_seen_subcommand_from ls' -l tree/);
  assert.match(completionScript(program, "zsh"), /^#compdef dxl\n/);
});

for (const shell of ["zsh", "fish"] as const) {
  Deno.test(`the ${shell} script parses in ${shell}`, async () => {
    let found = true;
    try {
      await new Deno.Command(shell, { args: ["-c", "true"] }).output();
    } catch {
      found = false;
    }
    if (!found) {
      // deno-lint-ignore no-console
      console.warn(`SKIPPED: ${shell} is not installed (apt-get install ${shell} to check it)`);
      return;
    }
    const file = await Deno.makeTempFile({ prefix: "dxl-compl-", dir: "/tmp" });
    try {
      await Deno.writeTextFile(file, completionScript(buildProgram(), shell));
      const out = await new Deno.Command(shell, { args: ["-n", file], stderr: "piped" }).output();
      assert.equal(new TextDecoder().decode(out.stderr), "");
      assert.ok(out.success);
    } finally {
      await Deno.remove(file);
    }
  });
}

Deno.test("the fish script completes commands and options in fish", async () => {
  let found = true;
  try {
    await new Deno.Command("fish", { args: ["-c", "true"] }).output();
  } catch {
    found = false;
  }
  if (!found) {
    // deno-lint-ignore no-console
    console.warn("SKIPPED: fish is not installed (apt-get install fish to check it)");
    return;
  }
  const file = await Deno.makeTempFile({ prefix: "dxl-compl-", dir: "/tmp", suffix: ".fish" });
  try {
    await Deno.writeTextFile(file, completionScript(buildProgram(), "fish"));
    const out = await new Deno.Command("fish", {
      args: ["-c", `source ${file}; complete -C 'dxl wa'; complete -C 'dxl ls --t'`],
      stdout: "piped",
    }).output();
    const lines = new TextDecoder().decode(out.stdout).split("\n").map((l) => l.split("\t")[0]);
    assert.deepEqual(lines, ["watch", "--tree", ""]);
  } finally {
    await Deno.remove(file);
  }
});
