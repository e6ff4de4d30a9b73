import assert from "node:assert/strict";
import { Harness } from "./_table.ts";

Deno.test("watch() sends OK, then the initial event; events fire for the subtree only", () => {
  const h = new Harness();
  h.run([
    ["dom0", "-", "watch", ["/w", "tok"], "OK|", { dom0: ["/w|tok|"] }],
    ["dom0b", "-", "write", ["/w/a/b", "1"], "OK|", { dom0: ["/w/a/b|tok|"] }],
    ["dom0b", "-", "write", ["/wx", "1"], "OK|"],
    ["dom0b", "-", "write", ["/w", "v"], "OK|", { dom0: ["/w|tok|"] }],
    ["dom0b", "-", "setperms", ["/w/a", "n99"], "ENOENT"],
    ["dom0b", "-", "setperms", ["/w/a", "n0"], "OK|", { dom0: ["/w/a|tok|"] }],
    ["dom0", "-", "watch", ["/w", "tok"], "EEXIST"],
    ["dom0", "-", "unwatch", ["/w", "tok"], "OK|"],
    ["dom0", "-", "unwatch", ["/w", "tok"], "ENOENT"],
    ["dom0b", "-", "write", ["/w/a", "2"], "OK|"],
  ]);
});

Deno.test("watch(): removing an ancestor reports the watched path; descendants report themselves", () => {
  const h = new Harness();
  h.send("dom0", "-", "write", ["/r/a/b", "1"]);
  h.run([
    ["dom0", "-", "watch", ["/r/a/b", "deep"], "OK|", { dom0: ["/r/a/b|deep|"] }],
    ["dom0", "-", "watch", ["/r/a/missing", "gone"], "OK|", { dom0: ["/r/a/missing|gone|"] }],
    ["dom0b", "-", "watch", ["/", "root"], "OK|", { dom0b: ["/|root|"] }],
    ["dom0", "-", "rm", ["/r"], "OK|", { dom0: ["/r/a/b|deep|"], dom0b: ["/r|root|"] }],
  ]);
});

Deno.test("watch(): a depth limits how far below the path events fire", () => {
  const h = new Harness();
  h.run([
    ["dom0", "-", "watch", ["/d", "t", "1"], "OK|", { dom0: ["/d|t|"] }],
    ["dom0b", "-", "write", ["/d/a", "1"], "OK|", { dom0: ["/d/a|t|"] }],
    ["dom0b", "-", "write", ["/d/a/b", "1"], "OK|"],
    ["dom0", "-", "watch", ["/d", "u", "deep"], "EINVAL"],
  ]);
});

Deno.test("watch(): relative watches of a guest report relative paths", () => {
  const h = new Harness();
  h.guest(4);
  h.run([
    ["g4", "-", "watch", ["device", "rel"], "OK|", { g4: ["device|rel|"] }],
    ["dom0", "-", "write", ["/local/domain/4/device/vif/0", "x"], "OK|", {
      g4: ["device/vif/0|rel|"],
    }],
  ]);
});

Deno.test("watch(): unprivileged watchers only see nodes they (or the parent) may read", () => {
  const h = new Harness();
  h.guest(4);
  h.send("dom0", "-", "write", ["/hidden/x", "1"]);
  h.run([
    ["g4", "-", "watch", ["/hidden", "h"], "OK|", { g4: ["/hidden|h|"] }],
    ["dom0", "-", "write", ["/hidden/x/y", "2"], "OK|"],
    ["dom0", "-", "setperms", ["/hidden/x", "n0", "r4"], "OK|", { g4: ["/hidden/x|h|"] }],
    ["dom0", "-", "write", ["/hidden/x/z", "2"], "OK|", { g4: ["/hidden/x/z|h|"] }],
  ]);
});

Deno.test("watch(): identical pending events are sent once", () => {
  const h = new Harness();
  h.run([
    ["dom0", "-", "watch", ["/", "same"], "OK|", { dom0: ["/|same|"] }],
    ["dom0", "-", "watch", ["/dup", "same"], "OK|", { dom0: ["/dup|same|"] }],
    ["dom0b", "-", "write", ["/dup/x", "1"], "OK|", { dom0: ["/dup/x|same|"] }],
  ]);
});

Deno.test("watch(): @introduceDomain and @releaseDomain need read permission for guests", () => {
  const h = new Harness();
  h.guest(4);
  h.core.createDomain(6);
  h.run([
    ["dom0", "-", "watch", ["@introduceDomain", "i"], "OK|", { dom0: ["@introduceDomain|i|"] }],
    ["g4", "-", "watch", ["@introduceDomain", "i"], "OK|", { g4: ["@introduceDomain|i|"] }],
    ["dom0", "-", "introduce", ["6", "0", "1"], "OK|", { dom0: ["@introduceDomain|i|"] }],
    ["dom0", "-", "setperms", ["@introduceDomain", "n0", "r4"], "OK|"],
    ["g4", "-", "setperms", ["@releaseDomain", "n4"], "EACCES"],
    ["dom0", "-", "release", ["6"], "OK|"],
    ["dom0", "-", "introduce", ["6", "0", "1"], "OK|", {
      dom0: ["@introduceDomain|i|"],
      g4: ["@introduceDomain|i|"],
    }],
  ]);
});

Deno.test("watch(): an event caused by a request comes before that request's reply (as in C)", () => {
  const h = new Harness();
  h.send("dom0", "-", "watch", ["/o", "tok"]);
  const frames = h.send("dom0", "-", "write", ["/o/x", "1"]).get("dom0");
  assert.deepEqual(frames, ["EVENT /o/x|tok|", "OK|"]);
});
