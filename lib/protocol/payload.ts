/**
 * Payload codecs: NUL-separated strings, WRITE's unterminated value, and the structured
 * replies (errors, watch events, DIRECTORY_PART chunks).
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

/** Encodes text as UTF-8.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { utf8 } from "./payload.ts";
 * assert.deepEqual(utf8("é"), new Uint8Array([195, 169]));
 * ```
 */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8 bytes (invalid sequences become U+FFFD).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromUtf8 } from "./payload.ts";
 * assert.equal(fromUtf8(new Uint8Array([104, 105, 0xff])), "hi\uFFFD"); // bad byte: U+FFFD
 * ```
 */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * Encodes arguments each followed by a NUL, the form of most requests (`path|`,
 * `wpath|token|`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeArgs } from "./payload.ts";
 * assert.deepEqual(encodeArgs(["/a", "tok"]), new TextEncoder().encode("/a\0tok\0"));
 * ```
 */
export function encodeArgs(args: readonly (string | Uint8Array)[]): Uint8Array {
  const parts = args.map((a) => typeof a === "string" ? encoder.encode(a) : a);
  let size = 0;
  for (const p of parts) size += p.length + 1;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length + 1;
  }
  return out;
}

/**
 * Encodes a WRITE payload: the path, a NUL, then the raw value with no terminator.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeWrite } from "./payload.ts";
 * assert.deepEqual(encodeWrite("/a", "xy"), new TextEncoder().encode("/a\0xy")); // no final NUL
 * ```
 */
export function encodeWrite(path: string, value: string | Uint8Array): Uint8Array {
  const p = encoder.encode(path);
  const v = typeof value === "string" ? encoder.encode(value) : value;
  const out = new Uint8Array(p.length + 1 + v.length);
  out.set(p, 0);
  out.set(v, p.length + 1);
  return out;
}

/**
 * Splits a payload at NUL bytes. A trailing NUL terminates the last string rather than
 * starting an empty one, so `a|b|` gives `["a", "b"]` and an empty payload gives `[]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitStrings } from "./payload.ts";
 * assert.deepEqual(splitStrings(new TextEncoder().encode("a\0b\0")), ["a", "b"]);
 * ```
 */
export function splitStrings(payload: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < payload.length; i++) {
    if (payload[i] === 0) {
      out.push(fromUtf8(payload.subarray(start, i)));
      start = i + 1;
    }
  }
  if (start < payload.length) out.push(fromUtf8(payload.subarray(start)));
  return out;
}

/** Decodes a single-string reply, dropping one trailing NUL if present (`OK|`, `5|`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeString } from "./payload.ts";
 * assert.equal(decodeString(new TextEncoder().encode("OK\0")), "OK");
 * ```
 */
export function decodeString(payload: Uint8Array): string {
  const end = payload.length > 0 && payload[payload.length - 1] === 0
    ? payload.length - 1
    : payload.length;
  return fromUtf8(payload.subarray(0, end));
}

/** A decoded WATCH_EVENT payload. */
export interface WatchEventPayload {
  /** The path that changed (or the watched path, for the initial event). */
  path: string;
  /** The token given at WATCH. */
  token: string;
}

/**
 * Decodes a WATCH_EVENT payload, `epath|token|`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeWatchEvent } from "./payload.ts";
 * const event = decodeWatchEvent(new TextEncoder().encode("/a/b\0t1\0"));
 * assert.deepEqual(event, { path: "/a/b", token: "t1" });
 * ```
 */
export function decodeWatchEvent(payload: Uint8Array): WatchEventPayload {
  const parts = splitStrings(payload);
  const [path, token] = parts;
  if (parts.length !== 2 || path === undefined || token === undefined) {
    throw new ProtocolError(
      `Malformed WATCH_EVENT payload: expected "path\\0token\\0", got ${parts.length} strings`,
    );
  }
  return { path, token };
}

/** One chunk of a DIRECTORY_PART reply. */
export interface DirectoryPartChunk {
  /** The node's generation count; a change between chunks means restart from 0. */
  generation: string;
  /** The whole child names in this chunk. */
  children: string[];
  /** True when this chunk ends the listing (it carries the terminating empty string). */
  done: boolean;
  /** Bytes of child names this chunk covered: the next offset is the old one plus this. */
  consumed: number;
}

/**
 * Decodes a DIRECTORY_PART reply, `gencnt|child|child|...` with a final empty string on the
 * last chunk.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeDirectoryPart } from "./payload.ts";
 * const chunk = decodeDirectoryPart(new TextEncoder().encode("3\0a\0bb\0\0"));
 * assert.equal(chunk.generation, "3");
 * assert.deepEqual(chunk.children, ["a", "bb"]);
 * assert.equal(chunk.done, true); // the empty name ends the list
 * ```
 */
export function decodeDirectoryPart(payload: Uint8Array): DirectoryPartChunk {
  const first = payload.indexOf(0);
  if (first < 0) throw new ProtocolError("Malformed DIRECTORY_PART reply: no generation count");
  const generation = fromUtf8(payload.subarray(0, first));
  const body = payload.subarray(first + 1);
  const children: string[] = [];
  let start = 0;
  let done = false;
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== 0) continue;
    if (i === start) {
      done = true;
      break;
    }
    children.push(fromUtf8(body.subarray(start, i)));
    start = i + 1;
  }
  return { generation, children, done, consumed: start };
}

/** Encodes a DIRECTORY_PART reply chunk (the server side of {@linkcode decodeDirectoryPart}). */
export function encodeDirectoryPart(
  generation: string,
  children: readonly string[],
  done: boolean,
): Uint8Array {
  const args: string[] = [generation, ...children];
  if (done) args.push("");
  return encodeArgs(args);
}
