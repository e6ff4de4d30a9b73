// deno-lint-ignore-file no-console
/**
 * dxl's main job until the CLI exists: show a xenstore tree.
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
import { formatTree } from "./demo_tree.ts";

interface Args {
  socket: string | undefined;
  embedded: boolean;
  perms: boolean;
  path: string;
}

function parseArgs(args: readonly string[]): Args {
  const out: Args = { socket: undefined, embedded: false, perms: true, path: "/" };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--socket") out.socket = args[++i];
    else if (arg === "--embedded") out.embedded = true;
    else if (arg === "--no-perms") out.perms = false;
    else if (arg !== undefined && !arg.startsWith("-")) out.path = arg;
    else {throw new TypeError(
        `Unknown argument "${arg}" (use --socket PATH, --embedded, --no-perms, PATH)`,
      );}
  }
  return out;
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
  for await (const line of formatTree(xs, args.path, { width, perms: args.perms })) {
    console.log(line);
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
