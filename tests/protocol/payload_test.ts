/**
 * Payload codecs: NUL-separated arguments, WRITE's unterminated value, single-string
 * replies, watch events and DIRECTORY_PART chunks.
 */

import assert from "node:assert/strict";
import {
  decodeDirectoryPart,
  decodeString,
  decodeWatchEvent,
  encodeArgs,
  encodeDirectoryPart,
  encodeWrite,
  ProtocolError,
  splitStrings,
} from "../../lib/protocol/mod.ts";
import { withSeed } from "./_prng.ts";

const opts = { permissions: "none" } as const;
const text = (s: string) => new TextEncoder().encode(s);

Deno.test("encodeArgs() terminates every argument with NUL", opts, () => {
  assert.deepEqual(encodeArgs(["/a", "tok"]), text("/a\0tok\0"));
  assert.deepEqual(encodeArgs([""]), text("\0"));
  assert.deepEqual(encodeArgs([]), new Uint8Array(0));
  assert.deepEqual(
    encodeArgs(["é", new Uint8Array([1, 2])]),
    new Uint8Array([0xc3, 0xa9, 0, 1, 2, 0]),
  );
});

Deno.test("encodeWrite() leaves the value unterminated and keeps raw bytes", opts, () => {
  assert.deepEqual(encodeWrite("/a", "xy"), text("/a\0xy"));
  assert.deepEqual(encodeWrite("/a", ""), text("/a\0"));
  assert.deepEqual(
    encodeWrite("/a", new Uint8Array([0, 255])),
    new Uint8Array([47, 97, 0, 0, 255]),
  );
});

Deno.test("splitStrings() splits at NUL and ignores one trailing terminator", opts, () => {
  assert.deepEqual(splitStrings(text("a\0b\0")), ["a", "b"]);
  assert.deepEqual(splitStrings(text("a\0b")), ["a", "b"]);
  assert.deepEqual(splitStrings(text("")), []);
  assert.deepEqual(splitStrings(text("\0")), [""]);
  assert.deepEqual(splitStrings(text("a\0\0")), ["a", ""]);
});

Deno.test("splitStrings(encodeArgs(x)) is x for random argument lists", opts, () => {
  withSeed((rng) => {
    for (let i = 0; i < 200; i++) {
      const args = Array.from(
        { length: rng.int(1, 8) },
        () =>
          Array.from({ length: rng.int(1, 12) }, () => String.fromCharCode(rng.int(1, 0x7ff))).join(
            "",
          ),
      );
      assert.deepEqual(splitStrings(encodeArgs(args)), args);
    }
  });
});

Deno.test("decodeString() drops one trailing NUL", opts, () => {
  assert.equal(decodeString(text("OK\0")), "OK");
  assert.equal(decodeString(text("5")), "5");
  assert.equal(decodeString(text("")), "");
});

Deno.test("decodeWatchEvent() reads path and token, rejects other shapes", opts, () => {
  assert.deepEqual(decodeWatchEvent(text("/a/b\0t1\0")), { path: "/a/b", token: "t1" });
  for (const bad of ["/a\0", "/a\0t\0extra\0", ""]) {
    assert.throws(
      () => decodeWatchEvent(text(bad)),
      (e) => e instanceof ProtocolError && /Malformed WATCH_EVENT payload/.test(e.message),
    );
  }
});

Deno.test("decodeDirectoryPart() reads generation, children and the end mark", opts, () => {
  const last = decodeDirectoryPart(text("3\0a\0bb\0\0"));
  assert.deepEqual(last, { generation: "3", children: ["a", "bb"], done: true, consumed: 5 });
  const middle = decodeDirectoryPart(text("3\0a\0bb\0"));
  assert.deepEqual(middle, { generation: "3", children: ["a", "bb"], done: false, consumed: 5 });
  const empty = decodeDirectoryPart(text("9\0\0"));
  assert.deepEqual(empty, { generation: "9", children: [], done: true, consumed: 0 });
  assert.throws(() => decodeDirectoryPart(text("3")), /no generation count/);
});

Deno.test("encodeDirectoryPart() round trips through decodeDirectoryPart()", opts, () => {
  for (const done of [true, false]) {
    const chunk = decodeDirectoryPart(encodeDirectoryPart("12", ["x", "yy", "zzz"], done));
    assert.deepEqual(chunk.children, ["x", "yy", "zzz"]);
    assert.equal(chunk.generation, "12");
    assert.equal(chunk.done, done);
    assert.equal(chunk.consumed, "x\0yy\0zzz\0".length);
  }
});
