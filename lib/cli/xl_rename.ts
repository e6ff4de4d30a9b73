/**
 * `dxl rename DOMAIN NEWNAME`: xl's `rename` — `~/name` and `/vm/<uuid>/name` in one
 * transaction that also checks the new name is free.
 *
 * @module
 */

import { renameDomain } from "../libxl/domain.ts";
import { examples, type GlobalOptions, type Program, withStore } from "./context.ts";
import { out, toJson } from "./output.ts";
import { resolveDomainArg } from "./xl_common.ts";
import { withName } from "../xen/libxl_config.ts";
import { updateHostConfig } from "./_host.ts";

/** Registers `dxl rename`. */
export function register(program: Program): void {
  const cmd = program
    .command("rename")
    .description("rename a domain as `xl rename` does (the new name must be unused)")
    .argument("<domain>", "domain name or id")
    .argument("<newname>", "the new name")
    .option("--json", "print {domid, name}")
    .action(async (domain, newName, opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      await withStore(globals, async ({ xs, host }) => {
        const domid = await resolveDomainArg(xs, domain);
        await renameDomain(xs, domid, { name: newName });
        // on a Xen host libxl's config file has the name too (xl rename updates it)
        await updateHostConfig({ xs, host }, domid, (c) => withName(c, newName));
        if (opts.json) out(toJson({ domid, name: newName }));
      });
    });
  examples(cmd, ["dxl rename web web-old", "dxl rename 3 db"]);
}
