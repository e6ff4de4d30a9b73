import assert from "node:assert/strict";
import { Harness } from "./_table.ts";

Deno.test("transactions: changes are invisible until commit, then fire watches", () => {
  const h = new Harness();
  h.start("dom0", "T");
  h.run([
    ["dom0b", "-", "watch", ["/t", "w"], "OK|", { dom0b: ["/t|w|"] }],
    ["dom0", "T", "write", ["/t/a", "1"], "OK|"],
    ["dom0", "T", "read", ["/t/a"], "1"],
    ["dom0b", "-", "read", ["/t/a"], "ENOENT"],
    ["dom0", "T", "end", ["T"], "OK|", { dom0b: ["/t/a|w|"] }],
    ["dom0b", "-", "read", ["/t/a"], "1"],
  ]);
});

Deno.test("transactions: commit fails with EAGAIN only when a node it read changed", () => {
  const h = new Harness();
  h.send("dom0", "-", "write", ["/c/a", "1"]);
  h.send("dom0", "-", "write", ["/c/b", "1"]);
  h.start("dom0", "T1");
  h.start("dom0", "T2");
  h.run([
    ["dom0", "T1", "read", ["/c/a"], "1"],
    ["dom0", "T1", "write", ["/c/b", "from T1"], "OK|"],
    ["dom0b", "-", "write", ["/c/new", "outside"], "OK|"],
    ["dom0b", "-", "write", ["/elsewhere", "outside"], "OK|"],
    ["dom0", "T1", "end", ["T"], "OK|"],
    ["dom0", "-", "read", ["/c/b"], "from T1"],
    ["dom0", "-", "read", ["/c/new"], "outside"],
    ["dom0", "T2", "read", ["/c/a"], "1"],
    ["dom0b", "-", "write", ["/c/a", "changed"], "OK|"],
    ["dom0", "T2", "write", ["/c/x", "y"], "OK|"],
    ["dom0", "T2", "end", ["T"], "EAGAIN"],
    ["dom0", "-", "read", ["/c/x"], "ENOENT"],
    ["dom0", "T2", "read", ["/c/a"], "ENOENT"],
  ]);
});

Deno.test("transactions: a read of a missing node conflicts with its later creation", () => {
  const h = new Harness();
  h.start("dom0", "T");
  h.run([
    ["dom0", "T", "read", ["/m"], "ENOENT"],
    ["dom0b", "-", "write", ["/m", "now"], "OK|"],
    ["dom0", "T", "end", ["T"], "EAGAIN"],
  ]);
});

Deno.test("transactions: several per connection, EBUSY when nested, ENOENT for unknown ids", () => {
  const h = new Harness();
  const a = h.start("dom0", "A");
  const b = h.start("dom0", "B");
  assert.notEqual(a, b);
  h.run([
    ["dom0", "A", "start", { raw: "\0" }, "EBUSY"],
    ["dom0", "bogus", "read", ["/tool"], "ENOENT"],
    ["dom0", "-", "end", ["T"], "ENOENT"],
    ["dom0", "A", "end", ["X"], "EINVAL"],
    ["dom0", "A", "write", ["/ab", "a"], "OK|"],
    ["dom0", "B", "write", ["/ab", "b"], "OK|"],
    ["dom0", "A", "end", ["F"], "OK|"],
    ["dom0", "A", "read", ["/ab"], "ENOENT"],
    ["dom0", "B", "end", ["T"], "OK|"],
    ["dom0", "-", "read", ["/ab"], "b"],
  ]);
});

Deno.test("transactions: RESET_WATCHES discards them", () => {
  const h = new Harness();
  h.start("dom0", "T");
  h.run([
    ["dom0", "T", "write", ["/r", "1"], "OK|"],
    ["dom0", "-", "resetwatches", { raw: "\0" }, "OK|"],
    ["dom0", "T", "end", ["T"], "ENOENT"],
    ["dom0", "-", "read", ["/r"], "ENOENT"],
  ]);
});

Deno.test("transactions: rm inside a transaction removes the subtree at commit", () => {
  const h = new Harness();
  h.send("dom0", "-", "write", ["/s/a/b", "1"]);
  h.send("dom0", "-", "write", ["/s/c", "1"]);
  h.start("dom0", "T");
  h.run([
    ["dom0", "T", "rm", ["/s/a"], "OK|"],
    ["dom0", "T", "write", ["/s/d/e", "2"], "OK|"],
    ["dom0", "T", "directory", ["/s"], "c|d|"],
    ["dom0b", "-", "directory", ["/s"], "a|c|"],
    ["dom0", "T", "end", ["T"], "OK|"],
    ["dom0b", "-", "directory", ["/s"], "c|d|"],
    ["dom0b", "-", "read", ["/s/d/e"], "2"],
    ["dom0b", "-", "read", ["/s/a/b"], "ENOENT"],
  ]);
});

Deno.test("transactions: closing the connection drops them", () => {
  const h = new Harness();
  h.start("dom0b", "T");
  h.send("dom0b", "T", "write", ["/gone", "1"]);
  const conn = h.conns.get("dom0b")!;
  h.core.disconnect(conn);
  assert.equal(conn.transactions.size, 0);
  h.run([["dom0", "-", "read", ["/gone"], "ENOENT"]]);
});

Deno.test("transactions: a node created and removed inside one fires no event at commit", () => {
  const h = new Harness();
  h.start("dom0", "T");
  h.run([
    ["dom0b", "-", "watch", ["/local/domain/0/p", "w"], "OK|", { dom0b: ["/local/domain/0/p|w|"] }],
    ["dom0", "T", "write", ["p", "1"], "OK|"],
    ["dom0", "T", "rm", ["p"], "OK|"],
    ["dom0", "T", "end", ["T"], "OK|"],
  ]);
});

Deno.test("transactions: at commit, a watch permission check sees later nodes as before", () => {
  const h = new Harness();
  h.guest(5);
  h.send("dom0", "-", "write", ["/t/b", "0"]);
  h.start("dom0", "T");
  h.run([
    ["g5", "-", "watch", ["/t", "w"], "OK|", { g5: ["/t|w|"] }],
    ["dom0", "T", "write", ["/t/b", "1"], "OK|"],
    ["dom0", "T", "setperms", ["/t", "r5"], "OK|"],
    ["dom0", "T", "end", ["T"], "OK|", { g5: ["/t|w|"] }],
  ]);
});
