/**
 * `dxl apply` / `destroy` in a real terminal (tmux): the coloured plan, the confirmation
 * prompt, the spinner's lines; and the same commands piped: plain, and never waiting on a
 * stdin that stays open.
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import { fromFileUrl, joinPosix } from "../_helpers/paths.ts";
import { forEachServer, REFXS_DIR, refxsUnavailable } from "../_helpers/servers.ts";
import { MAIN, runDxl, tempHome } from "./_run.ts";

const WEB = joinPosix(fromFileUrl(new URL("../testdata/cli/scripts/", import.meta.url)), "web.ts");

/** True when tmux is missing here (then the terminal tests skip; under CI=true they fail). */
async function tmuxMissing(): Promise<boolean> {
  try {
    await new Deno.Command("tmux", { args: ["-V"], stdout: "null" }).output();
    return false;
  } catch {
    if (Deno.env.get("CI") === "true") {
      throw new Error("CI=true and tmux is missing: apt-get install -y tmux");
    }
    return true;
  }
}

/** A tmux server of our own (its own socket), with one 100x40 window running `command`. */
class Terminal implements AsyncDisposable {
  readonly socket = `dxl-test-${crypto.randomUUID().slice(0, 8)}`;

  async tmux(...args: string[]): Promise<string> {
    const out = await new Deno.Command("tmux", {
      args: ["-L", this.socket, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`tmux ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
    }
    return new TextDecoder().decode(out.stdout);
  }

  start(command: string): Promise<string> {
    return this.tmux("new-session", "-d", "-s", "t", "-x", "100", "-y", "40", command);
  }

  /** The screen (with `-e`: with its colour escapes). */
  screen(escapes = false): Promise<string> {
    return this.tmux("capture-pane", "-p", "-J", "-t", "t", ...(escapes ? ["-e"] : []));
  }

  /** Waits until the screen shows `text` (30 s at most). */
  async waitFor(text: string): Promise<string> {
    for (let i = 0; i < 300; i++) {
      const screen = await this.screen();
      if (screen.includes(text)) return screen;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the terminal never showed ${JSON.stringify(text)}:\n${await this.screen()}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.tmux("kill-server").catch(() => {});
  }
}

/** The shell command a tmux pane runs: dxl, then its exit code. NO_COLOR is set only when asked
 * (a caller's NO_COLOR, as `.ci/run` exports, must not leak into the terminal). */
function command(home: string, args: string, options: { noColor?: boolean } = {}): string {
  const colour = options.noColor ? "NO_COLOR=1" : "-u NO_COLOR";
  return `env ${colour} XDG_STATE_HOME=${home} ${Deno.execPath()} run -A --quiet ${MAIN} ` +
    `--embedded ${args}; echo EXIT=$?; sleep 120`;
}

Deno.test("apply in a terminal: coloured plan, prompt, spinner lines", async (t) => {
  if (await tmuxMissing()) {
    // deno-lint-ignore no-console
    console.warn("SKIPPED: tmux is not installed (apt-get install tmux to run the terminal tests)");
    return;
  }
  await using home = await tempHome();

  await t.step("NO_COLOR: the same plan without colours on the terminal", async () => {
    await using term = new Terminal();
    await term.start(command(home.path, `plan ${WEB}`, { noColor: true }));
    await term.waitFor("EXIT=0");
    const screen = await term.screen(true);
    assert.ok(screen.includes("\n  + create domain web\n"), screen);
    assert.ok(!screen.includes("\x1b[32m"), screen);
  });

  await t.step("answering y applies, with the progress display", async () => {
    await using term = new Terminal();
    await term.start(command(home.path, `apply ${WEB}`));
    await term.waitFor("Apply these changes? [y/N]");
    const coloured = await term.screen(true);
    assert.ok(coloured.includes("\x1b[32m+ create\x1b[39m domain web"), coloured);
    await term.tmux("send-keys", "-t", "t", "y", "Enter");
    const screen = await term.waitFor("EXIT=");
    const lines = screen.split("\n").map((l) => l.trimEnd());
    const after = lines.slice(lines.indexOf("Apply these changes? [y/N] y") + 1);
    assert.deepEqual(after.slice(0, after.findIndex((l) => l.startsWith("EXIT="))), [
      "ℹ created domain web (domid 1)",
      "✔ committed the changes in one transaction",
      "ℹ introduced domain web (domid 1) to xenstored",
      "✔ backends: 2 connected, 0 closed",
      "✔ applied: 1 change",
    ]);
    assert.ok(lines.includes("EXIT=0"), screen);
  });

  await t.step("answering n (the default) writes nothing, exit 1", async () => {
    await using term = new Terminal();
    await term.start(command(home.path, `destroy ${WEB}`));
    await term.waitFor("Destroy these domains? [y/N]");
    await term.tmux("send-keys", "-t", "t", "Enter");
    const screen = await term.waitFor("EXIT=");
    assert.match(screen, /dxl: destroy cancelled: nothing was written\nEXIT=1/);
    const list = await runDxl(["-q", "list"], { stateHome: home.path });
    assert.match(list.stdout, /^web +1 /m);
  });
});

Deno.test("apply piped never waits on stdin and prints plain lines", async () => {
  await using home = await tempHome();
  // stdin is a pipe that is never written to nor closed.
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, "apply", WEB],
    env: { XDG_STATE_HOME: home.path },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill(), 60_000);
  const out = await child.output();
  clearTimeout(timer);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 2, stderr);
  assert.match(stderr, /^dxl: stdin is not a terminal: add --yes to apply without being asked$/m);
  const run = await runDxl(["apply", "--yes", WEB], { stateHome: home.path });
  assert.equal(run.code, 0, run.stderr);
  assert.ok(!(run.stdout + run.stderr).includes("\x1b"), "no escape codes when piped");
  assert.match(run.stderr, /^dxl: committed the changes in one transaction$/m);
});

forEachServer("dxl ls on a terminal cuts lines as xenstore-ls does there", async (_t, server) => {
  if (await tmuxMissing()) {
    // deno-lint-ignore no-console
    console.warn("SKIPPED: tmux is not installed (apt-get install tmux to run the terminal tests)");
    return;
  }
  const unavailable = await refxsUnavailable();
  if (unavailable !== undefined) {
    // deno-lint-ignore no-console
    console.warn(`SKIPPED: no real xenstore-ls to compare with: ${unavailable}`);
    return;
  }
  {
    await using xs = await connect({ path: server.socket });
    await xs.write("/t/short", "v");
    await xs.write("/t/long", "w".repeat(150));
    await xs.write(`/t/${"n".repeat(120)}`, "x\x1by");
  }
  await using home = await tempHome();
  const envSh = `${Deno.env.get("REFXS_HOME") ?? `${REFXS_DIR}/.work`}/env.sh`;
  const screens: string[] = [];
  for (
    const cmd of [
      `. ${envSh}; XENSTORED_PATH=${server.socket} xenstore-ls -f -p /t; echo EXIT=$?; sleep 60`,
      `${Deno.execPath()} run -A --quiet ${MAIN} -q --xenstore ${server.socket} ls /t; ` +
      "echo EXIT=$?; sleep 60",
      `. ${envSh}; XENSTORED_PATH=${server.socket} xenstore-ls -p /t; echo EXIT=$?; sleep 60`,
      `${Deno.execPath()} run -A --quiet ${MAIN} -q --xenstore ${server.socket} ls --tree /t; ` +
      "echo EXIT=$?; sleep 60",
    ]
  ) {
    await using term = new Terminal();
    await term.start(`env XDG_STATE_HOME=${home.path} bash -c '${cmd}'`);
    screens.push(await term.waitFor("EXIT="));
  }
  assert.match(screens[0]!, /\/t\/long = "w+\\\.\.\."/, screens[0]);
  assert.equal(screens[1], screens[0]);
  assert.equal(screens[3], screens[2]);
}, { kinds: ["c"] });
