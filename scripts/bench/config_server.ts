// deno-lint-ignore-file no-console
/**
 * The embedded xenstored in a process of its own, for `config.ts` (as `dxl serve` runs it:
 * client and server do not share an event loop). One long-lived process serves one fresh
 * store after another, so its code stays warmed up (JIT) from run to run, as a long-running
 * `dxl serve` is: each stdin line `start DIR` stops the current store and starts a fresh one
 * in DIR, answering with its socket path; `stop` stops it and answers `stopped`. Ends at EOF or
 * SIGTERM.
 *
 * Run: `deno run -A scripts/bench/config_server.ts`.
 *
 * @module
 */

import { startXenstored } from "../../lib/xenstored/mod.ts";

type Server = Awaited<ReturnType<typeof startXenstored>>;
let current: Server | undefined;
const stopCurrent = async () => {
  const s = current;
  current = undefined;
  await s?.close();
};
Deno.addSignalListener("SIGTERM", async () => {
  await stopCurrent();
  Deno.exit(0);
});
let buffered = "";
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  buffered += chunk;
  for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
    const line = buffered.slice(0, nl).trim();
    buffered = buffered.slice(nl + 1);
    await stopCurrent();
    if (line.startsWith("start ")) {
      current = await startXenstored({ dir: line.slice("start ".length) });
      console.log(current.socket);
    } else {
      console.log("stopped");
    }
  }
}
await stopCurrent();
Deno.exit(0); // the SIGTERM listener would keep the process alive
