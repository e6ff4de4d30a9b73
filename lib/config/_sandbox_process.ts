/**
 * The sandboxed child as a process: started under a CPU-time limit, its output read with
 * caps, its resident memory watched, and its origin storage removed afterwards.
 *
 * @module
 */

/**
 * Starts `deno` with `args` under a CPU-time limit (`ulimit -t`, through `sh`, which then
 * execs deno in its place): a backstop that ends a busy script even if this process dies
 * before its timer can. Without a usable `sh`, deno is started directly.
 */
export function spawnChild(args: string[], cpuSeconds: number): Deno.ChildProcess {
  const io = { stdin: "piped", stdout: "piped", stderr: "piped" } as const;
  try {
    return new Deno.Command("sh", {
      args: ["-c", `ulimit -t ${cpuSeconds} && exec "$0" "$@"`, Deno.execPath(), ...args],
      ...io,
    }).spawn();
  } catch {
    return new Deno.Command(Deno.execPath(), { args, ...io }).spawn();
  }
}

/** `text` without ANSI colour codes. */
export function stripAnsi(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

/** All of `stream` as text; past `limit` bytes, `onLimit` is called and the rest dropped. */
export async function readAll(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  onLimit: () => void,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > limit) {
      onLimit();
      continue;
    }
    chunks.push(chunk);
  }
  return new TextDecoder().decode(await new Blob(chunks as BlobPart[]).arrayBuffer());
}

/** The last `limit` characters of `stream`. */
export async function readTail(stream: ReadableStream<Uint8Array>, limit: number): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    text += decoder.decode(chunk, { stream: true });
    if (text.length > 2 * limit) text = text.slice(-limit);
  }
  text += decoder.decode();
  return text.length > limit ? text.slice(-limit) : text;
}

/**
 * The resident memory of process `pid` in KiB, or `undefined` when it is gone. From
 * `/proc/<pid>/status`; Deno lets a process read `/proc` only with `--allow-all`, so without it
 * `ps` is asked (the run permission that starting the child needed covers it).
 */
async function residentKb(pid: number): Promise<number | undefined> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) return undefined;
  }
  try {
    const { success, stdout } = await new Deno.Command("ps", {
      args: ["-o", "rss=", "-p", String(pid)],
      stdout: "piped",
      stderr: "null",
    }).output();
    const kb = Number(new TextDecoder().decode(stdout).trim());
    return success && Number.isFinite(kb) ? kb : undefined;
  } catch {
    return undefined; // no ps either: the V8 heap limit still holds
  }
}

/** Polls the child's resident memory; calls `onExceeded` once past `limitMb`. */
export function watchMemory(
  pid: number,
  limitMb: number,
  onExceeded: () => void,
): ReturnType<typeof setInterval> {
  let busy = false;
  const id = setInterval(async () => {
    if (busy) return;
    busy = true;
    const kb = await residentKb(pid);
    busy = false;
    if (kb === undefined) {
      clearInterval(id); // gone
    } else if (kb > limitMb * 1024) {
      clearInterval(id);
      onExceeded();
    }
  }, 50);
  return id;
}

/** Where this deno keeps things (`deno info --json`), asked once per process. */
export interface DenoDirs {
  /** Origin storage (localStorage, and `web_cache/` for caches). */
  originStorage?: string;
  /** The npm package cache. */
  npmCache?: string;
}

let dirs: Promise<DenoDirs> | undefined;

/** {@linkcode DenoDirs} of this deno. */
export function denoDirs(): Promise<DenoDirs> {
  dirs ??= (async () => {
    try {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["info", "--json"],
        stdout: "piped",
        stderr: "null",
      }).output();
      return JSON.parse(new TextDecoder().decode(out.stdout)) as DenoDirs;
    } catch {
      return {};
    }
  })();
  return dirs;
}

/** Removes the origin storage a run may have created (each run has its own origin). */
export async function forgetOrigin(origin: string): Promise<void> {
  const storage = (await denoDirs()).originStorage;
  if (storage === undefined) return;
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(origin)),
  );
  const hash = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  for (const dir of [`${storage}/${hash}`, `${storage}/web_cache/${hash}`]) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
