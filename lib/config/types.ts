/**
 * The types of a domain script's config, as editors complete them. `schema.ts` holds the
 * zod schema that checks them at run time (and is checked against these at compile time).
 *
 * @module
 */

/** Memory: KiB as a number (libxl's `*_memkb`), or a size with a binary unit, `"512M"`, `"2G"`. */
export type Memory = number | string;

/** A disk as an object: the fields of xl's key=value disk spec. */
export interface DiskObjectConfig {
  /** The image or device (`""` only for an empty cdrom drive). */
  target: string;
  /** The guest's name for it: `xvda`, `hdc`, `sdb1`, `d0p1`. */
  vdev: string;
  /** The image format. @default {"raw"} */
  format?: "raw" | "qcow" | "qcow2" | "vhd" | "qed" | "empty";
  /** `r`/`ro` read-only, `w`/`rw` writable. @default {"w" ("r" for a cdrom)} */
  access?: "r" | "ro" | "w" | "rw";
  /** A disk or a cdrom drive. @default {"disk"} */
  devtype?: "disk" | "cdrom";
  /** Ask for a backend. @default {chosen from format and target as libxl does (raw: phy, else qdisk)} */
  backendtype?: "phy" | "qdisk" | "tap";
  /** The hotplug script. @default {"block"} */
  script?: string;
  /** `direct-io-safe`. @default {false} */
  directIoSafe?: boolean;
  /** `discard-enable`. @default {true when writable} */
  discardEnable?: boolean;
  /** The frontend's `trusted` flag. @default {true} */
  trusted?: boolean;
  /** The domain running the backend, by name. @default {the domain's backend, else dom0} */
  backend?: string;
}

/** A disk: xl's disk spec string (`"phy:/dev/vg0/web,xvda,w"`) or an object. */
export type DiskConfig = string | DiskObjectConfig;

/** A network interface (xl's `vif` keys). */
export interface NicConfig {
  /** The bridge. @default {"xenbr0"} */
  bridge?: string;
  /** The MAC address. @default {a random 00:16:3e:xx:xx:xx, kept across applies} */
  mac?: string;
  /** A rate limit in xl's syntax, `"10Mb/s"`, `"1GB/s@20ms"`. @default {none} */
  rate?: string;
  /** The hotplug script. @default {"vif-bridge"} */
  script?: string;
  /** Addresses handed to the script. @default {none} */
  ip?: string;
  /** The backend interface's name. @default {vif<domid>.<devid>} */
  vifname?: string;
  /** `gatewaydev`. @default {none} */
  gatewaydev?: string;
  /** The MTU. @default {1500} */
  mtu?: number;
  /** `vlan`. @default {none} */
  vlan?: string;
  /** `vif` or `vif_ioemu`. @default {"vif"} */
  type?: "vif" | "vif_ioemu";
  /** The frontend's `trusted` flag. @default {true} */
  trusted?: boolean;
  /** The device id. @default {its index in nics} */
  devid?: number;
  /** The domain running the backend, by name (a driver domain). @default {the domain's backend, else dom0} */
  backend?: string;
}

/** A secondary console or channel (console 0 is always made, as by xl). */
export interface ConsoleConfig {
  /** Channel name. @default {none} */
  name?: string;
  /** Channel connection (`pty`, `socket`). @default {none} */
  connection?: string;
  /** Channel socket path. @default {none} */
  path?: string;
  /** `output`. @default {"pty"} */
  output?: string;
  /** Which daemon serves it. @default {"xenconsoled"} */
  consback?: "xenconsoled" | "ioemu";
  /** The domain running the backend, by name. @default {the domain's backend, else dom0} */
  backend?: string;
}

/** A virtual keyboard and pointer. */
export interface VkbdConfig {
  /** QEMU's backend (`vkbd`) or Linux's (`vinput`). @default {"qemu"} */
  backendType?: "qemu" | "linux";
  /** `unique-id`. @default {none} */
  uniqueId?: string;
  /** `feature-disable-keyboard`. @default {false} */
  featureDisableKeyboard?: boolean;
  /** `feature-disable-pointer`. @default {false} */
  featureDisablePointer?: boolean;
  /** `feature-abs-pointer`. @default {false} */
  featureAbsPointer?: boolean;
  /** `feature-raw-pointer`. @default {false} */
  featureRawPointer?: boolean;
  /** `width`, written when non-zero. @default {0} */
  width?: number;
  /** `height`, written when non-zero. @default {0} */
  height?: number;
  /** The domain running the backend, by name. @default {the domain's backend, else dom0} */
  backend?: string;
}

/** A framebuffer. */
export interface VfbConfig {
  /** Serve it over VNC. @default {true} */
  vnc?: boolean;
  /** The VNC listen address. @default {"127.0.0.1"} */
  vncListen?: string;
  /** The VNC password. @default {none} */
  vncPasswd?: string;
  /** The VNC display. @default {0} */
  vncDisplay?: number;
  /** Pick a free display. @default {true} */
  vncUnused?: boolean;
  /** Show it in an SDL window. @default {false} */
  sdl?: boolean;
  /** SDL with OpenGL. @default {false} */
  opengl?: boolean;
  /** The domain running the backend, by name. @default {the domain's backend, else dom0} */
  backend?: string;
}

/** A 9pfs share. */
export interface P9Config {
  /** The mount tag the guest sees. */
  tag: string;
  /** The shared directory in the backend domain. */
  path: string;
  /** `security_model`. @default {"none"} */
  securityModel?: string;
  /** QEMU's backend or xen-9pfsd. @default {"qemu"} */
  type?: "qemu" | "xen_9pfsd";
  /** The domain running the backend, by name. @default {the domain's backend, else dom0} */
  backend?: string;
}

/** A vTPM. */
export interface VtpmConfig {
  /** The vTPM's uuid. */
  uuid: string;
  /** The domain running the backend (the vTPM domain), by name. @default {the domain's backend, else dom0} */
  backend?: string;
}

/** A USB controller. */
export interface VusbConfig {
  /** PV, QEMU's PV backend, or emulated. @default {"pv"} */
  type?: "pv" | "qusb" | "devicemodel";
  /** USB version. @default {2} */
  version?: 1 | 2 | 3;
  /** Number of ports. @default {8} */
  ports?: number;
  /** The domain running the backend, by name. @default {the domain's backend, else dom0} */
  backend?: string;
}

/** A passed-through PCI function: `"0000:03:00.0"` or an object. */
export type PciConfig = string | {
  /** Its address, `dddd:bb:dd.f`. */
  bdf: string;
  /** Guest slot/function. @default {0} */
  vdevfn?: number;
  /** `name-N`. @default {none} */
  name?: string;
  /** Translate MSI to INTx where needed. @default {true} */
  msitranslate?: boolean;
  /** Let the guest manage the power state. @default {false} */
  powerMgmt?: boolean;
  /** Let the guest write all config space. @default {false} */
  permissive?: boolean;
  /** Reserved memory region conflicts policy. @default {"strict"} */
  rdmPolicy?: "strict" | "relaxed";
};

/** One domain. Every field but `name` has the default `xl` would use. */
export interface DomainConfig {
  /** The domain's name, unique on the host. */
  name: string;
  /** The uuid. @default {a random uuid, kept across applies} */
  uuid?: string;
  /** The domain type. @default {"pv"} */
  type?: "pv" | "pvh" | "hvm";
  /** The memory target. @default {32M (libxl's default)} */
  memory?: Memory;
  /** The static maximum. @default {memory} */
  maxmem?: Memory;
  /** vCPUs online at start. @default {1} */
  vcpus?: number;
  /** vCPUs the domain has. @default {vcpus} */
  maxvcpus?: number;
  /** PV/PVH kernel image. @default {none} */
  kernel?: string;
  /** Initial ramdisk. @default {none} */
  ramdisk?: string;
  /** Kernel command line. @default {none} */
  cmdline?: string;
  /** A fixed domain id. @default {the hypervisor's choice} */
  domid?: number;
  /** The domain running the backends of all its devices, by name (a driver domain). @default {dom0} */
  backend?: string;
  /** This domain runs backends for others (xl's `driver_domain=1`). @default {false} */
  driverDomain?: boolean;
  /** Disks. @default {[]} */
  disks?: DiskConfig[];
  /** Network interfaces. @default {[]} */
  nics?: NicConfig[];
  /** Secondary consoles and channels. @default {[]} */
  consoles?: ConsoleConfig[];
  /** Virtual keyboards. @default {[]} */
  vkbds?: VkbdConfig[];
  /** Framebuffers. @default {[]} */
  vfbs?: VfbConfig[];
  /** 9pfs shares. @default {[]} */
  p9s?: P9Config[];
  /** vTPMs. @default {[]} */
  vtpms?: VtpmConfig[];
  /** USB controllers. @default {[]} */
  vusbs?: VusbConfig[];
  /** Passed-through PCI functions. @default {[]} */
  pci?: PciConfig[];
}

/** A whole config: the domains a script declares. */
export interface Config {
  /** The domains. */
  domains: DomainConfig[];
}
