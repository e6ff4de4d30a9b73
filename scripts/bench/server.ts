/**
 * Server benchmark: the embedded xenstored against C xenstored and oxenstored under the same
 * load, in one run. Each server runs as its own process; the load generator
 * (`server_load.ts`) runs as another. Reports ops/s and server CPU µs per op (from
 * `/proc/PID/stat`) for READ and WRITE at 1 and 8 connections × 1 and 32 in flight,
 * transaction commits/s, and resident memory with 100,000 nodes (100 × 1,000, and 100,000
 * children of one node) with the creation rate. Method: `shared/reference/performance.md`.
 *
 * Run: `deno run -A scripts/bench/server.ts [--quick] [--pin]` (`DXL_BENCH_SERVERS=embedded,c`);
 * `--pin` puts each server and the load generator on CPU 0 (latency method).
 *
 * @module
 */

import { REFXS_DIR, refxsUnavailable } from "../../tests/_helpers/servers.ts";

type Kind = "embedded" | "c" | "ocaml";

interface Running {
  kind: Kind;
  socket: string;
  pid: number;
  stop: () => Promise<void>;
}

const HERE = new URL(".", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;
const CLOCK_TICKS = 100;

async function startServer(kind: Kind): Promise<Running> {
  const dir = await Deno.makeTempDir({ prefix: `dxl-bench-${kind}-`, dir: "/tmp" });
  if (kind === "embedded") {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--v8-flags=--max-semi-space-size=1",
        `${ROOT}scripts/serve.ts`,
        "--dir",
        dir,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    reader.releaseLock();
    const socket = new TextDecoder().decode(value).trim();
    return {
      kind,
      socket,
      pid: child.pid,
      stop: async () => {
        child.kill("SIGTERM");
        await child.stdout.cancel();
        await child.status;
        await Deno.remove(dir, { recursive: true });
      },
    };
  }
  const out = await new Deno.Command("bash", {
    args: [`${REFXS_DIR}/start.sh`, kind, dir],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const pid = Number(/pid=([0-9]+)/.exec(text)?.[1]);
  if (!out.success || !pid) throw new Error(`Cannot start ${kind}: ${text}`);
  return {
    kind,
    socket: `${dir}/socket`,
    pid,
    stop: async () => {
      await new Deno.Command("bash", { args: [`${REFXS_DIR}/stop.sh`, dir] }).output();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Reads a /proc file through `cat`: Deno wants --allow-all to read /proc/<pid>/ itself. */
function readProc(path: string): string {
  const out = new Deno.Command("cat", { args: [path], stdout: "piped" }).outputSync();
  if (!out.success) throw new Error(`Cannot read ${path}`);
  return new TextDecoder().decode(out.stdout);
}

function cpuTicks(pid: number): number {
  const stat = readProc(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

function rssBytes(pid: number): number {
  const status = readProc(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+([0-9]+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

const PIN = Deno.args.includes("--pin");

/** With --pin, server and load generator share CPU 0 (performance.md's latency method). */
function pin(pid: number): void {
  if (!PIN) return;
  const out = new Deno.Command("taskset", { args: ["-a", "-p", "-c", "0", String(pid)] })
    .outputSync();
  if (!out.success) throw new Error(`taskset failed for pid ${pid}`);
}

async function load(
  server: Running,
  mode: string,
  conns: number,
  inflight: number,
  seconds: number,
): Promise<{ ops: number; seconds: number; cpuUs: number }> {
  const before = cpuTicks(server.pid);
  const out = await new Deno.Command(PIN ? "taskset" : Deno.execPath(), {
    args: [
      ...(PIN ? ["-c", "0", Deno.execPath()] : []),
      "run",
      "-A",
      `${HERE}server_load.ts`,
      server.socket,
      mode,
      String(conns),
      String(inflight),
      String(seconds),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`load ${mode} on ${server.kind}: ${new TextDecoder().decode(out.stderr)}`);
  }
  const cpu = (cpuTicks(server.pid) - before) / CLOCK_TICKS;
  const r = JSON.parse(new TextDecoder().decode(out.stdout)) as { ops: number; seconds: number };
  return { ...r, cpuUs: r.ops > 0 ? (cpu * 1e6) / r.ops : 0 };
}

const fmtK = (n: number) => n >= 1000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(0);
const fmtMiB = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

/** Runs the benchmark and prints Markdown tables. */
export async function run(): Promise<void> {
  const quick = Deno.args.includes("--quick");
  const seconds = quick ? 1 : 3;
  const env = Deno.env.get("DXL_BENCH_SERVERS");
  let kinds: Kind[] = env ? env.split(",") as Kind[] : ["embedded", "c", "ocaml"];
  const missing = await refxsUnavailable();
  if (missing !== undefined) {
    // deno-lint-ignore no-console
    console.warn(`Only the embedded server: ${missing}`);
    kinds = kinds.filter((k) => k === "embedded");
  }
  const loads: [string, string, number, number][] = [
    ["READ, 1 conn, 1 in flight", "read", 1, 1],
    ["READ, 1 conn, 32 in flight", "read", 1, 32],
    ["READ, 8 conns, 1 in flight", "read", 8, 1],
    ["READ, 8 conns, 32 in flight", "read", 8, 32],
    ["WRITE, 1 conn, 1 in flight", "write", 1, 1],
    ["WRITE, 1 conn, 32 in flight", "write", 1, 32],
    ["WRITE, 8 conns, 1 in flight", "write", 8, 1],
    ["WRITE, 8 conns, 32 in flight", "write", 8, 32],
    ["transaction commits (1 write each), 8 conns", "tx", 8, 1],
  ];
  const table: Record<string, Record<string, string>> = {};
  const memory: Record<string, Record<string, string>> = {};
  for (const kind of kinds) {
    const server = await startServer(kind);
    pin(server.pid);
    try {
      for (const [label, mode, conns, inflight] of loads) {
        const r = await load(server, mode, conns, inflight, seconds);
        (table[label] ??= {})[kind] = `${fmtK(r.ops / r.seconds)}/s (${r.cpuUs.toFixed(1)} µs)`;
      }
    } finally {
      await server.stop();
    }
    for (
      const [label, layout] of [["100 × 1,000 nodes", "100x1000"], [
        "100,000 children of one node",
        "1x100000",
      ]]
    ) {
      const fresh = await startServer(kind);
      try {
        const base = rssBytes(fresh.pid);
        const r = await load(fresh, `fill:${layout}`, 1, 32, 0);
        const rss = rssBytes(fresh.pid);
        (memory[label as string] ??= {})[kind] = `${fmtMiB(rss)} (${
          ((rss - base) / r.ops).toFixed(0)
        } B/node), ${fmtK(r.ops / r.seconds)} nodes/s`;
      } finally {
        await fresh.stop();
      }
    }
  }
  const print = (title: string, rows: Record<string, Record<string, string>>) => {
    // deno-lint-ignore no-console
    console.log(`\n| ${title} | ${kinds.join(" | ")} |\n|---|${kinds.map(() => "---").join("|")}|`);
    for (const [label, cells] of Object.entries(rows)) {
      // deno-lint-ignore no-console
      console.log(`| ${label} | ${kinds.map((k) => cells[k] ?? "—").join(" | ")} |`);
    }
  };
  print("load (ops/s, server CPU µs/op)", table);
  print("memory (RSS, bytes/node over the empty server, creation rate)", memory);
}

if (import.meta.main) await run();
