/**
 * xl's disk spec strings (`phy:/dev/vg0/web,xvda,w`, `vdev=hdc,devtype=cdrom,target=/a.iso`)
 * parsed as xl parses them (`tools/libs/util/libxlu_disk_l.l` and `libxlu_disk.c`), with the
 * backend then chosen as libxl chooses it (`libxl__device_disk_setdefault`,
 * `libxl__device_disk_set_backend` and `disk_try_backend` in `libxl_disk.c` /
 * `libxl_device.c`, Xen 4.17). The result is the options of {@linkcode vbd} minus `domid`.
 *
 * @module
 */

import type { VbdOptions } from "./devices/vbd.ts";
import { vbd } from "./devices/vbd.ts";
import { DeviceConfigError, DiskSpecError } from "./errors.ts";
import type { DomainType } from "./hypervisor.ts";
import { checkDomid } from "./paths.ts";

/** libxl's disk formats (`libxl_disk_format`), as the spec names them. */
type Format = "raw" | "qcow" | "qcow2" | "vhd" | "qed" | "empty";
/** libxl's disk backends (`libxl_disk_backend`). */
type Backend = "phy" | "tap" | "qdisk" | "standalone";

/** What `stat()` says about a disk target: libxl's phy check asks for a block device or file. */
export type DiskTargetKind = "block" | "file" | "other";

/** A disk as an xl disk spec describes it: {@linkcode vbd}'s options without `domid`. */
export interface DiskSpec extends Omit<VbdOptions, "domid"> {
  /** The guest's name for the disk. */
  vdev: string;
  /** The image or device; `""` for an empty cdrom drive. */
  target: string;
  /** The backend libxl would choose (`phy` → kind `vbd`, `qdisk` → kind `qdisk`). */
  backend: "phy" | "tap" | "qdisk";
  /** The image format (`empty` for a cdrom drive without media). */
  format: NonNullable<VbdOptions["format"]>;
  /** `mode=w`. */
  readwrite: boolean;
  /** `device-type=cdrom`. */
  cdrom: boolean;
  /** `removable` (set for a cdrom). */
  removable: boolean;
  /** `discard-enable` (libxl's default: on when writable). */
  discardEnable: boolean;
  /** `direct-io-safe`. */
  directIoSafe: boolean;
  /** The frontend's `trusted` flag. */
  trusted: boolean;
  /**
   * `backend=<name>` named the backend domain by name: resolve it (e.g. with
   * `resolveDomain`) and pass the id as `backendDomid`. A numeric `backend=` is put in
   * `backendDomid` directly.
   */
  backendName?: string;
}

/** Options of {@linkcode parseDiskSpec}. */
export interface ParseDiskSpecOptions {
  /**
   * The guest's type. `hvm`: a cdrom gets the qdisk backend (libxl forces it for guests with
   * a device model) and, like `pvh`, no frontend `protocol` key.
   * @default {"pv"}
   */
  domainType?: DomainType;
  /**
   * What the target is, as libxl's `stat()` of it would say (`undefined`: it does not exist).
   * Consulted only where libxl stats the target (phy considered, backend in dom0, no script,
   * not empty); {@linkcode statDiskTarget} asks this host. Without it, every target is taken
   * to be a block device or a regular file — the phy backend's condition on Linux.
   * @default {() => "block"}
   */
  targetKind?: (path: string) => DiskTargetKind | undefined;
}

interface Parsed {
  pdev: string | undefined;
  vdev: string | undefined;
  format: Format | undefined;
  backend: Backend | undefined;
  specification: "xen" | "virtio" | undefined;
  backendName: string | undefined;
  script: string | undefined;
  cdrom: boolean;
  readwrite: boolean;
  directIoSafe: boolean;
  discard: boolean | undefined;
  colo: boolean;
}

interface Scan {
  spec: string;
  disk: Parsed;
  accessSet: boolean;
  hadDeprPrefix: boolean;
  /** COLO's strings, kept only for xl's "respecified" check. */
  colo: Record<string, string>;
}

/** `xlu__disk_err`: xl reports the first problem with the text it was near. */
function fail(scan: Scan, part: string, problem: string): never {
  throw new DiskSpecError(scan.spec, part, problem);
}

const strip = (text: string, delim: string) => text.endsWith(delim) ? text.slice(0, -1) : text;
const fromEquals = (text: string) => text.slice(text.indexOf("=") + 1);

/** `DSET`: an enum may be given twice only with the same value. */
function dset<K extends "format" | "backend" | "specification">(
  scan: Scan,
  member: K,
  value: NonNullable<Parsed[K]>,
  text: string,
): void {
  const current = scan.disk[member];
  if (current !== undefined && current !== value) fail(scan, text, `${member} respecified`);
  scan.disk[member] = value;
}

/** `savestring`: a string may be given twice only when the first was empty. */
function save(
  scan: Scan,
  member: "pdev" | "vdev" | "script" | "backendName",
  what: string,
  v: string,
) {
  const current = scan.disk[member];
  if (current !== undefined && current !== "") fail(scan, v, `${what} respecified`);
  scan.disk[member] = v;
}

const FORMATS: Record<string, Format> = {
  "": "raw",
  raw: "raw",
  qcow: "qcow",
  qcow2: "qcow2",
  vhd: "vhd",
  empty: "empty",
  qed: "qed",
};

function setFormat(scan: Scan, text: string): void {
  const format = FORMATS[text];
  if (format === undefined) fail(scan, text, "unknown value for format");
  dset(scan, "format", format, text);
}

function setAccess(scan: Scan, text: string): void {
  if (text === "r" || text === "ro") scan.disk.readwrite = false;
  else if (text === "rw" || text === "w" || text === "") scan.disk.readwrite = true;
  else fail(scan, text, "unknown value for access");
}

/** `vdev_and_devtype`: `<vdev>:<devtype>`; false (doing nothing) without a colon. */
function vdevAndDevtype(scan: Scan, text: string): boolean {
  const colon = text.lastIndexOf(":");
  if (colon < 0) return false;
  save(scan, "vdev", "vdev", text.slice(0, colon));
  const type = text.slice(colon + 1);
  if (type === "cdrom") scan.disk.cdrom = true;
  else if (type === "disk") scan.disk.cdrom = false;
  else fail(scan, type, "unknown deprecated type");
  return true;
}

function positional(scan: Scan, raw: string): void {
  const text = strip(raw, ",");
  const d = scan.disk;
  if (d.pdev === undefined) {
    save(scan, "pdev", "target", text);
  } else if (!scan.hadDeprPrefix && d.format === undefined) {
    if (d.pdev === "" && vdevAndDevtype(scan, text)) d.format = "empty";
    else setFormat(scan, text);
  } else if (d.vdev === undefined) {
    if (!vdevAndDevtype(scan, text)) save(scan, "vdev", "vdev", text);
  } else if (!scan.accessSet) {
    scan.accessSet = true;
    setAccess(scan, text);
  } else {
    fail(scan, text, "too many positional parameters");
  }
}

/** One flex rule: the pattern, its trailing context (counted for the longest match), action. */
interface Rule {
  head: RegExp;
  trail?: RegExp;
  act: (scan: Scan, text: string) => void;
}

const ANY = "[^\\n]"; // flex's `.`
const rule = (head: string, act: Rule["act"], trail?: string): Rule => {
  const r: Rule = { head: new RegExp(head, "y"), act };
  if (trail !== undefined) r.trail = new RegExp(trail, "y");
  return r;
};
const keyed = (key: string, act: (scan: Scan, value: string) => void) =>
  rule(`${key}=[^,]*,?`, (scan, t) => act(scan, fromEquals(strip(t, ","))));
const flagRule = (name: string, act: (d: Parsed) => void) =>
  rule(`${name},?`, (scan) => act(scan.disk));
const ignoredPrefix = (name: string) =>
  rule(`${name}:`, (scan) => void (scan.hadDeprPrefix = true), `${ANY}*`);

/** The rules of `libxlu_disk_l.l`, in its order (earlier wins a tie). */
const RULES: Rule[] = [
  rule("[ \\t\\n]+", () => {}, `(?:[^ \\t\\n]${ANY}*)?`),
  keyed("format", setFormat),
  flagRule("cdrom", (d) => void (d.cdrom = true)),
  flagRule("devtype=cdrom", (d) => void (d.cdrom = true)),
  flagRule("devtype=disk", (d) => void (d.cdrom = false)),
  rule("devtype=[^,]*,?", (scan, t) => fail(scan, t, "unknown value for type")),
  keyed("access", setAccess),
  keyed("backend", (scan, v) => save(scan, "backendName", "backend", v)),
  keyed("backendtype", (scan, v) => {
    if (v !== "phy" && v !== "tap" && v !== "qdisk" && v !== "standalone") {
      fail(scan, v, "unknown value for backendtype");
    }
    dset(scan, "backend", v, v);
  }),
  keyed("specification", (scan, v) => {
    if (v !== "xen" && v !== "virtio") fail(scan, v, "unknown value for specification");
    dset(scan, "specification", v, v);
  }),
  keyed("vdev", (scan, v) => save(scan, "vdev", "vdev", v)),
  keyed("script", (scan, v) => save(scan, "script", "script", v)),
  flagRule("direct-io-safe", (d) => void (d.directIoSafe = true)),
  flagRule("discard", (d) => void (d.discard = true)),
  flagRule("no-discard", (d) => void (d.discard = false)),
  flagRule("colo", (d) => void (d.colo = true)),
  flagRule("no-colo", (d) => void (d.colo = false)),
  // COLO's parameters parse as in xl (and only matter with `colo`, which dxl refuses).
  ...["colo-host", "colo-export", "active-disk", "hidden-disk"].map((key) =>
    keyed(key, (scan, v) => {
      if (scan.colo[key]) fail(scan, v, `${key} respecified`);
      scan.colo[key] = v;
    })
  ),
  keyed("colo-port", (scan, v) => {
    const port = /^[ \t\n\v\f\r]*[+-]?[0-9]+/.exec(v); // atoi
    if (port === null || Number(port[0]) === 0) fail(scan, v, "unknown value for colo_port");
  }),
  // libxlu_disk_l.l has `trusted` and `untrusted` here, but the scanner Xen 4.17 ships
  // (libxlu_disk_l.c, generated before they were added) lacks them: real xl 4.17 takes
  // them as positional parameters. We follow the binary.
  rule(`target=${ANY}*`, (scan, t) => save(scan, "pdev", "target", fromEquals(strip(t, ",")))),
  rule("[a-z][-a-z0-9]*=[^,],?", (scan, t) => fail(scan, t, "unknown parameter")),
  rule("(?:raw|qcow2?|vhd):", (scan, t) => {
    scan.hadDeprPrefix = true;
    setFormat(scan, strip(t, ":"));
  }, `${ANY}*`),
  rule("(?:iscsi|e?nbd|drbd):", (scan, t) => {
    scan.hadDeprPrefix = true;
    save(scan, "script", "script", `block-${strip(t, ":")}`);
  }, `${ANY}*`),
  ...["tapdisk", "tap2?", "aio", "ioemu", "file", "phy"].map(ignoredPrefix),
  rule(
    "[a-z][a-z0-9]*:",
    (scan, t) => fail(scan, t, "unknown deprecated disk prefix"),
    `(?:[^a-z0-9\\n]${ANY}*)?`,
  ),
  rule("[^=,]*,|[^=,]+", positional),
  rule(ANY, () => {}), // flex's `.`: enters LEXERR, handled below
];
const LEXERR = RULES.length - 1;

/** Runs the scanner over `spec`: at each point the longest match wins, ties to the first rule. */
function scanSpec(scan: Scan): void {
  const s = scan.spec;
  for (let pos = 0; pos < s.length;) {
    let best = -1;
    let bestLength = 0;
    let headLength = 0;
    for (const [i, r] of RULES.entries()) {
      r.head.lastIndex = pos;
      const m = r.head.exec(s);
      if (m === null) continue;
      let length = m[0].length;
      if (r.trail !== undefined) {
        r.trail.lastIndex = pos + length;
        length += r.trail.exec(s)?.[0].length ?? 0;
      }
      if (length > bestLength) [best, bestLength, headLength] = [i, length, m[0].length];
    }
    if (best < 0 || best === LEXERR) {
      fail(scan, /^[^\n]*/.exec(s.slice(pos))![0] || s.slice(pos), "bad disk syntax");
    }
    RULES[best]!.act(scan, s.slice(pos, pos + headLength));
    pos += headLength;
  }
}

/**
 * `disk_try_backend`: `{ ok }` when libxl can use `backend` for this disk, else `{ why }`
 * with the reason libxl logs.
 */
function tryBackend(
  d: Parsed,
  format: Format,
  backendDomid: number | undefined,
  backend: Backend,
  kind: DiskTargetKind | undefined,
): { ok: Backend } | { why: string } {
  const virtio = d.specification === "virtio";
  if (virtio !== (backend === "standalone")) {
    return { why: `${backend} not compatible with specification ${d.specification ?? "xen"}` };
  }
  switch (backend) {
    case "phy":
      if (format !== "raw") return { why: `phy unsuitable due to format ${format}` };
      if (backendDomid !== 0 || d.script !== undefined) return { ok: backend };
      // libxl__try_phy_backend (Linux): a block device or a regular file.
      if (kind === "other") return { why: "phy unsuitable as phys path not a block device" };
      return { ok: backend };
    case "tap":
      return { why: "tap unsuitable because blktap not available" };
    case "qdisk":
      if (d.script !== undefined) return { why: "qdisk not compatible with script=..." };
      return { ok: backend };
    case "standalone":
      return { why: "standalone (virtio) is not supported by dxl" };
  }
}

const FIELD_PARTS: Record<string, (d: DiskSpec) => string | undefined> = {
  vdev: (d) => d.vdev,
  target: (d) => d.target,
  script: (d) => d.script,
  format: (d) => d.format,
};

/**
 * Parses an xl disk spec the way `xl` does (`xlu_disk_parse`): the positional forms
 * `target,format,vdev,access` and the deprecated `[prefix:]target,vdev[:devtype],access`
 * (`phy:`, `file:`, `tap:aio:` … are ignored, `raw:`/`qcow:`/`qcow2:`/`vhd:` set the
 * format, `iscsi:`/`nbd:`/`enbd:`/`drbd:` the script), `key=value` parameters (`format=`,
 * `vdev=`, `access=`, `devtype=`, `backend=`, `backendtype=`, `script=`, `specification=`,
 * flags `cdrom`, `discard`/`no-discard`, `direct-io-safe`) and
 * `target=` which takes the rest of the string; `,hdc:cdrom,r` is an empty cdrom drive.
 * Then the backend is chosen as libxl does: phy for a raw image on a block device or file
 * (or with a script, or in a driver domain), else qdisk; an HVM guest's cdrom always gets
 * qdisk; `backendtype=` only asks libxl to try that one backend (tap never works in 4.17).
 *
 * Every complaint is a {@linkcode DiskSpecError} naming the part (xl's "near" text). dxl
 * refuses what its builders cannot express: COLO and `specification=virtio`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDiskSpec } from "./disk_spec.ts";
 * const web = parseDiskSpec("phy:/dev/vg0/web,xvda,w");
 * assert.equal(web.backend, "phy");
 * assert.equal(web.target, "/dev/vg0/web");
 * assert.equal(parseDiskSpec("qcow2:/srv/a.qcow2,xvdb,r").backend, "qdisk");
 * assert.equal(parseDiskSpec(",hdc:cdrom,r").format, "empty");
 * ```
 */
export function parseDiskSpec(spec: string, options: ParseDiskSpecOptions = {}): DiskSpec {
  if (typeof spec !== "string") {
    throw new DiskSpecError(String(spec), String(spec), "expected a string");
  }
  const scan: Scan = {
    spec,
    accessSet: false,
    hadDeprPrefix: false,
    colo: {},
    disk: {
      pdev: undefined,
      vdev: undefined,
      format: undefined,
      backend: undefined,
      specification: undefined,
      backendName: undefined,
      script: undefined,
      cdrom: false,
      readwrite: true,
      directIoSafe: false,
      discard: undefined,
      colo: false,
    },
  };
  scanSpec(scan);
  const d = scan.disk;
  // xlu_disk_parse's own defaults and checks.
  let format: Format = d.format ?? "raw";
  const removable = d.cdrom;
  if (d.cdrom) {
    d.readwrite = false;
    if (d.pdev === undefined || d.pdev === "") format = "empty";
  }
  if (d.vdev === undefined) fail(scan, "vdev", "no vdev specified");
  if (d.pdev === undefined && !removable) {
    fail(scan, "target", "no target specified (and device not removable)");
  }
  const target = d.pdev ?? "";
  // libxl__device_disk_setdefault.
  if (d.colo) fail(scan, "colo", "COLO is not supported by dxl");
  if (d.specification === "virtio") {
    fail(scan, "specification=virtio", "virtio disks are not supported by dxl");
  }
  let backendDomid: number | undefined = 0;
  if (d.backendName !== undefined && /^[0-9]*$/.test(d.backendName)) {
    const id = d.backendName === "" ? 0 : Number(d.backendName);
    try {
      backendDomid = checkDomid(id, { what: "backend" });
    } catch (e) {
      throw new DiskSpecError(spec, d.backendName, (e as Error).message, { cause: e });
    }
  } else if (d.backendName !== undefined) {
    backendDomid = undefined; // a named driver domain, resolved by the caller
  }
  const type = options.domainType ?? "pv";
  let backend = d.backend;
  if (d.cdrom && type === "hvm") {
    if (backend !== undefined && backend !== "qdisk") {
      fail(scan, backend, "Backend for CD devices on HVM guests must be Qdisk");
    }
    backend = "qdisk";
  }
  // libxl__device_disk_set_backend.
  if (format === "empty") {
    if (!d.cdrom) fail(scan, d.vdev, "the disk is empty but not a cdrom");
    if (target !== "") fail(scan, target, "the disk is empty but an image has been provided");
  }
  const stats = format !== "empty" && backendDomid === 0 && d.script === undefined &&
    (backend === undefined || backend === "phy" || backend === "standalone");
  let kind: DiskTargetKind | undefined = "block";
  if (stats && options.targetKind !== undefined) {
    kind = options.targetKind(target);
    if (kind === undefined) fail(scan, target, "failed to stat the target");
  }
  const order: Backend[] = backend !== undefined
    ? [backend]
    : ["phy", "qdisk", "tap", "standalone"];
  const whys: string[] = [];
  let chosen: Backend | undefined;
  for (const b of order) {
    const tried = tryBackend(d, format, backendDomid, b, kind);
    if ("ok" in tried) {
      chosen = tried.ok;
      break;
    }
    whys.push(tried.why);
  }
  if (chosen === undefined || chosen === "standalone") {
    const part = backend ?? (d.script !== undefined ? d.script : target);
    fail(scan, part, `no suitable backend for disk ${d.vdev} (${whys.join("; ")})`);
  }
  const out: DiskSpec = {
    vdev: d.vdev,
    target,
    backend: chosen,
    format,
    readwrite: d.readwrite,
    cdrom: d.cdrom,
    removable,
    discardEnable: d.discard ?? d.readwrite,
    directIoSafe: d.directIoSafe,
    trusted: true,
  };
  if (d.script !== undefined) out.script = d.script;
  if (backendDomid !== undefined && backendDomid !== 0) out.backendDomid = backendDomid;
  if (backendDomid === undefined) out.backendName = d.backendName as string;
  if (type !== "pv") out.protocol = false;
  try {
    vbd({ ...out, domid: 1 });
  } catch (e) {
    if (!(e instanceof DeviceConfigError)) throw e;
    const part = FIELD_PARTS[e.field]?.(out) ?? e.field;
    throw new DiskSpecError(spec, part, e.message, { cause: e });
  }
  return out;
}

/**
 * What `stat()` of `path` says on this host, for {@linkcode ParseDiskSpecOptions.targetKind}:
 * `block`, `file`, `other`, or `undefined` when it does not exist. Needs read permission.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { statDiskTarget } from "./disk_spec.ts";
 * assert.equal(statDiskTarget("/nonexistent/disk.img"), undefined);
 * ```
 */
export function statDiskTarget(path: string): DiskTargetKind | undefined {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw e;
  }
  if (info.isBlockDevice) return "block";
  return info.isFile ? "file" : "other";
}
