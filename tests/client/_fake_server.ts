/**
 * An in-test Unix-socket server that speaks whatever a test scripts: for the malformed,
 * reordered and dropped replies a real daemon never sends.
 *
 * @module
 */

import { encodePacket, type Packet, PacketDecoder } from "../../lib/protocol/mod.ts";

/** One accepted connection, with packet-level helpers. */
export class FakePeer {
  readonly conn: Deno.UnixConn;
  #decoder = new PacketDecoder({ maxPayload: 1 << 20 });
  #packets: Packet[] = [];
  #buf = new Uint8Array(65536);

  constructor(conn: Deno.UnixConn) {
    this.conn = conn;
  }

  /** Reads until `n` whole request packets arrived; null if the client closed first. */
  async receive(n: number): Promise<Packet[] | null> {
    while (this.#packets.length < n) {
      const got = await this.conn.read(this.#buf).catch(() => null);
      if (got === null) return null;
      this.#packets.push(...this.#decoder.push(this.#buf.subarray(0, got)));
    }
    return this.#packets.splice(0, n);
  }

  /** Sends a reply frame. */
  async reply(packet: Packet): Promise<void> {
    await this.send(encodePacket(packet));
  }

  /** Sends raw bytes. */
  async send(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) at += await this.conn.write(bytes.subarray(at));
  }

  /** Closes this connection (ignoring a client that already left). */
  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

/** A listening fake server; dispose it to stop listening and wait for its handlers. */
export interface FakeServer extends AsyncDisposable {
  /** The socket path. */
  readonly path: string;
  /** The directory holding the socket. */
  readonly dir: string;
  /** How many connections were accepted. */
  readonly accepted: number;
  /** Stops accepting (existing connections stay up until their handler returns). */
  stopListening(): void;
}

/**
 * Listens on a fresh socket and runs `handler` for each connection (the nth connection gets
 * `index` n, from 0). The connection is closed when the handler returns.
 */
export async function fakeServer(
  handler: (peer: FakePeer, index: number) => Promise<void>,
  options: { dir?: string; name?: string } = {},
): Promise<FakeServer> {
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "dxl-fake-", dir: "/tmp" });
  const path = `${dir}/${options.name ?? "socket"}`;
  const listener = Deno.listen({ transport: "unix", path });
  const running: Promise<void>[] = [];
  let accepted = 0;
  let listening = true;
  const loop = (async () => {
    for await (const conn of listener) {
      const peer = new FakePeer(conn);
      running.push(handler(peer, accepted++).finally(() => peer.close()));
    }
  })().catch(() => {});
  const stopListening = () => {
    if (!listening) return;
    listening = false;
    listener.close();
  };
  return {
    path,
    dir,
    get accepted() {
      return accepted;
    },
    stopListening,
    async [Symbol.asyncDispose]() {
      stopListening();
      await loop;
      await Promise.allSettled(running);
      if (options.dir === undefined) await Deno.remove(dir, { recursive: true });
    },
  };
}

/** The bytes of `text` followed by a NUL. */
export function z(text: string): Uint8Array {
  return new TextEncoder().encode(`${text}\0`);
}
