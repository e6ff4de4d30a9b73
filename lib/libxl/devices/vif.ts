/**
 * Network interfaces (`libxl_nic.c` `libxl__set_xenstore_nic`).
 *
 * @module
 */

import type { DeviceBaseOptions, DeviceSpec } from "../device.ts";
import { makeDeviceSpec } from "../device.ts";
import { DeviceConfigError } from "../errors.ts";
import { base, choice, devidOf, flag, int, object, optText } from "./_fields.ts";
import { XEN_SCRIPT_DIR } from "./vbd.ts";
import type { NicRate } from "../rate.ts";
import { formatRate, parseRate } from "../rate.ts";

/** libxl's default MTU; `mtu` goes to the backend only when it differs. */
export const NIC_MTU_DEFAULT = 1500;

/** Options of {@linkcode vif}. */
export interface VifOptions extends DeviceBaseOptions {
  /** The device id (also the `handle`). */
  devid: number;
  /** `xx:xx:xx:xx:xx:xx`. @default {random `00:16:3e:` address, see {@linkcode randomMac}} */
  mac?: string;
  /** Random bytes for the default MAC (injected for tests). @default {crypto.getRandomValues} */
  random?: (bytes: number) => Uint8Array;
  /** The bridge. @default {"xenbr0"} */
  bridge?: string;
  /** The hotplug script, relative to the script dir or absolute. @default {"vif-bridge"} */
  script?: string;
  /** The backend interface name (`vifname`). */
  vifname?: string;
  /** `ip`: addresses handed to the script. */
  ip?: string;
  /** `gatewaydev`. */
  gatewaydev?: string;
  /**
   * Rate limit: xl's syntax (`"10Mb/s"`, `"1MB/s@20ms"`, see {@linkcode parseRate}) or
   * libxl's two fields; written as the backend's `rate` = `<bytes per interval>,<usecs>`.
   * @default {no limit}
   */
  rate?: string | NicRate;
  /** The MTU. @default {1500} */
  mtu?: number;
  /** `vlan`. */
  vlan?: string;
  /** `type`. @default {"vif"} */
  type?: "vif" | "vif_ioemu";
  /** The frontend's `trusted` flag. @default {true} */
  trusted?: boolean;
}

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

function defaultRandom(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/**
 * libxl's random MAC: Xen's OUI `00:16:3e`, then three random bytes with the top bit of the
 * fourth byte cleared.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomMac } from "./vif.ts";
 * assert.equal(randomMac(() => new Uint8Array([0xff, 0x01, 0x02])), "00:16:3e:7f:01:02");
 * ```
 */
export function randomMac(random: (bytes: number) => Uint8Array = defaultRandom): string {
  const r = random(3);
  if (!(r instanceof Uint8Array) || r.length < 3) {
    throw new TypeError("random(3) must return a Uint8Array of at least 3 bytes");
  }
  const bytes = [0x00, 0x16, 0x3e, r[0]! & 0x7f, r[1]!, r[2]!];
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/**
 * A network interface with libxl's keys in libxl's order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vif } from "./vif.ts";
 * const nic = vif({ domid: 1, devid: 0, mac: "00:16:3e:aa:bb:cc" });
 * assert.equal(nic.back.find(([k]) => k === "bridge")?.[1], "xenbr0");
 * ```
 */
export function vif(options: VifOptions): DeviceSpec {
  const { o, domid, backendDomid } = base("vif", options);
  const devid = devidOf("vif", o);
  let mac: string;
  if (o.mac === undefined) {
    mac = randomMac(o.random as VifOptions["random"]);
  } else if (typeof o.mac !== "string" || !MAC.test(o.mac)) {
    throw new DeviceConfigError(
      "vif",
      "mac",
      `${JSON.stringify(o.mac)} is not six hex bytes separated by colons`,
    );
  } else {
    mac = o.mac.toLowerCase();
  }
  const bridge = optText("vif", "bridge", o.bridge) ?? "xenbr0";
  const script = optText("vif", "script", o.script) ?? "vif-bridge";
  const vifname = optText("vif", "vifname", o.vifname);
  const ip = optText("vif", "ip", o.ip);
  const gatewaydev = optText("vif", "gatewaydev", o.gatewaydev);
  const mtu = int("vif", "mtu", o.mtu, { min: 68, max: 65535, fallback: NIC_MTU_DEFAULT });
  const vlan = optText("vif", "vlan", o.vlan);
  const type = choice("vif", "type", o.type, ["vif", "vif_ioemu"] as const, "vif");
  const trusted = flag("vif", "trusted", o.trusted, true);
  let rate: string | undefined;
  if (typeof o.rate === "string") {
    try {
      rate = formatRate(parseRate(o.rate));
    } catch (e) {
      throw new DeviceConfigError("vif", "rate", (e as Error).message, { cause: e });
    }
  } else if (o.rate !== undefined) {
    const r = object("vif", o.rate);
    const bytesPerInterval = int("vif", "rate.bytesPerInterval", r.bytesPerInterval, {
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
    });
    const intervalUsecs = int("vif", "rate.intervalUsecs", r.intervalUsecs, {
      min: 1,
      max: 0xffffffff,
    });
    rate = formatRate({ bytesPerInterval, intervalUsecs });
  }

  const back: [string, string][] = [
    ["script", script.startsWith("/") ? script : `${XEN_SCRIPT_DIR}/${script}`],
  ];
  if (vifname !== undefined) back.push(["vifname", vifname]);
  back.push(["mac", mac]);
  if (ip !== undefined) back.push(["ip", ip]);
  if (gatewaydev !== undefined) back.push(["gatewaydev", gatewaydev]);
  if (rate !== undefined) back.push(["rate", rate]);
  if (mtu !== NIC_MTU_DEFAULT) back.push(["mtu", String(mtu)]);
  if (vlan !== undefined) back.push(["vlan", vlan]);
  back.push(
    ["bridge", bridge],
    ["handle", String(devid)],
    ["type", type],
    ["hotplug-status", ""],
  );
  return makeDeviceSpec({
    domid,
    kind: "vif",
    devid,
    backendDomid,
    backendKind: "vif",
    back,
    front: [["handle", String(devid)], ["mac", mac], ["trusted", trusted ? "1" : "0"]],
    roFront: [["mtu", String(mtu)]],
  });
}
