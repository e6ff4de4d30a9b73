// deno-lint-ignore-file no-console
/**
 * Benchmark of plan + apply: N domains × 4 devices (2 vbd, 2 vif, plus each domain's console)
 * for N = 1, 10, 100, 1000, on the embedded xenstored and the real C xenstored (Xen 4.17, via
 * ../shared/refxs). dxl's way — read the live state, plan, apply everything in ONE
 * transaction — against libxl's way on the same store: `makeDomain` per domain (its own
 * transactions) and one transaction per device (`addDevice`). Both write the same records;
 * neither waits for backends (xenstore work only). Both ways are warmed up first (JIT), then
 * each size is the median of 3 alternating runs (1 for the long ones), each on a fresh
 * server. Prints a Markdown table.
 *
 * Run: `deno run -A scripts/bench/config.ts [--max N] [--only <server name prefix>]`.
 *
 * @module
 */

import { connect } from "../../lib/client/mod.ts";
import { addDevice } from "../../lib/libxl/device_add.ts";
import { vbd } from "../../lib/libxl/devices/vbd.ts";
import { vif } from "../../lib/libxl/devices/vif.ts";
import { makeDomain } from "../../lib/libxl/domain_create.ts";
import { SimulatedHypervisor } from "../../lib/libxl/hypervisor.ts";
import { type LibxlStore, rmIfPresent } from "../../lib/libxl/store.ts";
import type { Permission } from "../../lib/protocol/mod.ts";
import { type ServerKind, startServer } from "../../tests/_helpers/servers.ts";
import { apply } from "../../lib/config/apply.ts";
import { readLive } from "../../lib/config/live.ts";
import { plan } from "../../lib/config/plan.ts";
import type { NormalizedConfig } from "../../lib/config/normalized.ts";
import { validateConfig } from "../../lib/config/validate.ts";

const OPS = new Set([
  "rmIfPresent",
  "read",
  "readBytes",
  "tryRead",
  "write",
  "mkdir",
  "rm",
  "directory",
  "exists",
  "getPerms",
  "setPerms",
]);

/** Counts requests and transactions sent through a store (inside transactions too). */
function counted(store: LibxlStore, count: { requests: number; transactions: number }) {
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, key, receiver) {
        const value = Reflect.get(t, key, receiver);
        if (typeof key !== "string" || typeof value !== "function") return value;
        if (OPS.has(key)) {
          return (...args: unknown[]) => {
            count.requests++;
            return value.apply(t, args);
          };
        }
        if (key === "batch") {
          // A RequestBatch (sendAll): each of its requests counts.
          return () => {
            const batch = value.call(t);
            return new Proxy(batch, {
              get(b, k) {
                const f = Reflect.get(b, k, b);
                if (typeof f !== "function") return f;
                if (k === "done") return f.bind(b);
                return (...args: unknown[]) => {
                  count.requests++;
                  return f.apply(b, args);
                };
              },
            });
          };
        }
        if (key === "transaction") {
          return (fn: (tx: unknown) => Promise<unknown>, options: unknown) =>
            value.call(t, (tx: object) => {
              count.transactions++;
              count.requests += 2; // TRANSACTION_START and _END
              return fn(wrap(tx));
            }, options);
        }
        return value.bind(t);
      },
    });
  return wrap(store);
}

/**
 * The store as libxenstore gives it to libxl: one request at a time, each sent only after the
 * previous one was answered (`xs_write`, `xs_set_permissions`... block until their reply), so
 * a batch or concurrent calls become a sequence of round trips in the same order.
 */
function oneAtATime(store: LibxlStore): LibxlStore {
  let last: Promise<unknown> = Promise.resolve();
  const serial = <T>(send: () => Promise<T>): Promise<T> => {
    const next = last.then(send, send);
    last = next.catch(() => {});
    return next;
  };
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, key, receiver) {
        const value = Reflect.get(t, key, receiver);
        if (typeof key !== "string" || typeof value !== "function") return value;
        if (OPS.has(key)) return (...args: unknown[]) => serial(() => value.apply(t, args));
        if (key === "batch") {
          // libxenstore has no pipelining: every request of the batch is its own round trip.
          return () => {
            const sent: Promise<unknown>[] = [];
            const ops = wrap(t) as unknown as LibxlStore;
            return {
              write: (path: string, v: string) => void sent.push(ops.write(path, v)),
              mkdir: (path: string) => void sent.push(ops.mkdir(path)),
              rmIfPresent: (path: string) => void sent.push(rmIfPresent(ops, path)),
              setPerms: (path: string, perms: readonly Permission[]) =>
                void sent.push(ops.setPerms(path, perms)),
              done: async () => void await Promise.all(sent),
            };
          };
        }
        if (key === "transaction") {
          return (fn: (tx: object) => Promise<unknown>, options: unknown) =>
            value.call(t, (tx: object) => fn(wrap(tx)), options);
        }
        return value.bind(t);
      },
    });
  return wrap(store);
}

const mac = (i: number, n: number) => {
  const x = i * 2 + n;
  return `00:16:3e:${((x >> 16) & 0x7f).toString(16).padStart(2, "0")}:${
    ((x >> 8) & 0xff).toString(16).padStart(2, "0")
  }:${(x & 0xff).toString(16).padStart(2, "0")}`;
};

function site(domains: number): NormalizedConfig {
  return validateConfig({
    domains: Array.from({ length: domains }, (_, i) => ({
      name: `bench-${i}`,
      memory: "256M",
      vcpus: 2,
      disks: [`phy:/dev/vg/d${i}a,xvda,w`, `phy:/dev/vg/d${i}b,xvdb,w`],
      nics: [{ mac: mac(i, 0) }, { mac: mac(i, 1) }],
    })),
  });
}

/** A store to run on: its socket and how its hypervisor side learns of a new domain. */
interface Server {
  socket: string;
  onCreate: (domid: number) => void | Promise<void>;
}

interface Row {
  server: string;
  domains: number;
  planMs: number;
  applyMs: number;
  dxlRequests: number;
  dxlTransactions: number;
  libxlMs: number;
  libxlSerialMs: number;
  libxlRequests: number;
  libxlTransactions: number;
}

async function dxlWay(server: Server, config: NormalizedConfig) {
  await using xs = await connect({ path: server.socket });
  const count = { requests: 0, transactions: 0 };
  const store = counted(xs, count);
  const hypervisor = new SimulatedHypervisor(xs, { onCreate: server.onCreate });
  const t0 = performance.now();
  const p = plan(config, await readLive(store));
  const t1 = performance.now();
  await apply(store, p, { hypervisor, wait: false });
  const t2 = performance.now();
  return { planMs: t1 - t0, applyMs: t2 - t1, ...count };
}

/**
 * libxl's way: `makeDomain` per domain, then one transaction per device. `oneRequestAtATime`:
 * each request waits for the previous one's reply, as libxl's calls into libxenstore do;
 * otherwise each transaction's requests are pipelined, as dxl's own `addDevice` sends them.
 */
async function libxlWay(server: Server, domains: number, oneRequestAtATime: boolean) {
  await using xs = await connect({ path: server.socket });
  const count = { requests: 0, transactions: 0 };
  const store = counted(oneRequestAtATime ? oneAtATime(xs) : xs, count);
  const hypervisor = new SimulatedHypervisor(xs, { onCreate: server.onCreate });
  const t0 = performance.now();
  for (let i = 0; i < domains; i++) {
    const { domid } = await makeDomain(store, {
      hypervisor,
      name: `bench-${i}`,
      maxMemKb: 262144,
      vcpus: 2,
    });
    await addDevice(store, vbd({ domid, vdev: "xvda", target: `/dev/vg/d${i}a` }));
    await addDevice(store, vbd({ domid, vdev: "xvdb", target: `/dev/vg/d${i}b` }));
    for (let n = 0; n < 2; n++) {
      await addDevice(store, vif({ domid, devid: n, mac: mac(i, n) }));
    }
  }
  return { ms: performance.now() - t0, ...count };
}

/**
 * Runs `fn` on a fresh server of `kind`: the embedded xenstored in this process, or a real
 * daemon through ../shared/refxs (the tests' `startServer`).
 */
function onServer(kind: ServerKind) {
  return async <T>(fn: (server: Server) => Promise<T>): Promise<T> => {
    await using server = await startServer(kind);
    return await fn({ socket: server.socket, onCreate: (d) => server.createDomain(d) });
  };
}

/** The one xenstored process (`config_server.ts`) that serves a fresh store per run. */
let serverProcess:
  | {
    child: Deno.ChildProcess;
    writer: WritableStreamDefaultWriter<Uint8Array>;
    send: (line: string) => Promise<void>;
    next: () => Promise<string>;
  }
  | undefined;

function xenstoredProcess(): NonNullable<typeof serverProcess> {
  if (serverProcess !== undefined) return serverProcess;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./config_server.ts", import.meta.url).pathname],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  serverProcess = {
    child,
    writer,
    send: (line) => writer.write(new TextEncoder().encode(`${line}\n`)),
    next: async () => {
      while (!text.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error("the xenstored process exited");
        text += value;
      }
      const nl = text.indexOf("\n");
      const line = text.slice(0, nl).trim();
      text = text.slice(nl + 1);
      return line;
    },
  };
  return serverProcess;
}

async function stopXenstoredProcess(): Promise<void> {
  const p = serverProcess;
  if (p === undefined) return;
  serverProcess = undefined;
  await p.writer.close().catch(() => {}); // EOF: the process stops its store and exits
  await p.child.status;
  await p.child.stdout.cancel().catch(() => {});
}

/**
 * Runs `fn` on a fresh embedded xenstored in a process of its own (`config_server.ts`; one
 * long-lived process, so the server's code is warmed up as a running `dxl serve` is).
 */
async function onEmbeddedProcess<T>(fn: (server: Server) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "dxl-bench-config-p-", dir: "/tmp" });
  const p = xenstoredProcess();
  try {
    await p.send(`start ${dir}`);
    const socket = await p.next();
    await using control = await connect({ path: socket });
    return await fn({
      socket,
      onCreate: async (d) => void await control.control(["dxl-domain", "create", String(d)]),
    });
  } finally {
    await p.send("stop");
    await p.next();
    await Deno.remove(dir, { recursive: true });
  }
}

function table(rows: Row[]): string {
  const lines = [
    "| server | domains × 4 devices | dxl plan | dxl apply (1 transaction) | dxl requests | libxl way, one request at a time (as libxenstore) | libxl way, pipelined per transaction | libxl requests / transactions | one at a time ÷ dxl | pipelined ÷ dxl |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const dxl = r.planMs + r.applyMs;
    lines.push(
      `| ${r.server} | ${r.domains} | ${r.planMs.toFixed(1)} ms | ${
        r.applyMs.toFixed(1)
      } ms | ${r.dxlRequests} (${r.dxlTransactions} tx) | ${r.libxlSerialMs.toFixed(1)} ms | ${
        r.libxlMs.toFixed(1)
      } ms | ${r.libxlRequests} / ${r.libxlTransactions} | ${
        (r.libxlSerialMs / dxl).toFixed(1)
      }× | ${(r.libxlMs / dxl).toFixed(1)}× |`,
    );
  }
  return lines.join("\n");
}

/**
 * Runs the benchmark for 1, 10, 100 and 1000 domains (up to `max`) on the embedded xenstored
 * (in this process and in its own) and the real C xenstored (or only the servers whose name
 * starts with `only`), and prints the table.
 *
 * @example
 * ```ts ignore
 * import { run } from "./config.ts";
 * await run(100);
 * ```
 */
export async function run(max = 1000, only?: string): Promise<void> {
  const rows: Row[] = [];
  const servers: [string, ReturnType<typeof onServer>][] = [
    ["embedded", onServer("embedded")],
    ["embedded, own process", onEmbeddedProcess],
    ["C xenstored 4.17", onServer("c")],
  ];
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const [name, on] of servers) {
    if (only !== undefined && !name.startsWith(only)) continue;
    // C xenstored 4.17's cost per transaction grows faster than linearly with the nodes it
    // touches (8000 pipelined writes in one transaction take ~6 s, 4000 ~1 s): 1000 domains
    // (~280k requests in one transaction) would take hours there.
    const sizes = name.startsWith("embedded") ? [1, 10, 100, 1000] : [1, 10, 100];
    try {
      // Warm up both ways (JIT) before measuring anything.
      const warm = name.startsWith("embedded") ? 100 : 10;
      await on((s) => dxlWay(s, site(warm)));
      await on((s) => libxlWay(s, warm, false));
      await on((s) => libxlWay(s, warm, true));
    } catch (error) {
      console.warn(`${name} skipped: ${(error as Error).message}`);
      continue;
    }
    for (const domains of sizes.filter((n) => n <= max)) {
      try {
        const config = site(domains);
        // The median of 3 alternating runs (1 for the long ones).
        const reps = domains >= 1000 || (name.startsWith("C") && domains >= 100) ? 1 : 3;
        const dxls: Awaited<ReturnType<typeof dxlWay>>[] = [];
        const libxls: Awaited<ReturnType<typeof libxlWay>>[] = [];
        const serials: Awaited<ReturnType<typeof libxlWay>>[] = [];
        for (let r = 0; r < reps; r++) {
          dxls.push(await on((s) => dxlWay(s, config)));
          libxls.push(await on((s) => libxlWay(s, domains, false)));
          serials.push(await on((s) => libxlWay(s, domains, true)));
        }
        const dxl = dxls[0]!;
        const libxl = libxls[0]!;
        const row: Row = {
          server: name,
          domains,
          planMs: median(dxls.map((d) => d.planMs)),
          applyMs: median(dxls.map((d) => d.applyMs)),
          dxlRequests: dxl.requests,
          dxlTransactions: dxl.transactions,
          libxlMs: median(libxls.map((l) => l.ms)),
          libxlSerialMs: median(serials.map((l) => l.ms)),
          libxlRequests: libxl.requests,
          libxlTransactions: libxl.transactions,
        };
        rows.push(row);
        console.error(table([row]).split("\n")[2]);
      } catch (error) {
        console.warn(`${name} × ${domains} skipped: ${(error as Error).message}`);
      }
    }
  }
  await stopXenstoredProcess();
  console.log(table(rows));
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--max");
  const j = Deno.args.indexOf("--only");
  await run(i >= 0 ? Number(Deno.args[i + 1]) : 1000, j >= 0 ? Deno.args[j + 1] : undefined);
}
