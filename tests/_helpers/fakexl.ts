/**
 * Builds `../shared/fakexl`'s LD_PRELOAD stand-in for the hypercalls (gcc, well under a
 * second) for the tests that run Xen 4.17's real `xl` and libraries.
 *
 * @module
 */

import { REFXS_DIR } from "./servers.ts";
import { joinPosix } from "./paths.ts";

/** The folder of ../shared/fakexl (its `build.sh`, `scripts/`, `fakebackend.py`). */
export const FAKEXL_DIR: string = joinPosix(REFXS_DIR, "../fakexl");

/**
 * Builds `fakexl.so` into `dir`: `{ so }` is its path, `{ error }` says why it cannot be built
 * here (no ../shared/fakexl, no gcc).
 */
export async function buildFakexl(dir: string): Promise<{ so: string } | { error: string }> {
  const out = joinPosix(dir, "fakexl.so");
  try {
    const built = await new Deno.Command("bash", {
      args: [joinPosix(FAKEXL_DIR, "build.sh"), out],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!built.success) {
      return {
        error: `cannot build ${FAKEXL_DIR}/fakexl.so (needs gcc): ${
          new TextDecoder().decode(built.stderr).trim()
        }`,
      };
    }
    return { so: new TextDecoder().decode(built.stdout).trim() };
  } catch (error) {
    return { error: `cannot build ${FAKEXL_DIR}/fakexl.so: ${(error as Error).message}` };
  }
}
