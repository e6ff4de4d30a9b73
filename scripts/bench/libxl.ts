/**
 * Benchmark of the libxl layer: create 100 domains with 4 devices each (2 vbd, 2 vif, plus
 * each domain's console) through `makeDomain` and `addDevice`, then let a simulated backend
 * driver connect every device, then destroy the domains (device close handshake included),
 * against the embedded xenstored and the real C xenstored (Xen 4.17, via ../shared/refxs).
 * Prints a Markdown table: wall times, requests and transactions per device.
 *
 * Run: `deno run -A scripts/bench/libxl.ts` (options: `--domains N`).
 *
 * @module
 */

import { connect } from "../../lib/client/mod.ts";
import type { Transaction, TransactionOptions, XenstoreOps } from "../../lib/client/types.ts";
import { addDevice } from "../../lib/libxl/device_add.ts";
import { vbd } from "../../lib/libxl/devices/vbd.ts";
import { vif } from "../../lib/libxl/devices/vif.ts";
import { makeDomain } from "../../lib/libxl/domain.ts";
import { destroyDomain } from "../../lib/libxl/domain_destroy.ts";
import { SimulatedHypervisor } from "../../lib/libxl/hypervisor.ts";
import { SimulatedBackend } from "../../lib/libxl/sim_backend.ts";
import type { LibxlStore } from "../../lib/libxl/store.ts";
import type { DeviceSpec } from "../../lib/libxl/device.ts";
import { backendPath } from "../../lib/libxl/paths.ts";
import { XenbusState } from "../../lib/libxl/xenbus_state.ts";
import { waitForXenbusState } from "../../lib/libxl/xenbus_wait.ts";
import { startServer } from "../../tests/_helpers/servers.ts";

/** Counts requests (round trips) and transaction attempts made through a store. */
class Counter {
  requests = 0;
  transactions = 0;

  wrap(store: LibxlStore): LibxlStore {
    const ops = (o: XenstoreOps): XenstoreOps => {
      const count = <A extends unknown[], R>(f: (...a: A) => Promise<R>) => (...a: A) => {
        this.requests++;
        return f(...a);
      };
      return {
        read: count((p) => o.read(p)),
        readBytes: count((p) => o.readBytes(p)),
        tryRead: count((p) => o.tryRead(p)),
        write: count((p, v) => o.write(p, v)),
        mkdir: count((p) => o.mkdir(p)),
        rm: count((p) => o.rm(p)),
        directory: count((p) => o.directory(p)),
        exists: count((p) => o.exists(p)),
        getPerms: count((p) => o.getPerms(p)),
        setPerms: count((p, perms) => o.setPerms(p, perms)),
      };
    };
    return {
      ...ops(store),
      transaction: <T>(fn: (tx: Transaction) => Promise<T>, options?: TransactionOptions) =>
        store.transaction((tx) => {
          this.transactions++;
          this.requests += 2;
          return fn({ ...ops(tx), id: tx.id, commit: () => tx.commit(), abort: () => tx.abort() });
        }, options),
      watch: (path, options) => store.watch(path, options),
    };
  }
}

interface Figures {
  server: string;
  domains: number;
  createMs: number;
  connectMs: number;
  destroyMs: number;
  domainRequests: number;
  deviceRequests: number;
  deviceTransactions: number;
  devices: number;
}

async function measure(
  server: string,
  socket: string,
  domains: number,
  onCreate: (domid: number) => void | Promise<void>,
): Promise<Figures> {
  await using xs = await connect({ path: socket });
  await using backend = await connect({ path: socket });
  const hypervisor = new SimulatedHypervisor(xs, { onCreate });
  const domainCounter = new Counter();
  const deviceCounter = new Counter();
  const forDomains = domainCounter.wrap(xs);
  const forDevices = deviceCounter.wrap(xs);
  const ids: number[] = [];
  const devices: DeviceSpec[] = [];
  const t0 = performance.now();
  for (let i = 0; i < domains; i++) {
    const { domid } = await makeDomain(forDomains, {
      hypervisor,
      name: `bench-${i}`,
      maxMemKb: 262144,
      vcpus: 2,
    });
    ids.push(domid);
    devices.push(
      await addDevice(forDevices, vbd({ domid, vdev: "xvda", target: `/dev/vg/d${i}a` })),
      await addDevice(forDevices, vbd({ domid, vdev: "xvdb", target: `/dev/vg/d${i}b` })),
    );
    for (let n = 0; n < 2; n++) {
      devices.push(
        await addDevice(forDevices, {
          domid,
          kind: "vif",
          build: (devid) => vif({ domid, devid }),
        }),
      );
    }
  }
  const createMs = performance.now() - t0;
  const tc = performance.now();
  await using _driver = await SimulatedBackend.start(backend, { kinds: ["vbd", "vif"] });
  for (const spec of devices) {
    await waitForXenbusState(xs, `${backendPath(spec)}/state`, { state: XenbusState.Connected });
  }
  const connectMs = performance.now() - tc;
  const t1 = performance.now();
  for (const domid of ids) await destroyDomain(xs, domid, { hypervisor, timeoutMs: 10_000 });
  const destroyMs = performance.now() - t1;
  return {
    server,
    domains,
    createMs,
    connectMs,
    destroyMs,
    domainRequests: domainCounter.requests,
    deviceRequests: deviceCounter.requests,
    deviceTransactions: deviceCounter.transactions,
    devices: domains * 4,
  };
}

function table(rows: Figures[]): string {
  const lines = [
    "| server | domains × devices | create wall (makeDomain + 4 × addDevice) | per domain | simulated backends connect all | destroy wall | requests / device | transactions / device | requests / domain (makeDomain) |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.server} | ${r.domains} × 4 | ${r.createMs.toFixed(0)} ms | ${
        (r.createMs / r.domains).toFixed(2)
      } ms | ${r.connectMs.toFixed(0)} ms | ${r.destroyMs.toFixed(0)} ms | ${
        (r.deviceRequests / r.devices).toFixed(1)
      } | ${(r.deviceTransactions / r.devices).toFixed(2)} | ${
        (r.domainRequests / r.domains).toFixed(1)
      } |`,
    );
  }
  return lines.join("\n");
}

/**
 * Runs the benchmark against the embedded xenstored and, when ../shared/refxs is set up,
 * the real C xenstored, and prints the Markdown table.
 *
 * @example
 * ```ts ignore
 * import { run } from "./libxl.ts";
 * await run();
 * ```
 */
export async function run(domains = 100): Promise<void> {
  const rows: Figures[] = [];
  for (const [name, kind] of [["embedded", "embedded"], ["C xenstored 4.17", "c"]] as const) {
    try {
      await using server = await startServer(kind);
      rows.push(await measure(name, server.socket, domains, (d) => server.createDomain(d)));
    } catch (error) {
      // deno-lint-ignore no-console
      console.warn(`${name} skipped: ${(error as Error).message}`);
    }
  }
  // deno-lint-ignore no-console
  console.log(table(rows));
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--domains");
  await run(i >= 0 ? Number(Deno.args[i + 1]) : 100);
}
