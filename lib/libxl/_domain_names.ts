/**
 * The name uniqueness check that domain creation and renaming run inside their transaction.
 *
 * @module
 */

import type { XenstoreOps } from "../client/types.ts";
import { listIfPresent } from "./store.ts";

/** The domain that holds `name` other than `except`, read through `ops` (inside its tx). */
export async function nameHolder(
  ops: XenstoreOps,
  name: string,
  except: number,
): Promise<number | undefined> {
  const ids = (await listIfPresent(ops, "/local/domain"))
    .filter((entry) => /^(0|[1-9][0-9]*)$/.test(entry) && Number(entry) !== except);
  const names = await Promise.all(ids.map((id) => ops.tryRead(`/local/domain/${id}/name`)));
  const i = names.indexOf(name);
  return i < 0 ? undefined : Number(ids[i]);
}
