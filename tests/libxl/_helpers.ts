/**
 * Helpers for the libxl tests: the expected layout of a device (pure), fixtures, a
 * recording wrapper that logs every request our code sends, and a hypervisor for each test
 * server.
 *
 * @module
 */

import type { Transaction, TransactionOptions, XenstoreOps } from "../../lib/client/types.ts";
import type { Permission } from "../../lib/protocol/perms.ts";
import { formatPermissions } from "../../lib/protocol/perms.ts";
import type { DeviceSpec } from "../../lib/libxl/device.ts";
import { isLibxlOnly } from "../../lib/libxl/device.ts";
import { SimulatedHypervisor } from "../../lib/libxl/hypervisor.ts";
import { vbd } from "../../lib/libxl/devices/vbd.ts";
import { vif } from "../../lib/libxl/devices/vif.ts";
import { backendPath, frontendPath, libxlDevicePath } from "../../lib/libxl/paths.ts";
import { backendPerms, frontendPerms, noperm, roFrontendPerms } from "../../lib/libxl/perms.ts";
import type { LibxlStore } from "../../lib/libxl/store.ts";
import { refxsCtl, type TestServer } from "../_helpers/servers.ts";
import { fromFileUrl } from "../_helpers/paths.ts";

/** Reads `tests/testdata/libxl/<name>`. */
export function fixture(name: string): Promise<string> {
  return Deno.readTextFile(fromFileUrl(new URL(`../testdata/libxl/${name}`, import.meta.url)));
}

/** Permission to read the fixtures, for otherwise pure tests. */
export const FIXTURE_READ: { permissions: Deno.PermissionOptionsObject } = {
  permissions: { read: [fromFileUrl(new URL("../testdata/libxl/", import.meta.url))] },
};

/**
 * The lines `xenstore-ls -f -p` prints for a freshly added device (frontend, backend,
 * `/libxl` record), computed from the spec alone: the layout libxl's generic add produces,
 * including parents created implicitly (with the permissions they inherit).
 */
export function expectedLayout(spec: DeviceSpec): string {
  const lines: string[] = [];
  const add = (path: string, value: string, perms: Permission[]) =>
    lines.push(`${path} = "${value}"   (${formatPermissions(perms)})\n`);
  const dir = (base: string, inherited: Permission[]) => {
    const seen = new Set<string>();
    return (key: string, value: string, perms: Permission[]) => {
      const parts = key.split("/");
      for (let i = 1; i < parts.length; i++) {
        const parent = parts.slice(0, i).join("/");
        if (!seen.has(parent)) {
          seen.add(parent);
          add(`${base}/${parent}`, "", inherited);
        }
      }
      if (!seen.has(key)) {
        seen.add(key);
        add(`${base}/${key}`, value, perms);
      }
    };
  };
  const fe = frontendPath(spec);
  const be = backendPath(spec);
  const lx = libxlDevicePath(spec);
  const fePerms = frontendPerms(spec.domid, spec.backendDomid);
  const roPerms = roFrontendPerms(spec.domid, spec.backendDomid);
  if (spec.front.length > 0 || spec.roFront.length > 0) {
    const own = (spec.kind === "console" && spec.devid === 0) || spec.kind === "vuart";
    const dirPerms = own ? roPerms : fePerms;
    add(fe, "", dirPerms);
    const put = dir(fe, dirPerms);
    put("backend", be, dirPerms);
    for (const [k, v] of spec.front) put(k, v, fePerms);
    for (const [k, v] of spec.roFront) put(k, v, roPerms);
  }
  if (!isLibxlOnly(spec)) {
    const bePerms = backendPerms(spec.domid, spec.backendDomid);
    add(be, "", bePerms);
    const put = dir(be, bePerms);
    put("frontend", fe, bePerms);
    for (const [k, v] of spec.back) put(k, v, bePerms);
  }
  add(lx, "", noperm());
  const put = dir(lx, noperm());
  if (!isLibxlOnly(spec)) {
    put("frontend", fe, noperm());
    put("backend", be, noperm());
  }
  for (const [k, v] of spec.back) put(k, v, noperm());
  return lines.join("");
}

/** A device `xl` added in the golden captures: its fixture name, builder and add trace. */
export interface GoldenDevice {
  /** `<name>.added.tree` / `<name>.connected.tree` in tests/testdata/libxl. */
  name: string;
  /** Builds the device as the capture's `xl` command described it (guest domain 1). */
  build: () => DeviceSpec;
  /** `<trace>.add.trace`, when the capture has the add transaction. */
  trace: string | undefined;
}

/** Every device of the golden captures except console 0 (which `makeDomain` adds). */
export const GOLDEN_DEVICES: GoldenDevice[] = ([
  ["vbd-phy-xvdb", () => vbd({ domid: 1, vdev: "xvdb", target: "/dev/loop0" }), "block-attach-phy"],
  [
    "vbd-phy-ro-xvdc",
    () => vbd({ domid: 1, vdev: "xvdc", target: "/dev/loop1", readwrite: false }),
    undefined,
  ],
  ["vbd-file-xvdd", () => vbd({ domid: 1, vdev: "xvdd", target: "/srv/xen/disk.img" }), undefined],
  [
    "vbd-qdisk-raw-xvde",
    () =>
      vbd({
        domid: 1,
        vdev: "xvde",
        target: "/srv/xen/disk.img",
        backend: "qdisk",
        readwrite: false,
      }),
    undefined,
  ],
  [
    "vbd-qdisk-qcow2-xvdf",
    () =>
      vbd({
        domid: 1,
        vdev: "xvdf",
        target: "/srv/xen/disk.qcow2",
        backend: "qdisk",
        format: "qcow2",
      }),
    undefined,
  ],
  [
    "vbd-cdrom-xvdg",
    () => vbd({ domid: 1, vdev: "xvdg", target: "/dev/loop2", cdrom: true }),
    undefined,
  ],
  ["vif-mac", () => vif({ domid: 1, devid: 0, mac: "00:16:3e:aa:bb:cc" }), "network-attach-mac"],
] as [string, () => DeviceSpec, string | undefined][]).map(([name, build, trace]) => ({
  name,
  build,
  trace,
}));

/** One request our code sent: the transaction id (0 outside) and the trace-style line. */
export interface Logged {
  tx: number;
  line: string;
}

function recordOps<T extends XenstoreOps>(ops: T, tx: () => number, log: Logged[]): XenstoreOps {
  const note = (line: string) => log.push({ tx: tx(), line });
  return {
    read: (p) => (note(`READ | ${p}`), ops.read(p)),
    readBytes: (p) => (note(`READ | ${p}`), ops.readBytes(p)),
    tryRead: (p) => (note(`READ | ${p}`), ops.tryRead(p)),
    write: (p, v) => {
      const text = typeof v === "string" ? v : new TextDecoder().decode(v);
      note(text === "" ? `WRITE | ${p}` : `WRITE | ${p} | ${text}`);
      return ops.write(p, v);
    },
    mkdir: (p) => (note(`MKDIR | ${p}`), ops.mkdir(p)),
    rm: (p) => (note(`RM | ${p}`), ops.rm(p)),
    directory: (p) => (note(`DIRECTORY | ${p}`), ops.directory(p)),
    exists: (p) => (note(`READ | ${p}`), ops.exists(p)),
    getPerms: (p) => (note(`GET_PERMS | ${p}`), ops.getPerms(p)),
    setPerms: (p, perms) => {
      const text = typeof perms === "string"
        ? perms.split(",").join(" | ")
        : formatPermissions(perms).split(",").join(" | ");
      note(`SET_PERMS | ${p} | ${text}`);
      return ops.setPerms(p, perms);
    },
  };
}

/**
 * Wraps a store so that every request our code sends through it is logged in order, with
 * the transaction it belongs to. The requests still go to the real server.
 */
export function recording(store: LibxlStore): { store: LibxlStore; log: Logged[] } {
  const log: Logged[] = [];
  const wrapped: LibxlStore = {
    ...recordOps(store, () => 0, log),
    transaction<T>(fn: (tx: Transaction) => Promise<T>, options?: TransactionOptions) {
      return store.transaction((tx) => {
        log.push({ tx: tx.id, line: "TRANSACTION_START" });
        const ops = recordOps(tx, () => tx.id, log);
        return fn({ ...ops, id: tx.id, commit: () => tx.commit(), abort: () => tx.abort() });
      }, options);
    },
    watch: (path, options) => store.watch(path, options),
  };
  return { store: wrapped, log };
}

/** The lines logged in the last transaction that ran (its last attempt). */
export function lastTransaction(log: Logged[]): string[] {
  const start = log.map((e) => e.line).lastIndexOf("TRANSACTION_START");
  if (start < 0) return [];
  const id = log[start]!.tx;
  return log.slice(start + 1).filter((e) => e.tx === id).map((e) => e.line);
}

/** A hypervisor for tests plus the guest socket of each domain it made. */
export interface TestHypervisor {
  /** Pass this to `makeDomain`. */
  hypervisor: SimulatedHypervisor;
  /** The Unix socket whose connection is guest `domid` (valid once it is introduced). */
  guestSocket(domid: number): string;
}

/**
 * A {@linkcode SimulatedHypervisor} whose domains also exist in the test server's stand-in
 * hypervisor (the real daemons check that a domain exists before INTRODUCE and before
 * permissions name it): `ctl create N` for the real daemons, `guest(N)` for the embedded
 * server (which creates and introduces it; the later INTRODUCE is then a no-op).
 */
export function testHypervisor(
  server: TestServer,
  xs: ConstructorParameters<typeof SimulatedHypervisor>[0],
  firstDomid = 1,
): TestHypervisor {
  const real = server.kind !== "embedded";
  const sockets = new Map<number, string>();
  const hypervisor = new SimulatedHypervisor(xs, {
    firstDomid,
    onCreate: async (domid) => {
      if (real) {
        await server.createDomain(domid);
        sockets.set(domid, `${server.dir}/dom${domid}.sock`);
      } else {
        sockets.set(domid, await server.guest(domid));
      }
    },
    onDestroy: async (domid) => {
      if (real) await refxsCtl(server.dir, `destroy ${domid}`);
    },
  });
  return {
    hypervisor,
    guestSocket(domid) {
      const path = sockets.get(domid);
      if (path === undefined) throw new Error(`domain ${domid} was not made by this hypervisor`);
      return path;
    },
  };
}

/** A delay that never fires by itself: the test fires it (no sleeping for timing). */
export function manualTimer(): {
  delay: (ms: number, signal: AbortSignal) => Promise<void>;
  fire(): void;
  readonly waiting: number;
} {
  const pending: (() => void)[] = [];
  return {
    delay: (_ms: number, signal: AbortSignal) =>
      new Promise<void>((resolve) => {
        pending.push(resolve);
        signal.addEventListener("abort", () => resolve(), { once: true });
      }),
    fire() {
      for (const resolve of pending.splice(0)) resolve();
    },
    get waiting() {
      return pending.length;
    },
  };
}

/** Polls `cond` (1 ms apart, 2000 times) for a state another party reaches. */
export async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`gave up waiting for ${what}`);
}
