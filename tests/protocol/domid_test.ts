/**
 * Domain ids: the one check every layer uses, and Xen's reserved range.
 */

import assert from "node:assert/strict";
import {
  checkDomid,
  DOMID_ANY,
  DOMID_FIRST_RESERVED,
  DOMID_MAX,
  DOMID_SELF,
  isReservedDomid,
  parseDomid,
} from "../../lib/protocol/mod.ts";

const opts = { permissions: "none" } as const;

Deno.test("the reserved range follows xen.h", opts, () => {
  assert.equal(DOMID_FIRST_RESERVED, 0x7ff0);
  assert.equal(DOMID_SELF, 0x7ff0);
  assert.equal(DOMID_ANY, 0x7ff5);
  assert.equal(DOMID_MAX, 0xffff);
  assert.equal(isReservedDomid(DOMID_FIRST_RESERVED - 1), false);
  assert.equal(isReservedDomid(DOMID_FIRST_RESERVED), true);
  assert.equal(isReservedDomid(-1), true); // 65535 as domid_t
});

Deno.test("checkDomid() accepts a real domain's id and returns it", opts, () => {
  assert.equal(checkDomid(0), 0);
  assert.equal(checkDomid(DOMID_FIRST_RESERVED - 1), 32751);
});

Deno.test("checkDomid() refuses reserved ids unless allowReserved", opts, () => {
  assert.throws(() => checkDomid(DOMID_SELF), {
    name: "RangeError",
    message: "domid must be an integer from 0 to 32751, got 32752",
  });
  assert.equal(checkDomid(DOMID_SELF, { allowReserved: true }), DOMID_SELF);
  assert.equal(checkDomid(DOMID_MAX, { allowReserved: true }), 65535);
  assert.throws(() => checkDomid(DOMID_MAX + 1, { allowReserved: true }), {
    name: "RangeError",
    message: "domid must be an integer from 0 to 65535, got 65536",
  });
});

Deno.test("checkDomid() refuses non-integers and names what the value was", opts, () => {
  for (const bad of [-1, 1.5, NaN, Infinity]) {
    assert.throws(() => checkDomid(bad, { what: "backendDomid" }), {
      name: "RangeError",
      message: `backendDomid must be an integer from 0 to 32751, got ${bad}`,
    });
  }
});

Deno.test("parseDomid() reads plain decimal only, then checks the range", opts, () => {
  assert.equal(parseDomid("0"), 0);
  assert.equal(parseDomid("32751"), 32751);
  for (const bad of ["", "-1", "+1", "07", "1.0", " 1", "0x10", "1e3", "1234567"]) {
    assert.throws(() => parseDomid(bad, { what: "target" }), {
      name: "RangeError",
      message: `target must be a decimal domain id, got ${JSON.stringify(bad)}`,
    });
  }
  assert.throws(() => parseDomid("32752"), /from 0 to 32751, got 32752/);
  assert.equal(parseDomid("65535", { allowReserved: true }), 65535);
  assert.throws(() => parseDomid("65536", { allowReserved: true }), /got 65536/);
});
