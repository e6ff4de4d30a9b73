/**
 * `dxl network-detach DOMAIN DEVID|MAC`: xl's `network-detach` — the nic found through its
 * `/libxl` record only (by devid, or by the MAC the record holds), removed as libxl does.
 *
 * @module
 */

import { listDevices } from "../libxl/device_list.ts";
import { findNicByMac } from "../libxl/lookup.ts";
import { removeDevice } from "../libxl/device_remove.ts";
import { examples, type GlobalOptions, type Program, withStore } from "./context.ts";
import { UsageError } from "./errors.ts";
import { out, toJson } from "./output.ts";
import { parseTimeout, resolveDomainArg } from "./xl_common.ts";
import { withRemovalHook } from "./_host.ts";

/** Registers `dxl network-detach`. */
export function register(program: Program): void {
  const cmd = program
    .command("network-detach")
    .description(
      "detach a nic as `xl network-detach` does, by devid or MAC (from the /libxl record, " +
        "never from what the guest wrote); asks the backend to close, then removes it",
    )
    .argument("<domain>", "domain name or id")
    .argument("<device>", "the nic's devid or MAC address")
    .option("--timeout <seconds>", "how long to wait for the backend to close", "10")
    .option("--json", "print {kind, devid, closed, forced}")
    .action(async (domain, device, opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      const timeoutMs = parseTimeout(opts.timeout);
      await withStore(globals, async ({ xs, host }) => {
        const domid = await resolveDomainArg(xs, domain);
        // As xl: a ':' makes it a MAC, anything else a devid.
        const byMac = device.includes(":");
        if (!byMac && !/^[0-9]+$/.test(device)) {
          throw new UsageError(
            `Invalid nic ${JSON.stringify(device)}: give a devid or a MAC address`,
          );
        }
        const nic = byMac
          ? await findNicByMac(xs, domid, { mac: device })
          : (await listDevices(xs, domid, { kind: "vif" })).find((n) => n.devid === Number(device));
        if (nic === undefined) {
          throw new UsageError(
            `Unknown device ${JSON.stringify(device)}: domain ${domain} has no such nic`,
          );
        }
        // on a Xen host its removal script runs and libxl's config file forgets it, as xl
        const result = await withRemovalHook(
          { xs, host },
          (beforeCleanup) =>
            removeDevice(xs, nic, {
              force: "auto",
              timeoutMs,
              ...(beforeCleanup === undefined ? {} : { beforeCleanup }),
            }),
        );
        if (opts.json) {
          out(
            toJson({ kind: "vif", devid: nic.devid, closed: result.closed, forced: result.forced }),
          );
        }
      });
    });
  examples(cmd, ["dxl network-detach web 0", "dxl network-detach 3 00:16:3e:aa:bb:cc"]);
}
