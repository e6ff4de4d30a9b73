/**
 * `dxl network-attach DOMAIN [key=value...]`: xl's `network-attach` — a nic with the next
 * free devid, added in one transaction with its `/libxl` record; waits for the backend.
 *
 * @module
 */

import { addDevice } from "../libxl/device_add.ts";
import { readDeviceRecord } from "../libxl/device_list.ts";
import { vif, type VifOptions } from "../libxl/devices/vif.ts";
import { examples, type GlobalOptions, type Program, withStore } from "./context.ts";
import { UsageError } from "./errors.ts";
import { out, toJson } from "./output.ts";
import { deviceRow, parseTimeout, resolveDomainArg } from "./xl_common.ts";
import { connectAdded } from "./_host.ts";

const KEYS = [
  "mac",
  "bridge",
  "rate",
  "ip",
  "script",
  "vifname",
  "gatewaydev",
  "mtu",
  "type",
  "backend",
];

/** The nic options of xl's `key=value` arguments (each argument may hold several, comma-separated). */
function parseNicArgs(
  args: readonly string[],
): { options: Omit<VifOptions, "domid" | "devid">; backend?: string } {
  const options: Omit<VifOptions, "domid" | "devid"> = {};
  let backend: string | undefined;
  for (const arg of args) {
    for (const token of arg.split(",")) {
      if (token === "") continue;
      const eq = token.indexOf("=");
      const key = eq < 0 ? token : token.slice(0, eq);
      const value = eq < 0 ? "" : token.slice(eq + 1);
      if (eq < 0 || !KEYS.includes(key)) {
        throw new UsageError(
          `Invalid nic setting ${JSON.stringify(token)}: expected key=value with key one of ${
            KEYS.join(", ")
          }`,
        );
      }
      switch (key) {
        case "mtu":
          if (!/^[0-9]+$/.test(value)) {
            throw new UsageError(
              `Invalid nic setting ${JSON.stringify(token)}: mtu must be a number`,
            );
          }
          options.mtu = Number(value);
          break;
        case "type":
          if (value !== "vif" && value !== "ioemu") {
            throw new UsageError(
              `Invalid nic setting ${JSON.stringify(token)}: type is vif or ioemu`,
            );
          }
          options.type = value === "ioemu" ? "vif_ioemu" : "vif";
          break;
        case "backend":
          backend = value;
          break;
        case "mac":
        case "bridge":
        case "rate":
        case "ip":
        case "script":
        case "vifname":
        case "gatewaydev":
          options[key] = value;
          break;
      }
    }
  }
  return backend === undefined ? { options } : { options, backend };
}

/** Registers `dxl network-attach`. */
export function register(program: Program): void {
  const cmd = program
    .command("network-attach")
    .description(
      "attach a nic as `xl network-attach` does (mac=, bridge=, rate=, ip=, script=, " +
        "vifname=, gatewaydev=, mtu=, type=, backend=); waits for the backend",
    )
    .argument("<domain>", "domain name or id")
    .argument("[settings...]", "key=value settings")
    .option("--timeout <seconds>", "how long to wait for the backend", "10")
    .option("--json", "print the attached nic as `dxl devices --json` shows it, without its state")
    .action(async (domain, settings, opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      const timeoutMs = parseTimeout(opts.timeout);
      const { options, backend } = parseNicArgs(settings);
      await withStore(globals, async ({ xs, host }) => {
        const domid = await resolveDomainArg(xs, domain);
        if (backend !== undefined) options.backendDomid = await resolveDomainArg(xs, backend);
        // Built once before the transaction so that a bad mac or rate is reported as such.
        vif({ ...options, domid, devid: 0 });
        const spec = await addDevice(xs, {
          domid,
          kind: "vif",
          build: (devid) => vif({ ...options, domid, devid }),
        });
        // on a Xen host also its hotplug script and libxl's config file, as xl
        await connectAdded({ xs, host }, spec, { timeoutMs });
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
    "dxl network-attach web",
    "dxl network-attach web mac=00:16:3e:aa:bb:cc bridge=xenbr1",
    "dxl network-attach 3 rate=10Mb/s backend=netdom",
  ]);
}
