/**
 * Byte helpers of the protocol core: request argument parsing as C xenstored does it
 * (`onearg`, `get_strings`, `atoi`) and a growable output buffer for replies and events.
 * Strings here are "binary strings": one character per byte, so tokens round-trip exactly.
 *
 * @module
 */

import { HEADER_SIZE, PAYLOAD_MAX } from "../protocol/packet.ts";

const utf8 = new TextDecoder();

/** Decodes bytes one character per byte. */
export function binString(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const n = end - start;
  if (n > PAYLOAD_MAX) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if ((bytes[i] as number) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return utf8.decode(bytes.subarray(start, end));
  }
  // One flat string (`+=` would build a chain of cons-strings).
  return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
}

/** `onearg`: the payload must be one string with its only NUL at the very end. */
export function oneArg(payload: Uint8Array): string | undefined {
  const n = payload.length;
  if (n === 0 || payload.indexOf(0) !== n - 1) return undefined;
  return binString(payload, 0, n - 1);
}

/** `get_strings`: every NUL-terminated string (bytes after the last NUL are ignored). */
export function getStrings(payload: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const nul = payload.indexOf(0, start);
    if (nul < 0) return out;
    out.push(binString(payload, start, nul));
    start = nul + 1;
  }
}

/** Number of NUL bytes (`xs_count_strings`). */
export function countNuls(payload: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < payload.length; i++) if (payload[i] === 0) n++;
  return n;
}

/** C's `atoi` as an `int`: leading blanks, a sign, decimal digits, stop at anything else. */
export function atoi(text: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]*)/.exec(text);
  if (m === null || m[2] === "") return 0;
  let v = BigInt(m[2] as string);
  if (m[1] === "-") v = -v;
  return Number(BigInt.asIntN(32, v));
}

/** `atoi` stored into an `unsigned int` (domids). */
export function atou(text: string): number {
  return atoi(text) >>> 0;
}

const SLAB_SIZE = 1 << 16;
// Offsets of the fields of `struct xsd_sockmsg`.
const HEADER_TYPE = 0;
const HEADER_REQ_ID = 4;
const HEADER_TX_ID = 8;
const HEADER_LEN = 12;
const SLAB_TAKE_MAX = PAYLOAD_MAX;

/**
 * Small outputs are copied into a slab shared by one server's connections, never reused once
 * handed out: a `slice` of a few dozen bytes would be a V8 on-heap array, which Deno's socket
 * write must first move off the heap (an allocation and a copy per reply).
 */
export class OutSlab {
  #slab = new Uint8Array(SLAB_SIZE);
  #used = 0;

  /** A copy of `bytes` carved from the slab. */
  copy(bytes: Uint8Array): Uint8Array {
    const len = bytes.length;
    if (this.#used + len > this.#slab.length) {
      this.#slab = new Uint8Array(SLAB_SIZE);
      this.#used = 0;
    }
    const out = this.#slab.subarray(this.#used, this.#used + len);
    out.set(bytes);
    this.#used += len;
    return out;
  }
}

/** A growable buffer of outgoing frames for one connection. */
export class OutBuffer {
  #buf = new Uint8Array(4096);
  #view = new DataView(this.#buf.buffer);
  #len = 0;
  readonly #slab: OutSlab;

  /** A buffer whose small takes are carved from `slab`. */
  constructor(slab: OutSlab = new OutSlab()) {
    this.#slab = slab;
  }

  /** Bytes waiting. */
  get length(): number {
    return this.#len;
  }

  #ensure(extra: number): void {
    const need = this.#len + extra;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  /** Appends a frame whose payload is a list of binary strings and byte arrays. */
  frame(
    type: number,
    reqId: number,
    txId: number,
    parts: readonly (string | Uint8Array)[],
  ): void {
    let len = 0;
    for (const p of parts) len += p.length;
    this.#ensure(HEADER_SIZE + len);
    const v = this.#view;
    const at = this.#len;
    v.setUint32(at + HEADER_TYPE, type, true);
    v.setUint32(at + HEADER_REQ_ID, reqId, true);
    v.setUint32(at + HEADER_TX_ID, txId, true);
    v.setUint32(at + HEADER_LEN, len, true);
    let o = at + HEADER_SIZE;
    const buf = this.#buf;
    for (const p of parts) {
      if (typeof p === "string") {
        for (let i = 0; i < p.length; i++) buf[o++] = p.charCodeAt(i);
      } else {
        buf.set(p, o);
        o += p.length;
      }
    }
    this.#len = o;
  }

  /** Takes every waiting byte (a copy; a view that may start inside a larger buffer). */
  take(): Uint8Array {
    const len = this.#len;
    let out: Uint8Array;
    if (len > SLAB_TAKE_MAX) out = this.#buf.slice(0, len);
    else out = this.#slab.copy(this.#buf.subarray(0, len));
    this.#len = 0;
    if (this.#buf.length > 65536) {
      this.#buf = new Uint8Array(4096);
      this.#view = new DataView(this.#buf.buffer);
    }
    return out;
  }
}
