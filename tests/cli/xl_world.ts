/**
 * A deterministic world for the xl command tests: dom0 named, domains made through the
 * library with fixed uuids and start times, a simulated backend driver, and `dxl` run as a
 * subprocess against the test server.
 *
 * @module
 */

import { connect, type XenstoreClient } from "../../lib/client/mod.ts";
import { makeDomain, type MakeDomainOptions } from "../../lib/libxl/domain.ts";
import { SimulatedBackend } from "../../lib/libxl/sim_backend.ts";
import { formatTree } from "../../lib/libxl/tree.ts";
import { XenbusState } from "../../lib/libxl/xenbus_state.ts";
import { waitForXenbusState } from "../../lib/libxl/xenbus_wait.ts";
import { listDevices } from "../../lib/libxl/device_list.ts";
import type { TestServer } from "../_helpers/servers.ts";
import { type TestHypervisor, testHypervisor } from "../libxl/_helpers.ts";
import { runDxl, type RunResult } from "./_run.ts";
import { fromFileUrl } from "../_helpers/paths.ts";

/** Where the xl commands' golden outputs live. */
export const XL_GOLDEN = fromFileUrl(new URL("../testdata/cli/xl/", import.meta.url));

/** A test server with a connection, a hypervisor and a backend driver. */
export interface XlWorld extends AsyncDisposable {
  xs: XenstoreClient;
  hv: TestHypervisor;
  server: TestServer;
  /** Runs `dxl --xenstore <server> --hypervisor simulated ...args`. */
  dxl(...args: string[]): Promise<RunResult>;
  /** Makes domain `name` (the n-th gets uuid ...000n and 256 MiB, 2 vcpus; `more` overrides). */
  domain(name: string, more?: Partial<MakeDomainOptions>): Promise<number>;
  /** Waits until every recorded backend of `domid` with a driver is Connected. */
  settled(domid: number): Promise<void>;
  /** `/local`, `/libxl` and `/vm` as `xenstore-ls -f -p` lines. */
  tree(): Promise<string>;
}

/** Builds the world on `server`; `home` is the state dir for `dxl` runs. */
export async function xlWorld(server: TestServer, home: string): Promise<XlWorld> {
  const xs = await connect({ path: server.socket });
  await xs.write("/local/domain/0/name", "Domain-0");
  await xs.write("/local/domain/0/domid", "0");
  const hv = testHypervisor(server, xs);
  const backend = await SimulatedBackend.start(xs, { kinds: ["vbd", "qdisk", "vif"] });
  let made = 0;
  return {
    xs,
    hv,
    server,
    dxl: (...args) =>
      runDxl(["--xenstore", server.socket, "--hypervisor", "simulated", ...args], {
        stateHome: home,
      }),
    async domain(name, more = {}) {
      made++;
      const { domid } = await makeDomain(xs, {
        hypervisor: hv.hypervisor,
        name,
        maxMemKb: 262144,
        vcpus: 2,
        uuid: `6e1a7b52-3c4d-4e5f-8a9b-${String(made).padStart(12, "0")}`,
        kernel: "/srv/xen/vmlinuz",
        now: () => 1795611510820,
        ...more,
      });
      return domid;
    },
    async settled(domid) {
      for (const d of await listDevices(xs, domid)) {
        if (d.backendPath === undefined || d.kind === "console") continue;
        await waitForXenbusState(xs, `${d.backendPath}/state`, {
          state: XenbusState.Connected,
          timeoutMs: 5000,
        });
      }
    },
    async tree() {
      return (await formatTree(xs, "/local")) + (await formatTree(xs, "/libxl")) +
        (await formatTree(xs, "/vm"));
    },
    async [Symbol.asyncDispose]() {
      await backend[Symbol.asyncDispose]();
      await xs.close();
    },
  };
}
