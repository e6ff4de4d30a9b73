/**
 * `dxl cd-insert DOMAIN VDEV TARGET` and `dxl cd-eject DOMAIN VDEV`: xl's `cd-insert` /
 * `cd-eject` — new media in (or out of) an HVM guest's cdrom drive, found through its
 * `/libxl` record.
 *
 * @module
 */

import { ejectCdrom, insertCdrom } from "../libxl/cdrom.ts";
import { parseDiskSpec } from "../libxl/disk_spec.ts";
import { examples, type GlobalOptions, type Program, withStore } from "./context.ts";
import { out, toJson } from "./output.ts";
import { resolveDomainArg } from "./xl_common.ts";

/** Registers `dxl cd-insert`. */
export function register(program: Program): void {
  const cmd = program
    .command("cd-insert")
    .description(
      "put media in a guest's cdrom drive as `xl cd-insert` does (the drive from the /libxl " +
        "record; TARGET taken whole, as xl's target= does)",
    )
    .argument("<domain>", "domain name or id")
    .argument("<vdev>", "the drive, as the guest names it (hdc)")
    .argument("<target>", "the image")
    .option("--json", "print {domid, vdev, target, format}")
    .action(async (domain, vdev, target, opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      // xl builds "vdev=...,access=r,devtype=cdrom,target=..." and parses it as a disk spec.
      const disk = parseDiskSpec(`vdev=${vdev},access=r,devtype=cdrom,target=${target}`);
      await withStore(globals, async ({ xs }) => {
        const domid = await resolveDomainArg(xs, domain);
        const format = disk.format === "empty" ? undefined : disk.format;
        await insertCdrom(xs, domid, {
          vdev,
          target: disk.target,
          ...(format === undefined ? {} : { format }),
        });
        if (opts.json) out(toJson({ domid, vdev, target: disk.target, format: disk.format }));
      });
    });
  examples(cmd, ["dxl cd-insert win hdc /srv/iso/debian.iso"]);
}

/** Registers `dxl cd-eject`. */
export function registerEject(program: Program): void {
  const cmd = program
    .command("cd-eject")
    .description("empty a guest's cdrom drive as `xl cd-eject` does")
    .argument("<domain>", "domain name or id")
    .argument("<vdev>", "the drive, as the guest names it (hdc)")
    .option("--json", "print {domid, vdev}")
    .action(async (domain, vdev, opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      await withStore(globals, async ({ xs }) => {
        const domid = await resolveDomainArg(xs, domain);
        await ejectCdrom(xs, domid, { vdev });
        if (opts.json) out(toJson({ domid, vdev }));
      });
    });
  examples(cmd, ["dxl cd-eject win hdc"]);
}
