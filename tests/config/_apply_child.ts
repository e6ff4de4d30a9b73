/**
 * The applier the atomicity test kills: applies KILL_CONFIG to the store at `socket` and
 * SIGKILLs itself just before its `killAt`-th request (or right after the commit with
 * `commit`, or never with `never`). Prints `requests <n>` when it finishes.
 *
 * @module
 */

import { connect } from "../../lib/client/mod.ts";
import { SimulatedHypervisor } from "../../lib/libxl/hypervisor.ts";
import { apply } from "../../lib/config/apply.ts";
import { validateConfig } from "../../lib/config/validate.ts";
import { counting, KILL_AFTER, KILL_NOW } from "./_helpers.ts";

const [socket, killAt] = Deno.args as [string, string];
await using xs = await connect({ path: socket });
let n = 0;
const limit = killAt === "never" || killAt === "commit" ? Infinity : Number(killAt);
const store = counting(xs, () => {
  if (++n >= limit) Deno.kill(Deno.pid, "SIGKILL");
});
// The domain ids the test made known to xenstored's domain table.
const hypervisor = new SimulatedHypervisor(xs, { firstDomid: 2 });
await apply(store, validateConfig(KILL_AFTER), {
  hypervisor,
  wait: false,
  now: KILL_NOW,
  onProgress: (e) => {
    if (e.type === "committed" && killAt === "commit") Deno.kill(Deno.pid, "SIGKILL");
  },
});
// deno-lint-ignore no-console
console.log(`requests ${n}`);
