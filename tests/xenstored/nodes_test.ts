import assert from "node:assert/strict";
import { Harness } from "./_table.ts";

Deno.test("write() creates missing parents with empty values and the parent's permissions", () => {
  const h = new Harness();
  h.run([
    ["dom0", "-", "setperms", ["/tool", "n0", "r3"], "OK|"],
    ["dom0", "-", "write", ["/tool/a/b", "v"], "OK|"],
    ["dom0", "-", "read", ["/tool/a"], ""],
    ["dom0", "-", "getperms", ["/tool/a"], "n0|r3|"],
    ["dom0", "-", "getperms", ["/tool/a/b"], "n0|r3|"],
    ["dom0", "-", "read", ["/tool/a/b"], "v"],
    ["dom0", "-", "mkdir", ["/tool/a/b"], "OK|"],
    ["dom0", "-", "read", ["/tool/a/b"], "v"],
  ]);
});

Deno.test("an unprivileged writer owns the nodes it creates", () => {
  const h = new Harness();
  h.guest(5);
  h.run([
    ["dom0", "-", "setperms", ["/local/domain/5", "n5", "r0", "b7"], "OK|"],
    ["g5", "-", "write", ["data/x", "1"], "OK|"],
    ["dom0", "-", "getperms", ["/local/domain/5/data"], "n5|r0|b7|"],
    ["dom0", "-", "getperms", ["/local/domain/5/data/x"], "n5|r0|b7|"],
    ["g5", "-", "read", ["/local/domain/5/data/x"], "1"],
    ["g5", "-", "write", ["/tool/evil", "1"], "EACCES"],
    ["dom0", "-", "write", ["/local/domain/5/dom0made", ""], "OK|"],
    ["dom0", "-", "getperms", ["/local/domain/5/dom0made"], "n5|r0|b7|"],
  ]);
});

Deno.test("write() keeps binary values byte for byte", () => {
  const h = new Harness();
  h.run([
    ["dom0", "-", "write", ["/bin", "\x00\xff\x80a"], "OK|"],
    ["dom0", "-", "read", ["/bin"], "|\xff\x80a"],
  ]);
});

Deno.test("rm() removes a subtree, accepts a missing node under an existing parent", () => {
  const h = new Harness();
  h.run([
    ["dom0", "-", "write", ["/a/b/c", "1"], "OK|"],
    ["dom0", "-", "rm", ["/a/b"], "OK|"],
    ["dom0", "-", "read", ["/a/b/c"], "ENOENT"],
    ["dom0", "-", "directory", ["/a"], ""],
    ["dom0", "-", "rm", ["/a/missing"], "OK|"],
    ["dom0", "-", "rm", ["/a/missing/deeper"], "ENOENT"],
    ["dom0", "-", "rm", ["/"], "EINVAL"],
  ]);
});

Deno.test("directory() lists children in insertion order", () => {
  const h = new Harness();
  h.run([
    ["dom0", "-", "write", ["/d/zeta", ""], "OK|"],
    ["dom0", "-", "write", ["/d/alpha", ""], "OK|"],
    ["dom0", "-", "write", ["/d/mid", ""], "OK|"],
    ["dom0", "-", "directory", ["/d"], "zeta|alpha|mid|"],
    ["dom0", "-", "rm", ["/d/alpha"], "OK|"],
    ["dom0", "-", "write", ["/d/alpha", ""], "OK|"],
    ["dom0", "-", "directory", ["/d"], "zeta|mid|alpha|"],
    ["dom0", "-", "directory", ["/"], "tool|d|"],
  ]);
});

Deno.test("directory() answers E2BIG over 4096 bytes; DIRECTORY_PART pages with a terminator", () => {
  const h = new Harness();
  const names: string[] = [];
  for (let i = 0; i < 300; i++) {
    const name = `child-number-${String(i).padStart(4, "0")}`;
    names.push(name);
    h.send("dom0", "-", "write", [`/big/${name}`, ""]);
  }
  h.run([["dom0", "-", "directory", ["/big"], "E2BIG"]]);
  const seen: string[] = [];
  let offset = 0;
  let gen: string | undefined;
  for (;;) {
    const reply = h.send("dom0", "-", "directorypart", ["/big", String(offset)]).get("dom0")!;
    const parts = (reply[0] ?? "").split("|");
    gen ??= parts[0];
    assert.equal(parts[0], gen, "the generation stays while nothing changes");
    const chunk = parts.slice(1);
    assert.equal(chunk.pop(), "", "chunks end with a NUL");
    const done = chunk.at(-1) === "";
    if (done) chunk.pop();
    seen.push(...chunk);
    offset += chunk.reduce((n, c) => n + c.length + 1, 0);
    if (done) break;
  }
  assert.deepEqual(seen, names);
  const past = h.send("dom0", "-", "directorypart", ["/big", "999999"]).get("dom0")!;
  assert.equal(past[0], `${gen}||`);
});

Deno.test("read() rejects invalid paths with EINVAL", () => {
  const h = new Harness();
  h.run([
    ["dom0", "-", "read", ["/a//b"], "EINVAL"],
    ["dom0", "-", "read", ["/a/"], "EINVAL"],
    ["dom0", "-", "read", ["/a b"], "EINVAL"],
    ["dom0", "-", "read", ["@introduceDomain"], "EINVAL"],
    ["dom0", "-", "write", [`/${"x".repeat(2049)}`, "v"], "EINVAL"],
    ["dom0", "-", "write", [`/local/domain/1/${"x".repeat(2048)}`, "v"], "OK|"],
  ]);
});

Deno.test("relative paths resolve under the connection's home", () => {
  const h = new Harness();
  h.guest(3);
  h.run([
    ["dom0", "-", "write", ["rel", "0"], "OK|"],
    ["dom0", "-", "read", ["/local/domain/0/rel"], "0"],
    ["g3", "-", "write", ["name", "guest"], "OK|"],
    ["dom0", "-", "read", ["/local/domain/3/name"], "guest"],
  ]);
});
