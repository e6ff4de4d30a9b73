/**
 * What the lib/xen tests need from the machine, and the one-line skip (a failure under
 * `CI=true`, where `.ci/run` installs everything).
 *
 * @module
 */

const IN_CI = Deno.env.get("CI") === "true";
const reported = new Set<string>();

/**
 * Returns true when `reason` is undefined (run the test). Otherwise prints one SKIPPED line
 * (once per reason) and returns false, or throws under `CI=true`.
 */
export function mayRun(what: string, reason: string | undefined): boolean {
  if (reason === undefined) return true;
  if (IN_CI) throw new Error(`CI=true and ${what} cannot run: ${reason}`);
  if (!reported.has(reason)) {
    reported.add(reason);
    // deno-lint-ignore no-console
    console.warn(`SKIPPED ${what}: ${reason}`);
  }
  return false;
}

/** Runs a command, returning its exit status and output (never throws for a missing binary). */
export async function tryRun(
  cmd: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<{ ok: boolean; code: number; stdout: string; stderr: string }> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    }).output();
    const dec = new TextDecoder();
    return {
      ok: out.success,
      code: out.code,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
    };
  } catch (error) {
    return { ok: false, code: -1, stdout: "", stderr: (error as Error).message };
  }
}

/** Whether a path exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
