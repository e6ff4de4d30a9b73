/**
 * `dxl shutdown DOMAIN` and `dxl reboot DOMAIN`: xl's `shutdown` / `reboot` — the request in
 * `~/control/shutdown`, then a wait for the guest to acknowledge it (as libxl waits); `-w`
 * also waits until the domain is gone (xenstored releases it when the hypervisor reports it
 * dead). `reboot -w` is accepted but does not wait for the rebooted domain (xl follows it
 * through its own daemon; the new incarnation is not visible through xenstore alone).
 *
 * @module
 */

import type { XenstoreClient } from "../client/mod.ts";
import { shutdownDomain } from "../libxl/domain_control.ts";
import { examples, type GlobalOptions, type Program, withStore } from "./context.ts";
import { out, toJson } from "./output.ts";
import { parseTimeout, resolveDomainArg } from "./xl_common.ts";

/** Waits (one watch on `@releaseDomain`) until xenstored no longer knows `domid`. */
async function waitGone(xs: XenstoreClient, domid: number, timeoutMs: number): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs);
  const watch = xs.watch("@releaseDomain", { signal });
  try {
    for await (const _event of watch) {
      if (!(await xs.isDomainIntroduced(domid))) return;
    }
  } catch (error) {
    if (signal.aborted) {
      throw new Error(`domain ${domid} did not go away within ${timeoutMs / 1000} s`, {
        cause: error,
      });
    }
    throw error;
  }
  throw new Error(`domain ${domid} did not go away within ${timeoutMs / 1000} s`);
}

function registerRequest(program: Program, name: "shutdown" | "reboot"): void {
  const request = name === "shutdown" ? "poweroff" : "reboot";
  const cmd = program
    .command(name)
    .description(
      `ask a domain to ${name === "shutdown" ? "shut down" : "reboot"} as \`xl ${name}\` does: ` +
        `"${request}" in ~/control/shutdown, then wait for the guest to acknowledge it (its ` +
        "PV drivers clear the node)" +
        (name === "shutdown" ? "; -w also waits until the domain is gone" : ""),
    )
    .argument("<domain>", "domain name or id")
    .option(
      "-w, --wait",
      name === "shutdown"
        ? "wait until the domain is gone (xenstored releases it)"
        : "accepted for xl's sake; the new incarnation cannot be followed through xenstore",
    )
    .option("--timeout <seconds>", "how long to wait for the guest (libxl: 60)", "60")
    .option("--json", "print {domid, request}")
    .action(async (domain, opts, command) => {
      const globals: GlobalOptions = command.optsWithGlobals();
      const timeoutMs = parseTimeout(opts.timeout);
      await withStore(globals, async ({ xs }) => {
        const domid = await resolveDomainArg(xs, domain);
        await shutdownDomain(xs, domid, { request, timeoutMs });
        if (opts.wait && name === "shutdown") await waitGone(xs, domid, timeoutMs);
        if (opts.json) out(toJson({ domid, request }));
      });
    });
  examples(cmd, [`dxl ${name} web`, `dxl ${name} 3 --timeout 10`]);
}

/** Registers `dxl shutdown`. */
export function register(program: Program): void {
  registerRequest(program, "shutdown");
}

/** Registers `dxl reboot`. */
export function registerReboot(program: Program): void {
  registerRequest(program, "reboot");
}
