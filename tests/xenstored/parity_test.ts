/**
 * Table tests of the issue 9 part 4 cases, without sockets (the same cases run against the
 * real C xenstored in `differential_cases_test.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { Harness } from "./_table.ts";

Deno.test("reserved domain ids: INTRODUCE is EINVAL, and nothing else then knows them", () => {
  const h = new Harness();
  h.guest(5);
  for (const id of ["32752", "32767", "65535", "-1", "4294967295"]) {
    h.run([
      ["dom0", "-", "introduce", [id, "0", "1"], "EINVAL"],
      ["dom0", "-", "release", [id], "ENOENT"],
      ["dom0", "-", "resume", [id], "ENOENT"],
      ["dom0", "-", "settarget", ["5", id], "ENOENT"],
      ["dom0", "-", "settarget", [id, "5"], "ENOENT"],
    ]);
  }
  h.run([
    ["dom0", "-", "isintroduced", ["32752"], "T|"], // DOMID_SELF
    ["dom0", "-", "isintroduced", ["32767"], "F|"],
    ["dom0", "-", "isintroduced", ["-1"], "F|"],
    ["dom0", "-", "introduce", ["65541", "0", "1"], "OK|"], // domid_t 5 exists
    ["dom0", "-", "isintroduced", ["65541"], "T|"],
    ["dom0", "-", "write", ["/t", "x"], "OK|"],
    ["dom0", "-", "setperms", ["/t", "n-1"], "ENOENT"],
    ["dom0", "-", "setperms", ["/t", "n32752"], "ENOENT"],
    ["dom0", "-", "setperms", ["/t", "n0", "r-1"], "OK|"],
    ["dom0", "-", "getperms", ["/t"], "n0|r-1|"],
  ]);
  assert.throws(
    () => h.core.createDomain(32752),
    /domid must be an integer from 0 to 32751, got 32752/,
  );
  assert.throws(() => h.core.createDomain(-1), /domid must be an integer from 0 to 32751, got -1/);
});

Deno.test("transactions: a write of an existing node over the size quota fails the transaction", () => {
  const h = new Harness();
  h.guest(5);
  h.run([
    ["dom0", "-", "mkdir", ["/local/domain/0/tb"], "OK|"],
    ["dom0", "-", "setperms", ["/local/domain/0/tb", "n0", "b5"], "OK|"],
  ]);
  h.start("g5", "A");
  h.run([
    ["g5", "A", "write", ["/local/domain/0/tb", "x".repeat(2047)], "ENOSPC"],
    ["g5", "A", "end", ["T"], "ENOMEM"],
    ["g5", "-", "write", ["/local/domain/0/tb", "x".repeat(2000)], "OK|"],
  ]);
  h.run([["g5", "-", "write", ["own", "x".repeat(1995)], "OK|"]]);
  h.start("g5", "B");
  h.run([
    ["g5", "B", "setperms", ["own", "n5", "r1", "r2", "r3"], "ENOSPC"],
    ["g5", "B", "end", ["T"], "ENOMEM"],
    ["g5", "-", "getperms", ["own"], "n5|r0|"],
  ]);
});
