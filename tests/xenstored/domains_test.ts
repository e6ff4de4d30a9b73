import { Harness } from "./_table.ts";

Deno.test("domains: introduce, is_domain_introduced, get_domain_path, resume, release", () => {
  const h = new Harness();
  h.core.createDomain(8);
  h.run([
    ["dom0", "-", "isintroduced", ["8"], "F|"],
    ["dom0", "-", "introduce", ["8", "0", "0"], "EINVAL"],
    ["dom0", "-", "introduce", ["8", "0"], "EINVAL"],
    ["dom0", "-", "introduce", ["8", "-1", "3"], "OK|"],
    ["dom0", "-", "isintroduced", ["8"], "T|"],
    ["dom0", "-", "isintroduced", ["0"], "T|"],
    ["dom0", "-", "isintroduced", ["32752"], "T|"],
    ["dom0", "-", "getdomainpath", ["8"], "/local/domain/8|"],
    ["dom0", "-", "getdomainpath", ["-1"], "/local/domain/4294967295|"],
    ["dom0", "-", "getdomainpath", ["1x"], "/local/domain/1|"],
    ["dom0", "-", "resume", ["8"], "OK|"],
    ["dom0", "-", "resume", ["9"], "ENOENT"],
    ["dom0", "-", "release", ["0"], "EINVAL"],
    ["dom0", "-", "release", ["8"], "OK|"],
    ["dom0", "-", "release", ["8"], "ENOENT"],
    ["dom0", "-", "isintroduced", ["8"], "F|"],
  ]);
});

Deno.test("domains: releasing removes the nodes the domain owned and fires @releaseDomain", () => {
  const h = new Harness();
  h.guest(5);
  h.run([
    ["g5", "-", "write", ["data/a", "1"], "OK|"],
    ["dom0", "-", "write", ["/shared/x", "1"], "OK|"],
    ["dom0", "-", "setperms", ["/shared/x", "n0", "b5"], "OK|"],
    ["g5", "-", "write", ["/shared/x/mine", "1"], "OK|"],
    ["dom0", "-", "watch", ["@releaseDomain", "r"], "OK|", { dom0: ["@releaseDomain|r|"] }],
    ["dom0", "-", "watch", ["/local/domain/5/data/a", "a"], "OK|", {
      dom0: ["/local/domain/5/data/a|a|"],
    }],
    ["dom0", "-", "release", ["5"], "OK|", {
      dom0: ["/local/domain/5/data/a|a|", "@releaseDomain|r|"],
    }],
    ["dom0", "-", "read", ["/local/domain/5"], "ENOENT"],
    ["dom0", "-", "directory", ["/shared/x"], ""],
    ["dom0", "-", "getperms", ["/shared/x"], "n0|b5|"],
  ]);
});

Deno.test("domains: privileged requests are refused to guests with EACCES", () => {
  const h = new Harness();
  h.guest(5);
  h.run([
    ["g5", "-", "introduce", ["9", "0", "1"], "EACCES"],
    ["g5", "-", "release", ["5"], "EACCES"],
    ["g5", "-", "isintroduced", ["5"], "EACCES"],
    ["g5", "-", "control", ["check"], "EACCES"],
    ["g5", "-", "setquota", ["nodes", "5"], "EACCES"],
    ["g5", "-", "getdomainpath", ["5"], "/local/domain/5|"],
    ["g5", "-", "getfeature", [], "4|"],
  ]);
});

Deno.test("domains: set_feature only before introduce, and it switches WATCHDEPTH off", () => {
  const h = new Harness();
  h.core.createDomain(12);
  h.run([
    ["dom0", "-", "setfeature", ["12", "8"], "EINVAL"],
    ["dom0", "-", "setfeature", ["12", "0"], "OK|"],
    ["dom0", "-", "getfeature", ["12"], "0|"],
    ["dom0", "-", "setfeature", ["99", "0"], "ENOENT"],
  ]);
  h.guest(12);
  h.run([
    ["dom0", "-", "setfeature", ["12", "4"], "EBUSY"],
    ["g12", "-", "getfeature", [], "0|"],
    ["g12", "-", "watch", ["x", "t", "1"], "EINVAL"],
    ["g12", "-", "watch", ["x", "t"], "OK|", { g12: ["x|t|"] }],
    ["dom0", "-", "getfeature", [], "4|"],
  ]);
});

Deno.test("domains: a SET_TARGET target outlives one RELEASE and a destroy, as in C", () => {
  const h = new Harness();
  h.guest(5);
  h.guest(6);
  h.run([
    ["dom0", "-", "settarget", ["6", "5"], "OK|"],
    ["dom0", "-", "release", ["5"], "OK|"],
    ["dom0", "-", "isintroduced", ["5"], "T|"],
    ["dom0", "-", "release", ["5"], "OK|"],
    ["dom0", "-", "isintroduced", ["5"], "F|"],
    ["dom0", "-", "settarget", ["6", "6"], "OK|"],
  ]);
  h.guest(7);
  h.run([
    ["dom0", "-", "settarget", ["6", "7"], "OK|"],
    ["dom0", "-", "watch", ["@releaseDomain", "r"], "OK|", { dom0: ["@releaseDomain|r|"] }],
  ]);
  h.core.destroyDomain(7);
  h.run([
    ["dom0", "-", "isintroduced", ["7"], "T|"],
    ["dom0", "-", "resume", ["7"], "EINVAL"],
    ["dom0", "-", "release", ["6"], "OK|"],
    ["dom0", "-", "release", ["6"], "OK|", { dom0: ["@releaseDomain|r|", "@releaseDomain|r|"] }],
    ["dom0", "-", "isintroduced", ["7"], "F|"],
  ]);
});
