/**
 * `dxl block-attach DOMAIN DISKSPEC`: xl's `block-attach` — the disk spec parsed as xl
 * parses it, the backend chosen as libxl chooses it, the device added in one transaction
 * with its `/libxl` record, then a wait for the backend as libxl waits.
 *
 * @module
 */

import { addDevice } from "../libxl/device_add.ts";
import { parseDiskSpec, statDiskTarget } from "../libxl/disk_spec.ts";
import { vbd } from "../libxl/devices/vbd.ts";
import type { DomainType } from "../libxl/hypervisor.ts";
import { examples, type GlobalOptions, type Program, withStore } from "./context.ts";
import { out, toJson } from "./output.ts";
import { deviceRow, parseTimeout, resolveDomainArg } from "./xl_common.ts";
import { readDeviceRecord } from "../libxl/device_list.ts";
import { connectAdded } from "./_host.ts";

/** Registers `dxl block-attach`. */
export function register(program: Program): void {
  const cmd = program
    .command("block-attach")
    .description(
      "attach a disk as `xl block-attach` does: DISKSPEC in xl's syntax " +
        "(target,vdev,access with phy:/file:/qcow2:... prefixes, or key=value), the backend " +
        "chosen as libxl chooses it; waits for the backend (on a real Xen host the target is " +
        "stat()ed as libxl does, elsewhere it is taken to be a block device)",
    )
    .argument("<domain>", "domain name or id")
    .argument("<diskspec...>", "the disk spec (several arguments are joined with commas)")
    .option("--timeout <seconds>", "how long to wait for the backend", "10")
    .option(
      "--json",
      "print the attached device as `dxl devices --json` shows it, without its state",
    )
    .action(async (domain, specParts, opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      const timeoutMs = parseTimeout(opts.timeout);
      await withStore(globals, async (store) => {
        const { xs } = store;
        const domid = await resolveDomainArg(xs, domain);
        const type = await xs.tryRead(`/libxl/${domid}/type`);
        const domainType: DomainType = type === "hvm" || type === "pvh" ? type : "pv";
        const disk = parseDiskSpec(specParts.join(","), {
          domainType,
          ...(store.hypervisorKind === "xen" ? { targetKind: statDiskTarget } : {}),
        });
        const { backendName, ...options } = disk;
        if (backendName !== undefined) {
          options.backendDomid = await resolveDomainArg(xs, backendName);
        }
        const spec = await addDevice(xs, vbd({ ...options, domid }));
        // on a Xen host also its hotplug script and libxl's config file, as xl
        await connectAdded(store, spec, { timeoutMs });
        if (opts.json) {
          const record = await readDeviceRecord(xs, spec);
          if (record !== undefined) {
            // The backend's state moves on by itself after the wait: not part of the answer.
            const { state: _state, stateName: _name, ...row } = await deviceRow(xs, record);
            out(toJson(row));
          }
        }
      });
    });
  examples(cmd, [
    "dxl block-attach web phy:/dev/vg0/data,xvdb,w",
    "dxl block-attach 3 /srv/images/extra.qcow2,qcow2,xvdc,r",
    "dxl block-attach web vdev=xvdd,devtype=cdrom,target=/srv/iso/install.iso",
  ]);
}
