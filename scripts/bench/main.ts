// deno-lint-ignore-file no-console
/**
 * `deno task bench`: every benchmark of dxl, one after another, each printing a markdown
 * table. Pass section names to run only some: `deno task bench client server libxl config`.
 *
 * The sections start their own servers (the embedded xenstored, and the real C xenstored and
 * oxenstored through `../shared/refxs`); run on an otherwise idle machine.
 *
 * @module
 */

import { run as client } from "./client.ts";
import { run as server } from "./server.ts";
import { run as libxl } from "./libxl.ts";
import { run as config } from "./config.ts";

const SECTIONS: Record<string, () => Promise<void>> = { client, server, libxl, config };

const wanted = Deno.args.length > 0 ? Deno.args : Object.keys(SECTIONS);
for (const name of wanted) {
  const section = SECTIONS[name];
  if (section === undefined) {
    throw new TypeError(
      `Unknown benchmark section "${name}" (use ${Object.keys(SECTIONS).join(", ")})`,
    );
  }
  console.log(`\n## ${name}\n`);
  await section();
}
