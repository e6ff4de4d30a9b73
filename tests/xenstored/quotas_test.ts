import assert from "node:assert/strict";
import { DEFAULT_QUOTAS, resolveQuotas } from "../../lib/xenstored/mod.ts";
import { Harness, type Row } from "./_table.ts";

Deno.test("quotas: C xenstored's defaults", () => {
  assert.deepEqual(
    { ...DEFAULT_QUOTAS },
    {
      nodes: 1000,
      watches: 128,
      transactions: 10,
      outstanding: 20,
      "transaction-nodes": 1024,
      memory: 2621440,
      "node-size": 2048,
      "path-max": 2048,
      permissions: 5,
    },
  );
  assert.throws(() => resolveQuotas({ nodez: 1 } as never), /Unknown xenstored quota "nodez"/);
  assert.throws(() => resolveQuotas({ nodes: -1 }), /Invalid value for quota "nodes": -1/);
  assert.throws(() => resolveQuotas({ nodes: 2 ** 31 }), /Invalid value for quota "nodes"/);
  assert.throws(() => resolveQuotas({ nodes: 1.5 }), /Invalid value for quota "nodes": 1.5/);
});

Deno.test("quotas: 0 at start disables a check (nodes, path-max), as xenstored -Q does", () => {
  assert.equal(resolveQuotas({ nodes: 0 }).nodes, 0);
  const h = new Harness({ nodes: 0, "path-max": 0 });
  h.guest(5);
  const long = "x/".repeat(1100) + "x";
  h.run([
    ["dom0", "-", "getquota", ["nodes"], "0|"],
    ["g5", "-", "write", ["a/b/c/d/e/f", ""], "OK|"],
    ["g5", "-", "write", [long, ""], "OK|"],
  ]);
});

Deno.test("quotas: nodes per domain apply to guests, never to dom0", () => {
  const h = new Harness({ nodes: 4 });
  h.guest(5);
  h.run([
    ["g5", "-", "write", ["a", ""], "OK|"],
    ["g5", "-", "write", ["b", ""], "OK|"],
    ["g5", "-", "write", ["c/d", ""], "ENOSPC"],
    ["g5", "-", "read", ["c"], "ENOENT"],
    ["g5", "-", "write", ["c", ""], "OK|"],
    ["g5", "-", "write", ["e", ""], "ENOSPC"],
    ["g5", "-", "rm", ["a"], "OK|"],
    ["g5", "-", "write", ["e", ""], "OK|"],
    ["dom0", "-", "write", ["/x/y/z/w", ""], "OK|"],
  ]);
});

Deno.test("quotas: node size, permissions, watches and transactions for guests", () => {
  const h = new Harness({ watches: 1, transactions: 1, permissions: 2 });
  h.guest(5);
  h.run([
    ["g5", "-", "write", ["big", "x".repeat(2000)], "OK|"],
    ["g5", "-", "write", ["big", "x".repeat(2020)], "ENOSPC"],
    ["g5", "-", "setperms", ["big", "n5", "r0", "r1"], "ENOSPC"],
    ["g5", "-", "setperms", ["big", "n5", "r0"], "OK|"],
    ["dom0", "-", "write", ["/local/domain/5/big", "x".repeat(4000)], "OK|"],
    ["g5", "-", "setperms", ["big", "n5"], "ENOSPC"],
    ["g5", "-", "watch", ["a", "1"], "OK|", { g5: ["a|1|"] }],
    ["g5", "-", "watch", ["a", "2"], "OK|", { g5: ["a|2|"] }],
    ["g5", "-", "watch", ["a", "3"], "E2BIG"],
    ["g5", "-", "start", { raw: "\0" }, "1|"],
    ["g5", "-", "start", { raw: "\0" }, "2|"],
    ["g5", "-", "start", { raw: "\0" }, "ENOSPC"],
  ]);
});

Deno.test("quotas: SET_QUOTA, GET_QUOTA and CONTROL quota read and change them", () => {
  const h = new Harness();
  h.guest(5);
  h.run([
    [
      "dom0",
      "-",
      "getquota",
      [],
      "nodes watches transactions outstanding transaction-nodes memory node-size path-max permissions|",
    ],
    ["dom0", "-", "getquota", ["nodes"], "1000|"],
    ["dom0", "-", "setquota", ["nodes", "7"], "OK|"],
    ["dom0", "-", "getquota", ["nodes"], "7|"],
    ["dom0", "-", "setquota", ["nodez", "7"], "EINVAL"],
    ["dom0", "-", "control", ["quota", "set", "watches", "9"], "OK|"],
    ["dom0", "-", "getquota", ["watches"], "9|"],
    ["dom0", "-", "control", ["quota", "set", "watches", "0"], "EINVAL"],
    ["dom0", "-", "control", ["quota", "77"], "ENOENT"],
    ["dom0", "-", "control", ["bogus"], "EINVAL"],
    ["dom0", "-", "control", ["check"], "OK|"],
    ["dom0", "-", "control", ["quota-soft", "set", "memory", "4096"], "OK|"],
    ["dom0", "-", "control", ["quota-soft", "set", "nodes", "4"], "EINVAL"],
    ["dom0", "-", "control", ["help", "x"], "EINVAL"],
  ]);
  const soft = h.send("dom0", "-", "control", ["quota-soft"]).get("dom0")![0]!;
  assert.match(soft, /^Quota settings:\nmemory {11}: {5}4096 /);
  const help = h.send("dom0", "-", "control", ["help"]).get("dom0")![0]!;
  assert.match(help, /^check\t\nlog\ton\|off\n/);
  const text = h.send("dom0", "-", "control", ["quota", "5"]).get("dom0")![0]!;
  assert.match(text, /^Domain 5:\nnodes {11}: {8}1\n/);
});

Deno.test("quotas: SET_QUOTA with a domid changes that domain only; 0 disables the check", () => {
  const h = new Harness();
  h.guest(5);
  h.guest(6);
  h.run([
    ["dom0", "-", "setquota", ["5", "nodes", "2"], "OK|"],
    ["dom0", "-", "getquota", ["5", "nodes"], "2|"],
    ["dom0", "-", "getquota", ["6", "nodes"], "1000|"],
    ["dom0", "-", "getquota", ["nodes"], "1000|"],
    ["dom0", "-", "setquota", ["77", "nodes", "2"], "ENOENT"],
    ["dom0", "-", "setquota", ["5", "nodes", "-1"], "EINVAL"],
    ["g5", "-", "write", ["a", ""], "OK|"],
    ["g5", "-", "write", ["b", ""], "ENOSPC"],
    ["g6", "-", "write", ["a/b/c", ""], "OK|"],
    ["dom0", "-", "setquota", ["5", "nodes", "0"], "OK|"],
    ["g5", "-", "write", ["b/c/d/e", ""], "OK|"],
  ]);
});

Deno.test("quotas: SET_QUOTA table (Xen 4.22 semantics)", async (t) => {
  // [title, rows]; domain 5 is introduced, 6 exists but is not introduced, 77 does not exist.
  const cases: [string, Row[]][] = [
    ["a global value is the default for new domains only", [
      ["dom0", "-", "setquota", ["nodes", "7"], "OK|"],
      ["dom0", "-", "getquota", ["nodes"], "7|"],
      ["dom0", "-", "getquota", ["5", "nodes"], "1000|"],
      ["dom0", "-", "getquota", ["6", "nodes"], "7|"],
      ["dom0", "-", "setquota", ["nodes", "8"], "OK|"],
      ["dom0", "-", "getquota", ["6", "nodes"], "7|"],
    ]],
    ["a domain's value leaves the global one and other domains alone", [
      ["dom0", "-", "setquota", ["5", "watches", "3"], "OK|"],
      ["dom0", "-", "getquota", ["5", "watches"], "3|"],
      ["dom0", "-", "getquota", ["watches"], "128|"],
      ["dom0", "-", "getquota", ["6", "watches"], "128|"],
    ]],
    ["a domain that exists but is not introduced has quotas", [
      ["dom0", "-", "setquota", ["6", "nodes", "2"], "OK|"],
      ["dom0", "-", "getquota", ["6", "nodes"], "2|"],
      ["dom0", "-", "getquota", ["nodes"], "1000|"],
    ]],
    ["an unknown domain is ENOENT", [
      ["dom0", "-", "setquota", ["77", "nodes", "2"], "ENOENT"],
      ["dom0", "-", "getquota", ["77", "nodes"], "ENOENT"],
    ]],
    ["0 is accepted and disables the check", [
      ["dom0", "-", "setquota", ["nodes", "0"], "OK|"],
      ["dom0", "-", "getquota", ["nodes"], "0|"],
      ["dom0", "-", "setquota", ["5", "nodes", "0"], "OK|"],
      ["dom0", "-", "getquota", ["5", "nodes"], "0|"],
    ]],
    ["UINT_MAX, negative, non-numeric and unknown names are EINVAL", [
      ["dom0", "-", "setquota", ["nodes", "4294967295"], "EINVAL"],
      ["dom0", "-", "setquota", ["5", "nodes", "4294967295"], "EINVAL"],
      ["dom0", "-", "setquota", ["nodes", "-1"], "EINVAL"],
      ["dom0", "-", "setquota", ["nodes", "lots"], "EINVAL"],
      ["dom0", "-", "setquota", ["soft-nodes", "1"], "EINVAL"],
      ["dom0", "-", "getquota", ["nodes"], "1000|"],
    ]],
    ["a guest may not use them", [
      ["g5", "-", "setquota", ["nodes", "0"], "EACCES"],
      ["g5", "-", "getquota", ["nodes"], "EACCES"],
    ]],
  ];
  for (const [title, rows] of cases) {
    await t.step(title, () => {
      const h = new Harness();
      h.guest(5);
      h.core.createDomain(6);
      h.run(rows);
    });
  }
});
