/**
 * libxl's lock files (`libxl__lock_file`, libxl_internal.c): open (create, 0666),
 * `flock(LOCK_EX)`, keep the lock only if the path still names the locked file (same device
 * and inode), else retry; released by unlinking the file, then closing it. `xl` takes its
 * userdata and domid-history locks this way, so dxl and `xl` exclude each other.
 *
 * @module
 */

/** A held lock. */
export interface HeldLock {
  /** Unlinks the lock file, then closes it (`libxl__unlock_file`). */
  release(): Promise<void>;
}

/**
 * Takes the lock at `path`; a failing open rejects with what `openError` makes of it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lockFile } from "./_lock_file.ts";
 * const path = `${await Deno.makeTempDir()}/x.lock`;
 * const lock = await lockFile(path, (cause) => cause);
 * assert.equal((await Deno.stat(path)).isFile, true);
 * await lock.release();
 * await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
 * ```
 */
export async function lockFile(
  path: string,
  openError: (cause: Error) => Error,
): Promise<HeldLock> {
  for (;;) {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o666 });
    } catch (cause) {
      throw openError(cause as Error);
    }
    await file.lock(true);
    const held = await file.stat();
    const now = await Deno.stat(path).catch(() => undefined);
    if (now !== undefined && now.dev === held.dev && now.ino === held.ino) {
      return {
        release: async () => {
          await Deno.remove(path).catch(() => {});
          file.close();
        },
      };
    }
    file.close(); // someone unlocked (and unlinked) it meanwhile: lock the new file
  }
}
