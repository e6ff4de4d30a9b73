/**
 * Client benchmark: dxl's xenstore client against libxenstore, pyxs and a raw C socket loop,
 * all on one freshly started C xenstored (Debian's Xen 4.17 daemon, via `../shared/refxs`).
 *
 * Method (`../shared/reference/performance.md`): latency rows pin the daemon and the client
 * to CPU 0; the concurrent row keeps the daemon on CPU 0 and puts the client on CPU 1. Each
 * figure is the median of {@linkcode REPS} runs. Build outputs go to a temp dir.
 *
 * Run: `deno run -A scripts/bench/client.ts` (or through `deno task bench`).
 *
 * @module
 */

import { connect, type XenstoreClient } from "../../lib/client/mod.ts";

/** Repetitions per figure; the median is reported. */
export const REPS = 5;
const SEQ_OPS = 20_000;
const PY_SEQ_OPS = 5_000;
const TX_OPS = 2_000;
const PY_TX_OPS = 500;
const CONCURRENT = 10_000;
const CONCURRENT_REPS = 9;

const here = new URL(".", import.meta.url).pathname;
const refxsDir = Deno.env.get("DXL_REFXS") ??
  new URL("../../../shared/refxs", import.meta.url).pathname;

interface Figure {
  opsPerSec: number;
  p50Us?: number;
}

interface Row {
  name: string;
  cells: Record<Column, Figure | undefined>;
  note?: string;
}

type Column = "raw" | "libxenstore" | "dxl" | "pyxs";
const COLUMNS: Column[] = ["raw", "libxenstore", "dxl", "pyxs"];

async function sh(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr);
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${out.code}): ${err}${text}`);
  }
  return text.trim();
}

function median(figures: Figure[]): Figure {
  const sorted = [...figures].sort((a, b) => a.opsPerSec - b.opsPerSec);
  const mid = sorted[Math.floor(sorted.length / 2)] as Figure;
  const p50s = figures.map((f) => f.p50Us).filter((p): p is number => p !== undefined).sort((
    a,
    b,
  ) => a - b);
  const p50 = p50s[Math.floor(p50s.length / 2)];
  return p50 === undefined
    ? { opsPerSec: mid.opsPerSec }
    : { opsPerSec: mid.opsPerSec, p50Us: p50 };
}

async function repeat(fn: () => Promise<Figure>): Promise<Figure> {
  await fn(); // warm-up
  const figures: Figure[] = [];
  for (let i = 0; i < REPS; i++) figures.push(await fn());
  return median(figures);
}

function parseFigure(line: string): Figure {
  const [ops, p50] = line.split(/\s+/).map(Number);
  if (ops === undefined || !Number.isFinite(ops)) throw new Error(`bad bench output: ${line}`);
  return p50 === undefined || p50 === 0 ? { opsPerSec: ops } : { opsPerSec: ops, p50Us: p50 };
}

/** Runs an external benchmark process pinned to `cpu`. */
async function external(cpu: number, cmd: string, args: string[], env: Record<string, string>) {
  return parseFigure(await sh("taskset", ["-c", String(cpu), cmd, ...args], env));
}

function loadavg(): string {
  try {
    return Deno.loadavg().map((l) => l.toFixed(2)).join(" ");
  } catch {
    return "unknown (needs --allow-sys)";
  }
}

async function pinSelf(cpu: number): Promise<void> {
  await sh("taskset", ["-a", "-cp", String(cpu), String(Deno.pid)]);
}

async function sequential(n: number, op: () => Promise<unknown>): Promise<Figure> {
  const lat = new Float64Array(n);
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await op();
    lat[i] = performance.now() - t0;
  }
  const total = performance.now() - start;
  lat.sort();
  return { opsPerSec: n / (total / 1000), p50Us: (lat[n >> 1] as number) * 1000 };
}

async function concurrentReads(xs: XenstoreClient): Promise<Figure> {
  const start = performance.now();
  const reads: Promise<string>[] = new Array(CONCURRENT);
  for (let i = 0; i < CONCURRENT; i++) reads[i] = xs.read("/bench/key");
  await Promise.all(reads);
  return { opsPerSec: CONCURRENT / ((performance.now() - start) / 1000) };
}

async function tenWriteTx(xs: XenstoreClient): Promise<void> {
  await xs.transaction(async (tx) => {
    for (let i = 0; i < 10; i++) await tx.write(`/bench/tx/k${i}`, "v");
  });
}

/** The same transaction with its 10 writes in flight together (one round trip for all). */
async function tenWriteTxPipelined(xs: XenstoreClient): Promise<void> {
  await xs.transaction(async (tx) => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => tx.write(`/bench/tx/k${i}`, "v")));
  });
}

function fmtFigure(f: Figure | undefined, base: Figure | undefined): string {
  if (f === undefined) return "—";
  const ops = f.opsPerSec >= 1000 ? `${(f.opsPerSec / 1000).toFixed(1)}k` : f.opsPerSec.toFixed(0);
  const p50 = f.p50Us === undefined ? "" : ` (${f.p50Us.toFixed(1)} µs)`;
  const ratio = base === undefined ? "" : ` ×${(f.opsPerSec / base.opsPerSec).toFixed(2)}`;
  return `${ops}${p50}${ratio}`;
}

/** The markdown table: ops/s (p50) and the ratio to libxenstore's ops/s. */
export function formatTable(rows: Row[]): string {
  const lines = [
    `| row | ${COLUMNS.join(" | ")} |`,
    `|---|${COLUMNS.map(() => "---").join("|")}|`,
  ];
  for (const row of rows) {
    const base = row.cells.libxenstore;
    const cells = COLUMNS.map((c) => fmtFigure(row.cells[c], base));
    lines.push(`| ${row.name} | ${cells.join(" | ")} |`);
  }
  for (const row of rows) if (row.note) lines.push("", `${row.name}: ${row.note}`);
  return lines.join("\n");
}

/** Starts the daemon, builds the C programs, measures every row and prints the table. */
export async function run(): Promise<void> {
  const loadStart = loadavg();
  const work = await Deno.makeTempDir({ prefix: "dxl-bench-", dir: "/tmp" });
  const cpus = Number(await sh("nproc", []));
  const otherCpu = cpus > 1 ? 1 : 0;
  try {
    await sh("gcc", ["-O2", "-o", `${work}/libxs_bench`, `${here}libxs_bench.c`, "-lxenstore"]);
    await sh("gcc", ["-O2", "-pthread", "-o", `${work}/raw_bench`, `${here}client_raw_bench.c`]);
    await sh("taskset", ["-c", "0", "bash", `${refxsDir}/start.sh`, "c", `${work}/xs`]);
    const socket = `${work}/xs/socket`;
    const daemonPid = (await Deno.readTextFile(`${work}/xs/daemon.pid`)).trim();
    await sh("taskset", ["-a", "-cp", "0", daemonPid]);
    const refxsHome = Deno.env.get("REFXS_HOME") ?? `${refxsDir}/.work`;
    const env = {
      XENSTORED_PATH: socket,
      PYTHONPATH: [`${refxsHome}/root/usr/lib/python3/dist-packages`, Deno.env.get("PYTHONPATH")]
        .filter(Boolean).join(":"),
    };
    const py = (mode: string, n: number) =>
      external(0, "python3", [`${here}pyxs_bench.py`, socket, mode, String(n)], env);
    const libxs = (mode: string, n: number) =>
      external(0, `${work}/libxs_bench`, [mode, String(n)], env);

    await using xs = await connect({ path: socket });
    await xs.write("/bench/key", "value-0123");
    await pinSelf(0);
    const rows: Row[] = [];
    rows.push({
      name: "sequential READ, ops/s (p50)",
      cells: {
        raw: await repeat(() =>
          external(0, `${work}/raw_bench`, [socket, "seq", `${SEQ_OPS}`], env)
        ),
        libxenstore: await repeat(() => libxs("read", SEQ_OPS)),
        dxl: await repeat(() => sequential(SEQ_OPS, () => xs.read("/bench/key"))),
        pyxs: await repeat(() => py("read", PY_SEQ_OPS)),
      },
    });
    rows.push({
      name: "sequential WRITE, ops/s (p50)",
      cells: {
        raw: undefined,
        libxenstore: await repeat(() => libxs("write", SEQ_OPS)),
        dxl: await repeat(() => sequential(SEQ_OPS, () => xs.write("/bench/key", "value-0123"))),
        pyxs: await repeat(() => py("write", PY_SEQ_OPS)),
      },
    });
    rows.push({
      name: "10-write transaction/s (p50)",
      cells: {
        raw: undefined,
        libxenstore: await repeat(() => libxs("tx", TX_OPS)),
        dxl: await repeat(() => sequential(TX_OPS, () => tenWriteTx(xs))),
        pyxs: await repeat(() => py("tx", PY_TX_OPS)),
      },
    });
    rows.push({
      name: "10-write transaction/s, writes pipelined (p50)",
      cells: {
        raw: undefined,
        libxenstore: rows[2]?.cells.libxenstore,
        dxl: await repeat(() => sequential(TX_OPS, () => tenWriteTxPipelined(xs))),
        pyxs: undefined,
      },
      note: "dxl only: the 10 WRITEs go out in one write() and their replies come back " +
        "together; the libxenstore cell repeats its one-at-a-time figure for the ratio.",
    });
    await pinSelf(otherCpu);
    const libxsSeq = rows[0]?.cells.libxenstore;
    // Raw and dxl alternate run by run, so both see the same machine.
    const rawRuns: Figure[] = [];
    const dxlRuns: Figure[] = [];
    const rawPipe = () =>
      external(otherCpu, `${work}/raw_bench`, [socket, "pipe", `${CONCURRENT}`], env);
    await rawPipe();
    await concurrentReads(xs);
    for (let i = 0; i < CONCURRENT_REPS; i++) {
      rawRuns.push(await rawPipe());
      dxlRuns.push(await concurrentReads(xs));
    }
    rows.push({
      name: `${CONCURRENT} READs issued at once, ops/s`,
      cells: {
        raw: median(rawRuns),
        libxenstore: libxsSeq === undefined ? undefined : { opsPerSec: libxsSeq.opsPerSec },
        dxl: median(dxlRuns),
        pyxs: undefined,
      },
      note: `client on CPU ${otherCpu}, daemon on CPU 0, raw and dxl runs alternating ` +
        `(median of ${CONCURRENT_REPS}); libxenstore has one request in flight at a time, so ` +
        "its cell repeats its pinned sequential READ rate; raw is a C program pipelining all " +
        "the READs (a writer thread, 1 MiB reads): the ceiling.",
    });
    const concurrent = rows[rows.length - 1];
    const raw = concurrent?.cells.raw;
    const dxl = concurrent?.cells.dxl;
    const loadEnd = loadavg();
    // deno-lint-ignore no-console
    console.log(
      [
        `## dxl client vs libxenstore vs pyxs on C xenstored (Xen 4.17), ${cpus} CPUs`,
        "",
        `Latency rows: client and daemon pinned to CPU 0; medians of ${REPS} runs; ×n = ops/s ` +
        "relative to libxenstore.",
        "",
        formatTable(rows),
        "",
        raw && dxl
          ? `dxl concurrent READs reach ${(100 * dxl.opsPerSec / raw.opsPerSec).toFixed(0)}% of ` +
            "the raw pipelined ceiling."
          : "",
        `load average before: ${loadStart}; after: ${loadEnd} (an idle machine is near 0)`,
      ].join("\n"),
    );
  } finally {
    await sh("bash", [`${refxsDir}/stop.sh`, `${work}/xs`]).catch(() => "");
    await Deno.remove(work, { recursive: true });
  }
}

if (import.meta.main) await run();
