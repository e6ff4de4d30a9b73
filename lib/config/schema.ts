/**
 * The shape of a domain script's config, as a zod 4 schema (the single source of the types
 * editors complete and of the JSON Schema other editors read). Every field but a domain's
 * `name` has a default, the one `xl` would use (libxl's `libxl__domain_build_info_setdefault`
 * and xl.cfg(5)).
 *
 * @module
 */

import { z } from "zod";
import type {
  Config,
  ConsoleConfig,
  DiskConfig,
  DomainConfig,
  NicConfig,
  P9Config,
  PciConfig,
  VfbConfig,
  VkbdConfig,
  VtpmConfig,
  VusbConfig,
} from "./types.ts";

/**
 * Memory: a plain number is KiB (as libxl's `*_memkb`); a string takes a unit, `"512M"`,
 * `"2G"`, `"1048576K"`, `"1T"` (binary: 1M = 1024 KiB).
 */
export const MemorySchema = z.union([z.number(), z.string()]).describe(
  'KiB as a number, or a size with a unit: "512M", "2G", "65536K", "1T" (binary units)',
);

/** A device's backend domain by name (a driver domain); the default is dom0. */
const backend = z.string().describe("the domain running the backend, by name @default dom0");

/** A disk as an object; the same fields as xl's key=value disk spec. */
export const DiskObjectSchema = z.strictObject({
  target: z.string().describe('the image or device ("" only for an empty cdrom)'),
  vdev: z.string().describe("the guest's name for it: xvda, hdc, sdb1, d0p1"),
  format: z.enum(["raw", "qcow", "qcow2", "vhd", "qed", "empty"]).optional()
    .describe('image format @default "raw"'),
  access: z.enum(["r", "ro", "w", "rw"]).optional()
    .describe('"r" read-only or "w" writable @default "w" ("r" for a cdrom)'),
  devtype: z.enum(["disk", "cdrom"]).optional().describe('@default "disk"'),
  backendtype: z.enum(["phy", "qdisk", "tap"]).optional()
    .describe("@default chosen from format and target as libxl does"),
  script: z.string().optional().describe("hotplug script @default block"),
  directIoSafe: z.boolean().optional().describe("@default false"),
  discardEnable: z.boolean().optional().describe("@default true when writable"),
  trusted: z.boolean().optional().describe("@default true"),
  backend: backend.optional(),
});

/** A disk: xl's disk spec string (`"phy:/dev/vg0/web,xvda,w"`) or an object. */
export const DiskSchema = z.union([z.string(), DiskObjectSchema]);

/** A network interface (xl's `vif` keys). */
export const NicSchema = z.strictObject({
  bridge: z.string().optional().describe('@default "xenbr0"'),
  mac: z.string().optional().describe("@default a random 00:16:3e:xx:xx:xx, kept across applies"),
  rate: z.string().optional().describe('xl rate syntax, "10Mb/s" or "1GB/s@20ms" @default none'),
  script: z.string().optional().describe('@default "vif-bridge"'),
  ip: z.string().optional(),
  vifname: z.string().optional(),
  gatewaydev: z.string().optional(),
  mtu: z.number().optional().describe("@default 1500"),
  vlan: z.string().optional(),
  type: z.enum(["vif", "vif_ioemu"]).optional().describe('@default "vif"'),
  trusted: z.boolean().optional().describe("@default true"),
  devid: z.number().optional().describe("@default its index in nics"),
  backend: backend.optional(),
});

/** A secondary console or channel (console 0 is always made, as by xl). */
export const ConsoleSchema = z.strictObject({
  name: z.string().optional().describe("channel name"),
  connection: z.string().optional().describe("channel connection (pty, socket)"),
  path: z.string().optional().describe("channel socket path"),
  output: z.string().optional().describe('@default "pty"'),
  consback: z.enum(["xenconsoled", "ioemu"]).optional().describe('@default "xenconsoled"'),
  backend: backend.optional(),
});

/** A virtual keyboard/pointer. */
export const VkbdSchema = z.strictObject({
  backendType: z.enum(["qemu", "linux"]).optional().describe('@default "qemu"'),
  uniqueId: z.string().optional(),
  featureDisableKeyboard: z.boolean().optional(),
  featureDisablePointer: z.boolean().optional(),
  featureAbsPointer: z.boolean().optional(),
  featureRawPointer: z.boolean().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
  backend: backend.optional(),
});

/** A framebuffer. */
export const VfbSchema = z.strictObject({
  vnc: z.boolean().optional().describe("@default true"),
  vncListen: z.string().optional().describe('@default "127.0.0.1"'),
  vncPasswd: z.string().optional(),
  vncDisplay: z.number().optional().describe("@default 0"),
  vncUnused: z.boolean().optional().describe("@default true"),
  sdl: z.boolean().optional().describe("@default false"),
  opengl: z.boolean().optional().describe("@default false"),
  backend: backend.optional(),
});

/** A 9pfs share. */
export const P9Schema = z.strictObject({
  tag: z.string(),
  path: z.string(),
  securityModel: z.string().optional().describe('@default "none"'),
  type: z.enum(["qemu", "xen_9pfsd"]).optional().describe('@default "qemu"'),
  backend: backend.optional(),
});

/** A vTPM. */
export const VtpmSchema = z.strictObject({
  uuid: z.string().describe("the vTPM's uuid"),
  backend: backend.optional(),
});

/** A USB controller. */
export const VusbSchema = z.strictObject({
  type: z.enum(["pv", "qusb", "devicemodel"]).optional().describe('@default "pv"'),
  version: z.union([z.literal(1), z.literal(2), z.literal(3)]).optional()
    .describe("@default 2"),
  ports: z.number().optional().describe("@default 8"),
  backend: backend.optional(),
});

/** A passed-through PCI function: `"0000:03:00.0"` or an object. */
export const PciSchema = z.union([
  z.string(),
  z.strictObject({
    bdf: z.string().describe("dddd:bb:dd.f"),
    vdevfn: z.number().optional(),
    name: z.string().optional(),
    msitranslate: z.boolean().optional().describe("@default true"),
    powerMgmt: z.boolean().optional().describe("@default false"),
    permissive: z.boolean().optional().describe("@default false"),
    rdmPolicy: z.enum(["strict", "relaxed"]).optional().describe('@default "strict"'),
  }),
]);

/** One domain. */
export const DomainSchema = z.strictObject({
  name: z.string().describe("the domain's name, unique on the host (required)"),
  uuid: z.string().optional().describe("@default a random uuid, kept across applies"),
  type: z.enum(["pv", "pvh", "hvm"]).optional().describe('@default "pv" (as xl)'),
  memory: MemorySchema.optional().describe("the memory target @default 32M (libxl's default)"),
  maxmem: MemorySchema.optional().describe("static maximum @default memory"),
  vcpus: z.number().optional().describe("vCPUs online at start @default 1"),
  maxvcpus: z.number().optional().describe("vCPUs the domain has @default vcpus"),
  kernel: z.string().optional().describe("PV/PVH kernel image @default none"),
  ramdisk: z.string().optional().describe("@default none"),
  cmdline: z.string().optional().describe("@default none"),
  domid: z.number().optional().describe("a fixed domain id @default the hypervisor's choice"),
  backend: backend.optional().describe(
    "the domain running the backends of every device of this domain @default dom0",
  ),
  driverDomain: z.boolean().optional().describe(
    "this domain runs backends for others (xl's driver_domain=1) @default false",
  ),
  disks: z.array(DiskSchema).optional().describe("@default []"),
  nics: z.array(NicSchema).optional().describe("@default []"),
  consoles: z.array(ConsoleSchema).optional().describe(
    "secondary consoles and channels (console 0 is always there) @default []",
  ),
  vkbds: z.array(VkbdSchema).optional().describe("@default []"),
  vfbs: z.array(VfbSchema).optional().describe("@default []"),
  p9s: z.array(P9Schema).optional().describe("9pfs shares @default []"),
  vtpms: z.array(VtpmSchema).optional().describe("@default []"),
  vusbs: z.array(VusbSchema).optional().describe("USB controllers @default []"),
  pci: z.array(PciSchema).optional().describe("passed-through PCI functions @default []"),
});

/** A whole config: the domains a script declares. */
export const ConfigSchema = z.strictObject({
  domains: z.array(DomainSchema).describe("the domains this script declares"),
});

// The schema accepts every value of the declared types (checked at compile time).
type Accepts<S extends z.ZodType, T> = T extends z.input<S> ? true : never;
const _accepts: [
  Accepts<typeof ConfigSchema, Config>,
  Accepts<typeof DomainSchema, DomainConfig>,
  Accepts<typeof DiskSchema, DiskConfig>,
  Accepts<typeof NicSchema, NicConfig>,
  Accepts<typeof ConsoleSchema, ConsoleConfig>,
  Accepts<typeof VkbdSchema, VkbdConfig>,
  Accepts<typeof VfbSchema, VfbConfig>,
  Accepts<typeof P9Schema, P9Config>,
  Accepts<typeof VtpmSchema, VtpmConfig>,
  Accepts<typeof VusbSchema, VusbConfig>,
  Accepts<typeof PciSchema, PciConfig>,
] = [true, true, true, true, true, true, true, true, true, true, true];
void _accepts;

/**
 * The JSON Schema (draft 2020-12) of a config, for editors that do not read TypeScript.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configJsonSchema } from "./schema.ts";
 * const schema = configJsonSchema();
 * assert.deepEqual(schema.required, ["domains"]);
 * ```
 */
export function configJsonSchema(): Record<string, unknown> & { required?: string[] } {
  return z.toJSONSchema(ConfigSchema, { io: "input" }) as Record<string, unknown> & {
    required?: string[];
  };
}
