// deno-lint-ignore-file no-console
/**
 * Show a xenstore tree with a guest laid out in it (`dxl ls --tree` prints any tree; this
 * script also lays out the guest when it starts its own store).
 *
 *     deno task demo [--socket PATH] [--embedded] [--no-perms] [PATH]
 *
 * With a xenstored to talk to (`--socket`, `$XENSTORED_PATH`, `$XENSTORED_RUNDIR/socket`,
 * `/run/xenstored/socket`, `/var/run/xenstored/socket`) it only reads: it prints the tree at
 * PATH (default `/`) as `xenstore-ls -p` does. Where none answers (a laptop, CI), or with
 * `--embedded`, it starts dxl's embedded xenstored, lays out a PV guest with a disk and a
 * NIC through the libxl API exactly as `xl` would, lets a simulated backend driver connect
 * them, and prints that tree.
 *
 * @module
 */

import { connect, type XenstoreClient } from "../lib/client/mod.ts";
import { startXenstored, type XenstoredHandle } from "../lib/xenstored/mod.ts";
import {
  addDevice,
  backendPath,
  makeDomain,
  SimulatedBackend,
  SimulatedHypervisor,
  vbd,
  vif,
  waitForXenbusState,
  XenbusState,
} from "../lib/libxl/mod.ts";
import { formatTreeLine, walkTree } from "../lib/libxl/tree.ts";
import { parseArgs as parseFlags } from "node:util";

interface Args {
  socket: string | undefined;
  embedded: boolean;
  perms: boolean;
  path: string;
}

function parseArgs(args: readonly string[]): Args {
  const { values, positionals } = parseFlags({
    args: [...args],
    options: {
      socket: { type: "string" },
      embedded: { type: "boolean", default: false },
      "no-perms": { type: "boolean", default: false },
    },
    allowPositionals: true,
  });
  if (positionals.length > 1) {
    throw new TypeError(`One PATH only, got "${positionals.join('" "')}"`);
  }
  return {
    socket: values.socket,
    embedded: values.embedded,
    perms: !values["no-perms"],
    path: positionals[0] ?? "/",
  };
}

async function layOutDemoGuest(xsd: XenstoredHandle, xs: XenstoreClient): Promise<void> {
  const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
  await using _driver = await SimulatedBackend.start(xs);
  const { domid } = await makeDomain(xs, { hypervisor, name: "demo", maxMemKb: 262144 });
  const disk = await addDevice(xs, vbd({ domid, vdev: "xvda", target: "/dev/vg0/demo" }));
  const nic = await addDevice(xs, { domid, kind: "vif", build: (devid) => vif({ domid, devid }) });
  for (const device of [disk, nic]) {
    await waitForXenbusState(xs, `${backendPath(device)}/state`, { state: XenbusState.Connected });
  }
}

async function print(xs: XenstoreClient, args: Args): Promise<void> {
  const width = Deno.stdout.isTerminal() ? Deno.consoleSize().columns - 2 : 80;
  const options = { fullPath: false, width, perms: args.perms };
  for await (const node of walkTree(xs, args.path, { perms: args.perms })) {
    console.log(formatTreeLine(node, options));
  }
}

async function main(): Promise<void> {
  const args = parseArgs(Deno.args);
  if (!args.embedded) {
    let xs: XenstoreClient | undefined;
    try {
      xs = await connect(args.socket === undefined ? {} : { path: args.socket });
    } catch (error) {
      if (args.socket !== undefined) throw error;
      console.error(`${(error as Error).message}\nno xenstored here: using the embedded one`);
    }
    if (xs !== undefined) {
      await using _xs = xs;
      await print(xs, args);
      return;
    }
  }
  const dir = await Deno.makeTempDir({ prefix: "dxl-demo-", dir: "/tmp" });
  try {
    await using xsd = await startXenstored({ dir, initDom0: true });
    await using xs = await connect({ path: xsd.socket });
    await layOutDemoGuest(xsd, xs);
    await print(xs, args);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
}
