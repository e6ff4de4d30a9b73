import { Harness } from "./_table.ts";

Deno.test("permissions: owner, first matching entry, then entry 0 as the default", () => {
  const h = new Harness();
  h.guest(5);
  h.guest(6);
  h.guest(7);
  h.run([
    ["dom0", "-", "write", ["/p/x", "v"], "OK|"],
    ["dom0", "-", "setperms", ["/p", "r0"], "OK|"],
    ["dom0", "-", "setperms", ["/p/x", "n5", "w6", "r6", "r7"], "OK|"],
    ["g5", "-", "read", ["/p/x"], "v"],
    ["g5", "-", "write", ["/p/x", "by5"], "OK|"],
    ["g6", "-", "read", ["/p/x"], "EACCES"],
    ["g6", "-", "write", ["/p/x", "by6"], "OK|"],
    ["g7", "-", "read", ["/p/x"], "by6"],
    ["g7", "-", "write", ["/p/x", "by7"], "EACCES"],
    ["dom0", "-", "setperms", ["/p/x", "b5"], "OK|"],
    ["g7", "-", "write", ["/p/x", "by7"], "OK|"],
  ]);
});

Deno.test("permissions: a missing node under an unreadable parent is EACCES, else ENOENT", () => {
  const h = new Harness();
  h.guest(5);
  h.run([
    ["dom0", "-", "write", ["/secret/x", "v"], "OK|"],
    ["g5", "-", "read", ["/secret/missing"], "EACCES"],
    ["dom0", "-", "setperms", ["/secret", "n0", "r5"], "OK|"],
    ["g5", "-", "read", ["/secret/missing"], "ENOENT"],
    ["g5", "-", "read", ["/secret/x"], "EACCES"],
  ]);
});

Deno.test("setperms() lets only privileged callers change the owner", () => {
  const h = new Harness();
  h.guest(5);
  h.run([
    ["g5", "-", "write", ["mine", "1"], "OK|"],
    ["g5", "-", "setperms", ["mine", "n5", "r0"], "OK|"],
    ["g5", "-", "setperms", ["mine", "n0"], "EPERM"],
    ["g5", "-", "setperms", ["/tool", "n5"], "EACCES"],
    ["dom0", "-", "setperms", ["/local/domain/5/mine", "n0"], "OK|"],
    ["g5", "-", "read", ["mine"], "EACCES"],
  ]);
});

Deno.test("setperms() validates entries as C xenstored does", () => {
  const h = new Harness();
  h.run([
    ["dom0", "-", "write", ["/q", ""], "OK|"],
    ["dom0", "-", "setperms", ["/q"], "EINVAL"],
    ["dom0", "-", "setperms", ["/q", "x0"], "EINVAL"],
    ["dom0", "-", "setperms", ["/q", "r"], "EINVAL"],
    ["dom0", "-", "setperms", ["/q", "r1x"], "EINVAL"],
    ["dom0", "-", "setperms", ["/q", "n99"], "ENOENT"],
    ["dom0", "-", "setperms", ["/q", "n0x0", "r010"], "OK|"],
    ["dom0", "-", "getperms", ["/q"], "n0|r8|"],
    ["dom0", "-", "setperms", ["/q", "n0", "r-1"], "OK|"],
    ["dom0", "-", "getperms", ["/q"], "n0|r-1|"],
  ]);
});

Deno.test("permissions: entries for a domain that did not exist stay ignored after it appears", () => {
  const h = new Harness();
  h.run([
    ["dom0", "-", "write", ["/early", "v"], "OK|"],
    ["dom0", "-", "setperms", ["/early", "n0", "r9"], "OK|"],
  ]);
  h.guest(9);
  h.run([
    ["g9", "-", "read", ["/early"], "EACCES"],
    ["dom0", "-", "setperms", ["/early", "n0", "r9"], "OK|"],
    ["g9", "-", "read", ["/early"], "v"],
  ]);
});

Deno.test("set_target gives a domain the rights of its target", () => {
  const h = new Harness();
  h.guest(5);
  h.guest(6);
  h.run([
    ["g6", "-", "read", ["/local/domain/5"], "EACCES"],
    ["dom0", "-", "settarget", ["6", "5"], "OK|"],
    ["g6", "-", "read", ["/local/domain/5"], ""],
    ["g6", "-", "write", ["/local/domain/5/bydm", "x"], "OK|"],
    ["dom0", "-", "settarget", ["6", "77"], "ENOENT"],
    ["g5", "-", "settarget", ["5", "6"], "EACCES"],
  ]);
});

Deno.test("permissions: a write keeps an entry of a re-created domain ignored", () => {
  const h = new Harness();
  h.guest(9);
  h.run([
    ["dom0", "-", "write", ["/old", "v"], "OK|"],
    ["dom0", "-", "setperms", ["/old", "n0", "r9"], "OK|"],
    ["g9", "-", "read", ["/old"], "v"],
    ["dom0", "-", "release", ["9"], "OK|"],
  ]);
  h.guest(9);
  h.run([
    ["g9", "-", "read", ["/old"], "EACCES"],
    ["dom0", "-", "write", ["/old", "w"], "OK|"],
    ["g9", "-", "read", ["/old"], "EACCES"],
    ["dom0", "-", "getperms", ["/old"], "n0|r9|"],
  ]);
});
