/**
 * The main module of a sandboxed script run (started by `evaluateScript`, never imported).
 *
 * It loads dxl's own modules statically (so a script's `import "dxl"` finds them loaded and
 * needs no permission for them), reads the parent's start message from stdin, then imports
 * the script dynamically: Deno checks every module of a dynamically imported graph against
 * the read permission, so a script reaches no module outside what was granted. It awaits
 * the default export (calling it if it is a function), turns the value into JSON text with
 * its own walker (no `toJSON`, no getters run twice, every problem named by its path), and
 * writes one report line carrying the parent's nonce to stdout, then exits.
 *
 * @module
 */

import "../../mod.ts";
import { frameReport, READY, type Report, type StartMessage } from "./_sandbox_protocol.ts";
import { failure, safe, serialize } from "./_sandbox_json.ts";

// Captured before any script code runs: a script may replace globals and prototypes.
const ReflectApply = Reflect.apply;
const ReflectGet = Reflect.get;
const ArrayIsArray = Array.isArray;
const JSONStringify = JSON.stringify;
const JSONParse = JSON.parse;
const StringCtor = String;
const Uint8ArraySubarray = Uint8Array.prototype.subarray;
const encoder = new TextEncoder();
const encode = encoder.encode.bind(encoder);
const stdoutWriteSync = Deno.stdout.writeSync.bind(Deno.stdout);
const exit: (code?: number) => never = Deno.exit;
const NotCapable = Deno.errors.NotCapable;

stdoutWriteSync(encode(`${READY}\n`));
const start = await readStart();

function send(report: Report): never {
  const bytes = encode(frameReport(start.nonce, JSONStringify(report)));
  let written = 0;
  while (written < bytes.length) {
    written += stdoutWriteSync(ReflectApply(Uint8ArraySubarray, bytes, [written]));
  }
  exit(0);
}

/** Reads the start message: one line. The parent then keeps stdin open until it is gone. */
async function readStart(): Promise<StartMessage> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(4096);
  for (;;) {
    const n = await Deno.stdin.read(buffer);
    if (n === null) exit(70); // the parent gave up before starting the script
    const chunk = buffer.slice(0, n);
    chunks.push(chunk);
    if (chunk.includes(10)) break;
  }
  const text = new TextDecoder().decode(await new Blob(chunks as BlobPart[]).arrayBuffer());
  return JSONParse(text.slice(0, text.indexOf("\n"))) as StartMessage;
}

// When the parent goes away (killed, say), stdin ends: stop rather than run on as an orphan.
// (A script busy in a loop never yields to this; its CPU-time limit ends it instead.)
void (async () => {
  const buffer = new Uint8Array(64);
  try {
    while (await Deno.stdin.read(buffer) !== null) {
      // the parent sends nothing more
    }
    exit(70);
  } catch {
    // the script closed stdin
  }
})();

// Errors nobody caught (a timer, a worker's error event) end the run with a report.
globalThis.addEventListener("error", (event) => {
  event.preventDefault();
  send(failure(event.error ?? event.message));
});
globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  send(failure(event.reason));
});

// Origin storage would outlive the run; the parent also gives each run its own origin.
for (const name of ["localStorage", "sessionStorage", "caches"]) {
  delete (globalThis as Record<string, unknown>)[name];
}

// A worker asking for more than this process has fails; name the permission it asked for.
const OriginalWorker = globalThis.Worker;
const ESCALATION_ORDER = ["run", "ffi", "write", "sys", "import", "net", "env", "read"];
globalThis.Worker = new Proxy(OriginalWorker, {
  construct(target, args, newTarget) {
    try {
      return Reflect.construct(target, args, newTarget);
    } catch (error) {
      const options = args[1] as { deno?: { permissions?: unknown } } | undefined;
      const wanted = safe(() => options?.deno?.permissions, undefined);
      if (error instanceof NotCapable && typeof wanted === "object" && wanted !== null) {
        for (const permission of ESCALATION_ORDER) {
          const asked = safe(() => ReflectGet(wanted, permission), undefined);
          if (asked === true || (ArrayIsArray(asked) && asked.length > 0)) {
            const target = ArrayIsArray(asked) ? ` to "${StringCtor(asked[0])}"` : "";
            throw new NotCapable(
              `Requires ${permission} access${target}, run again with the --allow-${permission} flag (a worker cannot have more permissions than its script)`,
              { cause: error },
            );
          }
        }
      }
      throw error;
    }
  },
});

let namespace: Record<string, unknown>;
try {
  namespace = await import(start.script);
} catch (error) {
  send(failure(error));
}
if (!("default" in namespace)) {
  send({ kind: "output", path: "", problem: "is missing: the script has no default export" });
}
let value: unknown;
try {
  value = namespace.default;
  value = typeof value === "function" ? await value() : await value;
} catch (error) {
  send(failure(error));
}
send(serialize(value));
