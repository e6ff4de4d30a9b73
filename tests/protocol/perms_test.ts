/**
 * Permission strings (`n0`, `r5`, `w3`, `b7`) as a typed model.
 */

import assert from "node:assert/strict";
import {
  DOMID_MAX,
  formatPermission,
  formatPermissions,
  InvalidPermissionError,
  parsePermission,
  parsePermissions,
  perm,
} from "../../lib/protocol/mod.ts";

const opts = { permissions: "none" } as const;

Deno.test("parsePermission() reads each letter", opts, () => {
  assert.deepEqual(parsePermission("n0"), { domid: 0, access: "none" });
  assert.deepEqual(parsePermission("r5"), { domid: 5, access: "read" });
  assert.deepEqual(parsePermission("w3"), { domid: 3, access: "write" });
  assert.deepEqual(parsePermission("b7"), { domid: 7, access: "both" });
  assert.deepEqual(parsePermission(`b${DOMID_MAX}`), { domid: DOMID_MAX, access: "both" });
});

Deno.test("parsePermission() rejects bad text with the rule broken", opts, () => {
  const cases: [string, RegExp][] = [
    ["x1", /"x1": the first letter must be n, r, w or b/],
    ["", /the first letter must be n, r, w or b/],
    ["r", /"r": the letter must be followed by a decimal domid/],
    ["r-1", /followed by a decimal domid/],
    ["r1a", /followed by a decimal domid/],
    [`r${DOMID_MAX + 1}`, /the domid must be at most 65535/],
  ];
  for (const [text, rule] of cases) {
    assert.throws(() => parsePermission(text), (e: unknown) => {
      assert.ok(e instanceof InvalidPermissionError);
      assert.equal(e.text, text);
      assert.match(e.message, rule);
      return true;
    });
  }
});

Deno.test("formatPermission() is the inverse of parsePermission()", opts, () => {
  for (const text of ["n0", "r5", "w3", "b7", "b65535"]) {
    assert.equal(formatPermission(parsePermission(text)), text);
  }
  assert.throws(() => formatPermission({ domid: -1, access: "read" }), /integer from 0 to 65535/);
  assert.throws(() => formatPermission({ domid: 1.5, access: "read" }), InvalidPermissionError);
  assert.throws(
    () => formatPermission({ domid: 1, access: "all" as "read" }),
    /access must be none, read, write or both/,
  );
});

Deno.test("parsePermissions() takes a list or xenstore-ls -p text", opts, () => {
  const expected = [{ domid: 1, access: "none" }, { domid: 0, access: "read" }];
  assert.deepEqual(parsePermissions("n1,r0"), expected);
  assert.deepEqual(parsePermissions("n1 r0"), expected);
  assert.deepEqual(parsePermissions(["n1", "r0"]), expected);
  assert.equal(formatPermissions(expected as never), "n1,r0");
  assert.throws(() => parsePermissions(""), /a list needs at least one entry/);
  assert.throws(() => parsePermissions("n1,q0"), /"q0"/);
});

Deno.test("perm() is shorthand for one entry", opts, () => {
  assert.deepEqual(perm("w", 4), { domid: 4, access: "write" });
});
