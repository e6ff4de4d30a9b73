/**
 * A line-protocol domain table for the simulated hypervisor: the control socket of the
 * reference daemons' fake hypervisor (`../shared/refxs`: `create N`, `destroy N`, answered
 * `OK …` or `ERR …`). With it, `dxl apply` creates simulated domains that the real C
 * xenstored and oxenstored accept (tests give it as `--domain-control DIR/ctl`).
 *
 * @module
 */

/**
 * Sends one command line on the control socket at `path` and returns what follows `OK`;
 * rejects with the `ERR …` answer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { controlCommand } from "./_domain_control.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * const listener = Deno.listen({ transport: "unix", path: `${dir}/ctl` });
 * const served = (async () => {
 *   const conn = await listener.accept();
 *   await conn.read(new Uint8Array(64));
 *   await conn.write(new TextEncoder().encode("OK /tmp/x/dom5.sock\n"));
 *   conn.close();
 * })();
 * assert.equal(await controlCommand(`${dir}/ctl`, "create 5"), "/tmp/x/dom5.sock");
 * await served;
 * listener.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function controlCommand(path: string, line: string): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path });
  try {
    await conn.write(new TextEncoder().encode(line + "\n"));
    let text = "";
    const buf = new Uint8Array(4096);
    while (!text.includes("\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    const answer = text.split("\n")[0] ?? "";
    if (!answer.startsWith("OK")) {
      throw new Error(`Domain control "${line}" on ${path} failed: ${answer || "no answer"}`);
    }
    return answer.slice(2).trim();
  } finally {
    conn.close();
  }
}
