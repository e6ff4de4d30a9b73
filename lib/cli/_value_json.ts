/**
 * A xenstore value as JSON, shared by the commands that read (`ls`, `read`).
 *
 * @module
 */

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * `{ value }` when the bytes are UTF-8, else `{ value: <base64>, encoding: "base64" }`;
 * `{ value: null }` for a value that could not be read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { valueJson } from "./_value_json.ts";
 * assert.deepEqual(valueJson(new TextEncoder().encode("hi")), { value: "hi" });
 * assert.deepEqual(valueJson(new Uint8Array([0xff])), { value: "/w==", encoding: "base64" });
 * ```
 */
export function valueJson(
  bytes: Uint8Array | undefined,
): { value: string | null; encoding?: "base64" } {
  if (bytes === undefined) return { value: null };
  try {
    return { value: utf8.decode(bytes) };
  } catch {
    let binary = "";
    for (const byte of bytes) binary += String.fromCharCode(byte);
    return { value: btoa(binary), encoding: "base64" };
  }
}
