/**
 * Output helpers of the `dxl` command: exact writes to stdout/stderr, colours that switch
 * themselves off (pipes, `NO_COLOR`), and an aligned-columns table.
 *
 * @module
 */

import process from "node:process";
import { styleText } from "node:util";

const encoder = new TextEncoder();

function writeAll(file: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
}

/**
 * Writes `text` to stdout exactly as given (no newline added), synchronously, so output is
 * complete when the process exits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // in a child process, to see exactly what reaches stdout
 * const child = `import { out } from ${JSON.stringify(import.meta.resolve("./output.ts"))};
 * out("a\\0b"); out(new Uint8Array([0xff]));`;
 * const { stdout } = await new Deno.Command(Deno.execPath(), {
 *   args: ["eval", child],
 *   stdout: "piped",
 * }).output();
 * assert.deepEqual(stdout, new Uint8Array([0x61, 0, 0x62, 0xff])); // bytes as given, no newline
 * ```
 */
export function out(text: string | Uint8Array): void {
  writeAll(Deno.stdout, typeof text === "string" ? encoder.encode(text) : text);
}

/**
 * Writes `text` and a newline to stderr (messages, progress, the xenstore in use).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const child = `import { err } from ${JSON.stringify(import.meta.resolve("./output.ts"))};
 * err("using the embedded xenstore");`;
 * const { stdout, stderr } = await new Deno.Command(Deno.execPath(), {
 *   args: ["eval", child],
 *   stdout: "piped",
 *   stderr: "piped",
 * }).output();
 * assert.equal(new TextDecoder().decode(stderr), "using the embedded xenstore\n");
 * assert.equal(stdout.length, 0);
 * ```
 */
export function err(text: string): void {
  writeAll(Deno.stderr, encoder.encode(text + "\n"));
}

/** A style `node:util`'s `styleText` knows (`"red"`, `"bold"`, `"dim"`, ...). */
export type Style = Parameters<typeof styleText>[0];

/** Options of {@linkcode paint}. */
export interface PaintOptions {
  /**
   * The stream the text goes to; colours appear only when it is a terminal and `NO_COLOR`
   * is unset. @default {"stdout"}
   */
  stream?: "stdout" | "stderr";
}

/**
 * `text` in `style` when the stream is a colour terminal (and `NO_COLOR` is unset), else
 * `text` unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { paint } from "./output.ts";
 * if (!Deno.stdout.isTerminal()) assert.equal(paint("red", "gone"), "gone");
 * ```
 */
export function paint(style: Style, text: string, options: PaintOptions = {}): string {
  const stream = options.stream === "stderr" ? process.stderr : process.stdout;
  return styleText(style, text, { stream });
}

/** Options of {@linkcode formatTable}. */
export interface TableOptions {
  /**
   * Per column: `"right"` pads on the left (numbers). Missing columns are `"left"`.
   * @default {[]}
   */
  align?: readonly ("left" | "right")[];
  /** Text between columns. @default {"  "} */
  gap?: string;
}

/**
 * Lines of an aligned-columns table (no colours, no borders); each column is as wide as its
 * widest cell, the last column is not padded on the right. Widths count UTF-16 units (the
 * contents are domain names and numbers).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTable } from "./output.ts";
 * const lines = formatTable([["Name", "ID"], ["Domain-0", "0"], ["web", "12"]], {
 *   align: ["left", "right"],
 * });
 * assert.deepEqual(lines, ["Name      ID", "Domain-0   0", "web       12"]);
 * ```
 */
export function formatTable(
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string[] {
  const align = options.align ?? [];
  const gap = options.gap ?? "  ";
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, cell.length));
  }
  return rows.map((row) =>
    row.map((cell, i) => {
      const width = widths[i] ?? 0;
      if (align[i] === "right") return cell.padStart(width);
      return i === row.length - 1 ? cell : cell.padEnd(width);
    }).join(gap)
  );
}

/**
 * JSON for `--json` output: two-space indent and a final newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toJson } from "./output.ts";
 * assert.equal(toJson({ a: 1 }), '{\n  "a": 1\n}\n');
 * ```
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}
