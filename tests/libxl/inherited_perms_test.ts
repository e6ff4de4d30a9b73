/**
 * skippingInheritedPerms(): which SET_PERMS it leaves out, as tables of request sequences;
 * and that leaving them out changes no tree on the embedded, C and OCaml xenstored.
 */

import assert from "node:assert/strict";
import { connect } from "../../lib/client/mod.ts";
import type { Permission } from "../../lib/protocol/perms.ts";
import { skippingInheritedPerms } from "../../lib/libxl/inherited_perms.ts";
import { type RequestSender, sendAll } from "../../lib/libxl/store.ts";
import { formatTree } from "../../lib/libxl/tree.ts";
import { forEachServer } from "../_helpers/servers.ts";

// Domain 0 only: the real daemons refuse permissions naming a domain that does not exist.
const A: Permission[] = [{ domid: 0, access: "none" }];
const B: Permission[] = [{ domid: 0, access: "read" }];

type Step = ["write" | "mkdir" | "rm", string] | ["perms", string, Permission[]];

function play(s: RequestSender, steps: readonly Step[]): void {
  for (const step of steps) {
    if (step[0] === "perms") s.setPerms(step[1], step[2]);
    else if (step[0] === "write") s.write(step[1], "v");
    else if (step[0] === "mkdir") s.mkdir(step[1]);
    else s.rmIfPresent(step[1]);
  }
}

/** The indexes of the steps the filter sent. */
function sent(steps: readonly Step[]): number[] {
  const out: number[] = [];
  let i = 0;
  const record = () => void out.push(i);
  const inner: RequestSender = {
    write: record,
    mkdir: record,
    rmIfPresent: record,
    setPerms: record,
  };
  const s = skippingInheritedPerms(inner);
  for (i = 0; i < steps.length; i++) play(s, [steps[i]!]);
  return out;
}

const CASES: { name: string; steps: Step[]; dropped: number[] }[] = [
  {
    name: "a key written under a directory given perms in the batch inherits them",
    steps: [["rm", "/a"], ["mkdir", "/a"], ["perms", "/a", A], ["write", "/a/k"], [
      "perms",
      "/a/k",
      A,
    ]],
    dropped: [4],
  },
  {
    name: "different perms are sent",
    steps: [["rm", "/a"], ["mkdir", "/a"], ["perms", "/a", A], ["write", "/a/k"], [
      "perms",
      "/a/k",
      B,
    ]],
    dropped: [],
  },
  {
    name: "a node under a parent the batch knows nothing of is sent (the parent may differ)",
    steps: [["write", "/a/k"], ["perms", "/a/k", A]],
    dropped: [],
  },
  {
    name: "a node not removed first may exist with other perms: sent",
    steps: [["mkdir", "/a"], ["perms", "/a", A], ["write", "/a/k"], ["perms", "/a/k", A]],
    dropped: [],
  },
  {
    name: "implicit parents created by a deep write inherit too",
    steps: [["rm", "/a"], ["mkdir", "/a"], ["perms", "/a", A], ["write", "/a/b/c"], [
      "perms",
      "/a/b",
      A,
    ], ["perms", "/a/b/c", A]],
    dropped: [4, 5],
  },
  {
    name: "removing an ancestor forgets what was known below it",
    steps: [
      ["rm", "/a"],
      ["mkdir", "/a"],
      ["perms", "/a", A],
      ["write", "/a/k"],
      ["rm", "/a"],
      ["write", "/a/k"],
      ["perms", "/a/k", A],
    ],
    dropped: [],
  },
  {
    name: "a repeated SET_PERMS of the same perms is left out",
    steps: [["write", "/x"], ["perms", "/x", A], ["perms", "/x", A], ["perms", "/x", B]],
    dropped: [2],
  },
  {
    name: "a parent's later change does not reach children made before it",
    steps: [
      ["rm", "/a"],
      ["mkdir", "/a"],
      ["perms", "/a", A],
      ["write", "/a/k"],
      ["perms", "/a", B],
      ["perms", "/a/k", B],
    ],
    dropped: [],
  },
];

for (const c of CASES) {
  Deno.test(`skippingInheritedPerms: ${c.name}`, () => {
    const all = c.steps.map((_, i) => i);
    assert.deepEqual(sent(c.steps), all.filter((i) => !c.dropped.includes(i)));
  });
}

forEachServer(
  "skippingInheritedPerms() leaves the same tree as every request",
  async (_t, server) => {
    await using xs = await connect({ path: server.socket });
    await xs.write("/tool/t/old/x", "1");
    for (const c of CASES) {
      const trees: string[] = [];
      for (const filtered of [false, true]) {
        await xs.rm("/tool/t").catch(() => {});
        await xs.write("/tool/t/old/x", "1");
        const steps = c.steps.map((s): Step =>
          s[0] === "perms" ? ["perms", `/tool/t${s[1]}`, s[2]] : [s[0], `/tool/t${s[1]}`]
        );
        await xs.transaction((tx) =>
          sendAll(tx, (s) => play(filtered ? skippingInheritedPerms(s) : s, steps))
        );
        trees.push(await formatTree(xs, "/tool/t"));
      }
      assert.equal(trees[1], trees[0], c.name);
    }
  },
);
