/**
 * `dxl block-detach DOMAIN VDEV [-f]`: xl's `block-detach` — the disk found through its
 * `/libxl` record only, removed with libxl's safe protocol (`-f`: destroyed).
 *
 * @module
 */

import { findDiskByVdev } from "../libxl/lookup.ts";
import { removeDevice } from "../libxl/device_remove.ts";
import { examples, type GlobalOptions, type Program, withStore } from "./context.ts";
import { UsageError } from "./errors.ts";
import { out, toJson } from "./output.ts";
import { parseTimeout, resolveDomainArg } from "./xl_common.ts";
import { withRemovalHook } from "./_host.ts";

/** Registers `dxl block-detach`. */
export function register(program: Program): void {
  const cmd = program
    .command("block-detach")
    .description(
      "detach a disk as `xl block-detach` does: ask the backend to close and wait for it " +
        "(libxl's safe remove: a backend that does not close leaves the disk attached); " +
        "-f removes it whatever the backend does (libxl's destroy)",
    )
    .argument("<domain>", "domain name or id")
    .argument("<vdev>", "the disk's name in the guest (xvdb, hdc, sda1, d0p1) or its devid")
    .option("-f, --force", "remove it even if the backend does not close")
    .option("--timeout <seconds>", "how long to wait for the backend to close", "10")
    .option("--json", "print {kind, devid, closed, forced}")
    .action(async (domain, vdev, opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      const timeoutMs = parseTimeout(opts.timeout);
      await withStore(globals, async ({ xs, host }) => {
        const domid = await resolveDomainArg(xs, domain);
        const disk = await findDiskByVdev(xs, domid, { vdev });
        if (disk === undefined) {
          throw new UsageError(
            `Device ${JSON.stringify(vdev)} is not attached to domain ${domain}`,
          );
        }
        const devid = disk.devid;
        // on a Xen host its removal script runs and libxl's config file forgets it, as xl
        const result = await withRemovalHook(
          { xs, host },
          (beforeCleanup) =>
            removeDevice(xs, disk, {
              force: opts.force ? "always" : "never",
              timeoutMs,
              ...(beforeCleanup === undefined ? {} : { beforeCleanup }),
            }),
        );
        if (opts.json) {
          out(toJson({ kind: "vbd", devid, closed: result.closed, forced: result.forced }));
        }
      });
    });
  examples(cmd, ["dxl block-detach web xvdb", "dxl block-detach 3 51728 -f"]);
}
