/**
 * Hotplug scripts as libxl runs them (`device_hotplug` in libxl_device.c,
 * `libxl__get_hotplug_script_info` and `get_hotplug_env` in libxl_linux.c).
 *
 * @module
 */

import type { XenstoreOps } from "../client/types.ts";
import type { DeviceRef } from "../libxl/device_add.ts";
import type { DeviceRecord } from "../libxl/device_list.ts";
import { readDeviceRecord } from "../libxl/device_list.ts";
import { DeviceNotFoundError } from "../libxl/errors.ts";
import { HotplugError } from "./errors.ts";

/** libxl's `LIBXL_HOTPLUG_TIMEOUT` (libxl_internal.h), in milliseconds. */
export const HOTPLUG_TIMEOUT_MS = 40_000;

/** Connecting a device (`add` / `online`) or disconnecting it (`remove` / `offline`). */
export type HotplugAction = "add" | "remove";

/** One script run libxl would make for a device. */
export interface HotplugCommand {
  /** The script (the backend's `script` node). */
  script: string;
  /** Its arguments after the script itself. */
  args: string[];
  /** The variables libxl adds to its own environment. */
  env: Record<string, string>;
}

/** Options of {@linkcode runHotplug}. */
export interface HotplugOptions {
  /** How long a script may run before it is killed (libxl: 40 s). @default {40000} */
  timeoutMs?: number;
  /**
   * The domain this toolstack runs in: a backend in any other domain is a driver domain's,
   * whose own toolstack runs its scripts (libxl skips them too).
   * @default {0}
   */
  toolstackDomid?: number;
  /** Extra environment for the script (on top of this process's, as libxl's child inherits). @default {{}} */
  env?: Record<string, string>;
  /** Aborts the wait (the script is killed). @default {none} */
  signal?: AbortSignal;
}

/** What {@linkcode runHotplug} did. */
export interface HotplugResult {
  /** The scripts run, in order (none for kinds libxl runs no script for). */
  commands: HotplugCommand[];
  /** What they printed (stdout and stderr). */
  output: string;
  /** The backend's `hotplug-status` afterwards (`connected` after a successful add). */
  status: string | undefined;
  /**
   * A failed removal script (libxl logs it and carries on with the removal, so it is
   * reported here instead of thrown). Undefined when every script succeeded.
   */
  error: HotplugError | undefined;
}

function isRecord(device: DeviceRef | DeviceRecord): device is DeviceRecord {
  return "backendPath" in device && "backendKind" in device;
}

/**
 * The script runs libxl makes for `record` and `action` (`libxl__get_hotplug_script_info`):
 * a `vbd` backend runs its `script` with `add`/`remove`; a `vif` backend runs its `script`
 * with `online`/`offline type_if=vif` (and, for `type=vif_ioemu`, a second run with
 * `add`/`remove type_if=tap` and `INTERFACE`); every other backend kind runs none. The
 * environment is `script`, `XENBUS_TYPE`, `XENBUS_PATH` (relative: `backend/<kind>/<domid>/<devid>`),
 * `XENBUS_BASE_PATH=backend`, and for a vif `netdev` (the backend's `gatewaydev`) and `vif`
 * (`vif<domid>.<devid>`). Rejects when the backend has no `script` node, as libxl fails then.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hotplugCommands } from "./hotplug.ts";
 * const be = "/local/domain/0/backend/vif/3/0";
 * const nodes: Record<string, string> = { [`${be}/script`]: "/etc/xen/scripts/vif-bridge" };
 * const ops = { tryRead: (path: string) => Promise.resolve(nodes[path]) };
 * const [run] = await hotplugCommands(ops, {
 *   domid: 3, kind: "vif", devid: 0, backendDomid: 0, backendKind: "vif", backendPath: be,
 * }, "add");
 * assert.deepEqual(run?.args, ["online", "type_if=vif"]);
 * assert.equal(run?.env.XENBUS_PATH, "backend/vif/3/0");
 * assert.equal(run?.env.vif, "vif3.0");
 * ```
 */
export async function hotplugCommands(
  ops: Pick<XenstoreOps, "tryRead">,
  record: Pick<
    DeviceRecord,
    "domid" | "kind" | "devid" | "backendDomid" | "backendKind" | "backendPath"
  >,
  action: HotplugAction,
): Promise<HotplugCommand[]> {
  const be = record.backendPath;
  const kind = record.backendKind;
  if (be === undefined || (kind !== "vbd" && kind !== "vif")) return [];
  const script = await ops.tryRead(`${be}/script`);
  if (script === undefined || script === "") {
    throw new DeviceNotFoundError(`${be}/script`);
  }
  const env: Record<string, string> = {
    script,
    XENBUS_TYPE: kind,
    XENBUS_PATH: `backend/${kind}/${record.domid}/${record.devid}`,
    XENBUS_BASE_PATH: "backend",
  };
  if (kind === "vbd") return [{ script, args: [action], env }];
  env.netdev = (await ops.tryRead(`${be}/gatewaydev`)) ?? "";
  const vifName = `vif${record.domid}.${record.devid}`;
  const nicType = (await ops.tryRead(`${be}/type`)) ?? "vif";
  const online = action === "add" ? "online" : "offline";
  if (nicType !== "vif_ioemu") {
    return [{ script, args: [online, "type_if=vif"], env: { ...env, vif: vifName } }];
  }
  const both = { ...env, INTERFACE: `${vifName}-emu`, vif: vifName };
  return [
    { script, args: [online, "type_if=vif"], env: both },
    { script, args: [action, "type_if=tap"], env: both },
  ];
}

async function runOne(
  command: HotplugCommand,
  backendPath: string,
  ops: Pick<XenstoreOps, "tryRead">,
  options: HotplugOptions,
): Promise<{ output: string; error: HotplugError | undefined }> {
  const timeoutMs = options.timeoutMs ?? HOTPLUG_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal === undefined
    ? timeout
    : AbortSignal.any([timeout, options.signal]);
  const action = command.args.join(" ");
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command.script, {
      args: command.args,
      env: { ...(options.env ?? {}), ...command.env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (cause) {
    const error = new HotplugError(command.script, action, (cause as Error).message, {
      backendPath,
      output: "",
    }, { cause });
    return { output: "", error };
  }
  const kill = () => {
    try {
      child.kill("SIGKILL"); // libxl__async_exec kills the script on timeout
    } catch {
      // already exited
    }
  };
  signal.addEventListener("abort", kill, { once: true });
  const out = await child.output();
  signal.removeEventListener("abort", kill);
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (out.success) return { output: text, error: undefined };
  const how = timeout.aborted
    ? `timed out after ${timeoutMs / 1000} s`
    : options.signal?.aborted
    ? "aborted"
    : out.signal !== null
    ? `killed by ${out.signal}`
    : `exit ${out.code}`;
  const hotplugError = await ops.tryRead(`${backendPath}/hotplug-error`);
  const error = new HotplugError(command.script, action, how, {
    backendPath,
    hotplugError,
    output: text,
  });
  return { output: text, error };
}

/**
 * Runs a device's hotplug scripts as libxl does after the backend reached InitWait (add) or
 * Closed (remove): the commands of {@linkcode hotplugCommands}, one after another, stdin
 * `/dev/null`, killed after 40 s. libxl waits for the script to exit, not for a node; the
 * backend's `hotplug-status` is read afterwards and returned. On add, a failing script (or
 * `hotplug-status=error`) rejects with `HotplugError` carrying the backend's `hotplug-error`
 * (what libxl logs as `script: ...`) and the script's output; on remove the failure is
 * returned in `error`, because libxl carries on with the removal. `device` is a `/libxl`
 * record or a reference to one (read through `store`, never from the guest's frontend).
 * A backend outside `toolstackDomid` (a driver domain) runs nothing here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { addDevice } from "../libxl/device_add.ts";
 * import { vbd } from "../libxl/devices/vbd.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { runHotplug } from "./hotplug.ts";
 * const dir = await Deno.makeTempDir();
 * await using xsd = await startXenstored({ dir, initDom0: true });
 * xsd.createDomain(1);
 * await using xs = await connect({ path: xsd.socket });
 * const script = `${dir}/block`;  // a stand-in with the real script's contract
 * await Deno.writeTextFile(script, `#!/bin/sh\necho "$1 $XENBUS_PATH" > ${dir}/ran\n`);
 * await Deno.chmod(script, 0o755);
 * const disk = vbd({ domid: 1, vdev: "xvda", target: "/dev/vg0/a", script });
 * await addDevice(xs, disk);
 * const result = await runHotplug(xs, disk, "add");
 * assert.equal(result.commands[0]?.env.XENBUS_PATH, "backend/vbd/1/51712");
 * assert.equal(await Deno.readTextFile(`${dir}/ran`), "add backend/vbd/1/51712\n");
 * ```
 */
export async function runHotplug(
  store: XenstoreOps,
  device: DeviceRef | DeviceRecord,
  action: HotplugAction,
  options: HotplugOptions = {},
): Promise<HotplugResult> {
  const record = isRecord(device) ? device : await readDeviceRecord(store, device);
  if (record === undefined) {
    throw new DeviceNotFoundError(`/libxl/${device.domid}/device/${device.kind}/${device.devid}`);
  }
  const none: HotplugResult = { commands: [], output: "", status: undefined, error: undefined };
  if (record.backendPath === undefined) return none;
  if (record.backendDomid !== (options.toolstackDomid ?? 0)) return none;
  let commands: HotplugCommand[];
  try {
    commands = await hotplugCommands(store, record, action);
  } catch (cause) {
    // libxl logs "unable to read script" and, on removal, carries on
    if (action === "add" || !(cause instanceof DeviceNotFoundError)) throw cause;
    const error = new HotplugError("(none)", "remove", "no script node", {
      backendPath: record.backendPath,
      output: "",
    }, { cause });
    return { ...none, error };
  }
  if (commands.length === 0) return none;
  let output = "";
  let error: HotplugError | undefined;
  for (const command of commands) {
    const ran = await runOne(command, record.backendPath, store, options);
    output += ran.output;
    if (ran.error !== undefined) {
      error = ran.error;
      if (action === "add") throw error;
    }
  }
  const status = await store.tryRead(`${record.backendPath}/hotplug-status`);
  if (action === "add" && status === "error") {
    const script = commands[0]?.script ?? "";
    throw new HotplugError(script, "add", "hotplug-status=error", {
      backendPath: record.backendPath,
      hotplugError: await store.tryRead(`${record.backendPath}/hotplug-error`),
      output,
    });
  }
  return { commands, output, status, error };
}
