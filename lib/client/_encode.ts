/**
 * The hot-path payload encoder of the client (private).
 *
 * @module
 */

const utf8 = new TextEncoder();

/**
 * `path\0`, or `path\0value` for WRITE, encoded without TextEncoder for the path: a
 * validated path is ASCII, so each char code is its byte. The hot-path encoder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodePathArgs } from "./_encode.ts";
 * assert.deepEqual(encodePathArgs("/a", "é"), new Uint8Array([47, 97, 0, 195, 169]));
 * ```
 */
export function encodePathArgs(path: string, value?: string | Uint8Array): Uint8Array {
  const n = path.length;
  if (value === undefined) {
    const out = new Uint8Array(n + 1);
    for (let i = 0; i < n; i++) out[i] = path.charCodeAt(i);
    return out;
  }
  if (typeof value === "string" && isAscii(value)) {
    // The common case (numbers, paths, names): one allocation, no TextEncoder call.
    const m = value.length;
    const out = new Uint8Array(n + 1 + m);
    for (let i = 0; i < n; i++) out[i] = path.charCodeAt(i);
    for (let i = 0; i < m; i++) out[n + 1 + i] = value.charCodeAt(i);
    return out;
  }
  const bytes = typeof value === "string" ? utf8.encode(value) : value;
  const out = new Uint8Array(n + 1 + bytes.length);
  for (let i = 0; i < n; i++) out[i] = path.charCodeAt(i);
  out.set(bytes, n + 1);
  return out;
}

/** True when every char of `text` is ASCII (one byte each on the wire). */
export function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}
