/**
 * A raw xenstore socket client for server tests: sends frames as given (any type, tx id,
 * payload) and collects every frame the server sends, so replies and watch events can be
 * compared byte for byte.
 *
 * @module
 */

import { encodePacket, type Packet, PacketDecoder } from "../../lib/protocol/mod.ts";

/** A frame received, with the payload as a binary string. */
export interface Frame {
  type: number;
  reqId: number;
  txId: number;
  body: string;
}

const latin1 = (b: Uint8Array) => String.fromCharCode(...b);

/** Bytes of a binary string (one byte per character). */
export function bin(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** A raw connection. */
export class RawConn {
  readonly #sock: Deno.UnixConn;
  readonly #frames: Frame[] = [];
  readonly #decoder = new PacketDecoder({ maxPayload: 1 << 20 });
  #closed = false;
  #waiter: (() => void) | undefined;
  readonly #loop: Promise<void>;
  #reqId = 0;

  private constructor(sock: Deno.UnixConn) {
    this.#sock = sock;
    this.#loop = this.#read();
  }

  /** Connects to a Unix socket. */
  static async open(path: string): Promise<RawConn> {
    return new RawConn(await Deno.connect({ transport: "unix", path }));
  }

  /** True once the server closed the connection. */
  get closed(): boolean {
    return this.#closed;
  }

  async #read(): Promise<void> {
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await this.#sock.read(buf);
        if (n === null) break;
        for (const p of this.#decoder.push(buf.subarray(0, n))) {
          this.#frames.push({
            type: p.type,
            reqId: p.reqId,
            txId: p.txId,
            body: latin1(p.payload),
          });
        }
        this.#waiter?.();
      }
    } catch {
      // closed
    }
    this.#closed = true;
    this.#waiter?.();
  }

  /** Sends raw bytes. */
  async sendBytes(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.#sock.write(bytes.subarray(off));
  }

  /** Sends one frame; returns its request id. */
  async send(type: number, payload: string, txId = 0, reqId?: number): Promise<number> {
    const id = reqId ?? ++this.#reqId;
    const packet: Packet = { type, reqId: id, txId, payload: bin(payload) };
    await this.sendBytes(encodePacket(packet));
    return id;
  }

  /** Waits until `pred` holds for the frames received so far (or the connection closes). */
  async waitFor(pred: (frames: Frame[]) => boolean, timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.#frames)) {
      if (this.#closed) return false;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#waiter = resolve;
      const t = setTimeout(resolve, left);
      await promise;
      clearTimeout(t);
      this.#waiter = undefined;
    }
    return true;
  }

  /** Sends a request and waits for its reply (not a watch event); returns the reply. */
  async request(type: number, payload: string, txId = 0, reqId?: number): Promise<Frame> {
    const id = await this.send(type, payload, txId, reqId);
    const ok = await this.waitFor((fs) => fs.some((f) => f.reqId === id && f.type !== 15));
    const reply = this.#frames.find((f) => f.reqId === id && f.type !== 15);
    if (!ok || reply === undefined) {
      throw new Error(
        `No reply to request ${id} (type ${type}, payload ${JSON.stringify(payload)})`,
      );
    }
    return reply;
  }

  /** Takes every frame received so far. */
  take(): Frame[] {
    return this.#frames.splice(0);
  }

  /** Closes the connection and waits for the reader to stop. */
  async close(): Promise<void> {
    try {
      this.#sock.close();
    } catch {
      // already closed
    }
    await this.#loop;
  }
}
