/**
 * Path rules: each broken rule has its own message; special paths only where allowed.
 */

import assert from "node:assert/strict";
import {
  ABS_PATH_MAX,
  InvalidPathError,
  isSpecialPath,
  joinPath,
  parentPath,
  REL_PATH_MAX,
  validatePath,
} from "../../lib/protocol/mod.ts";

const opts = { permissions: "none" } as const;

function rejects(path: string, rule: RegExp, options?: Parameters<typeof validatePath>[1]) {
  assert.throws(() => validatePath(path, options), (e: unknown) => {
    assert.ok(e instanceof InvalidPathError, String(e));
    assert.ok(e instanceof TypeError);
    assert.match(e.message, rule);
    return true;
  });
}

Deno.test("validatePath() accepts absolute, relative and root paths", opts, () => {
  for (const p of ["/", "/local/domain/0", "data/x", "a-b_c@d", "/a/B9"]) {
    assert.equal(validatePath(p), p);
  }
});

Deno.test("validatePath() rejects an empty path", opts, () => {
  rejects("", /"": it is empty/);
});

Deno.test("validatePath() rejects characters outside A-Z a-z 0-9 - / _ @", opts, () => {
  rejects("/a b", /character " " is not allowed \(only A-Z a-z 0-9 - \/ _ @\)/);
  rejects("/a.b", /character "\." is not allowed/);
  rejects("/é", /character "é" is not allowed/);
  rejects("/a\0b", /character "\\u0000" is not allowed/);
});

Deno.test('validatePath() rejects "//" and a trailing "/"', opts, () => {
  rejects("/a//b", /"\/a\/\/b": it contains "\/\/"/);
  rejects("/a/", /it ends with "\/"/);
});

Deno.test("validatePath() enforces the 3072/2048-byte limits", opts, () => {
  const abs = "/" + "a".repeat(ABS_PATH_MAX - 1);
  assert.equal(validatePath(abs), abs);
  rejects(abs + "a", /3073 bytes long, over the 3072-byte limit for absolute paths/);
  const rel = "a".repeat(REL_PATH_MAX);
  assert.equal(validatePath(rel), rel);
  rejects(rel + "a", /2049 bytes long, over the 2048-byte limit for relative paths/);
});

Deno.test("validatePath() with relative: false requires a leading /", opts, () => {
  rejects("data/x", /it must be absolute/, { relative: false });
});

Deno.test("special paths are accepted only with special: true", opts, () => {
  rejects("@releaseDomain", /special @ paths are only for watches and permissions/);
  for (const p of ["@introduceDomain", "@releaseDomain", "@releaseDomain/7"]) {
    assert.equal(validatePath(p, { special: true }), p);
    assert.equal(isSpecialPath(p), true);
  }
  rejects("@other", /the special paths are @introduceDomain and @releaseDomain/, {
    special: true,
  });
  rejects("@releaseDomain/x", /optionally with \/<domid>/, { special: true });
  assert.equal(isSpecialPath("/local"), false);
});

Deno.test("validatePath() names a non-string argument", opts, () => {
  rejects(42 as unknown as string, /it is not a string/);
});

Deno.test("joinPath() and parentPath() build and split paths", opts, () => {
  assert.equal(joinPath("/local/domain", 3, "device", "", "vif"), "/local/domain/3/device/vif");
  assert.equal(joinPath("/", "tool"), "/tool");
  assert.equal(parentPath("/local/domain"), "/local");
  assert.equal(parentPath("/local"), "/");
  assert.equal(parentPath("/"), undefined);
  assert.equal(parentPath("data/x"), "data");
});
