/**
 * Message type numbers and names, feature bits.
 */

import assert from "node:assert/strict";
import { Feature, isKnownOp, Op, opName } from "../../lib/protocol/mod.ts";

const opts = { permissions: "none" } as const;

Deno.test("Op numbers follow xs_wire.h", opts, () => {
  assert.equal(Op.Control, 0);
  assert.equal(Op.Read, 2);
  assert.equal(Op.WatchEvent, 15);
  assert.equal(Op.Error, 16);
  assert.equal(Op.ResetWatches, 21);
  assert.equal(Op.DirectoryPart, 22);
  assert.equal(Op.SetQuota, 26);
  assert.equal(Op.Invalid, 65535);
});

Deno.test("opName() names every op and falls back to OP_<n>", opts, () => {
  for (const [key, value] of Object.entries(Op)) {
    const name = opName(value);
    assert.equal(name.replaceAll("_", "").toLowerCase(), key.toLowerCase());
    assert.equal(isKnownOp(value), true);
  }
  assert.equal(opName(20), "OP_20");
  assert.equal(isKnownOp(20), false);
});

Deno.test("Feature bits are distinct powers of two", opts, () => {
  const bits = Object.values(Feature);
  assert.deepEqual(bits, [1, 2, 4, 8]);
});
