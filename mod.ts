/**
 * dxl: a Deno/TypeScript toolstack runtime for the Xen hypervisor. A xenstore client that
 * speaks the wire protocol on a Unix socket, an embedded xenstored for machines without Xen,
 * and libxl's path and device API with XSA-175's trust rules built in.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   addDevice, connect, listDevices, makeDomain, SimulatedHypervisor, startXenstored, vbd,
 * } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new SimulatedHypervisor(xs, { xenstored: xsd });
 * const { domid } = await makeDomain(xs, { hypervisor, name: "web", maxMemKb: 262144 });
 * await addDevice(xs, vbd({ domid, vdev: "xvda", target: "/dev/vg/web" }));
 * assert.deepEqual(
 *   (await listDevices(xs, domid)).map((d) => `${d.kind}/${d.devid}`),
 *   ["console/0", "vbd/51712"],
 * );
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

// Wire protocol (pure)
export {
  ConnectionClosedError,
  DOMID_ANY,
  ERRNO_NAMES,
  Feature,
  formatPermission,
  formatPermissions,
  InvalidPathError,
  InvalidPermissionError,
  isSpecialPath,
  joinPath,
  Op,
  opName,
  parentPath,
  parsePermission,
  parsePermissions,
  PayloadTooLargeError,
  perm,
  ProtocolError,
  TransactionConflictError,
  validatePath,
  XenstoreError,
} from "./lib/protocol/mod.ts";
export type { Access, ErrnoName, Permission, ValidatePathOptions } from "./lib/protocol/mod.ts";

// Client
export {
  connect,
  DomainOps,
  NodeOps,
  socketPaths,
  WatchIterator,
  XenstoreClient,
  XenstoreTransaction,
} from "./lib/client/mod.ts";
export type {
  AdminOptions,
  ClientOptions,
  ConnectOptions,
  Payload,
  QuotaOptions,
  ReconnectOptions,
  RequestOptions,
  Transaction,
  TransactionOptions,
  Watch,
  WatchEvent,
  WatchOptions,
  WatchOwner,
  XenstoreOps,
} from "./lib/client/mod.ts";

// Embedded xenstored
export { DEFAULT_QUOTAS, startXenstored } from "./lib/xenstored/mod.ts";
export type {
  QuotaName,
  Quotas,
  StartXenstoredOptions,
  XenstoredHandle,
} from "./lib/xenstored/mod.ts";

// libxl: paths, kinds, permissions, XenBus
export {
  backendPath,
  backendPerms,
  DEVICE_KINDS,
  devidToDiskName,
  diskNameToDevid,
  domainPath,
  frontendPath,
  frontendPerms,
  libxlDevicePath,
  libxlDomainPath,
  noperm,
  parseBackendPath,
  parseDeviceKind,
  parseDiskName,
  parseXenbusState,
  roFrontendPerms,
  roperm,
  rwperm,
  vmPath,
  waitForXenbusState,
  XenbusState,
  xenbusStateName,
} from "./lib/libxl/mod.ts";
// libxl: device builders, devices, domains
export {
  addDevice,
  cleanupDevice,
  destroyDevice,
  destroyDomain,
  DeviceConfigError,
  deviceExists,
  DeviceExistsError,
  DeviceNotFoundError,
  DiskSpecError,
  doctor,
  DomainNameInUseError,
  DomainRenameConflictError,
  findDomain,
  formatRate,
  formatTree,
  listDevices,
  listDomains,
  makeDeviceSpec,
  makeDomain,
  nextDeviceId,
  p9,
  parseDiskSpec,
  parseRate,
  pci,
  pvConsole,
  randomMac,
  RateSpecError,
  removeDevice,
  renameDomain,
  SimulatedBackend,
  SimulatedFrontend,
  SimulatedHypervisor,
  statDiskTarget,
  vbd,
  vdispl,
  vfb,
  vif,
  vkbd,
  vsnd,
  VSND_PCM_FORMATS,
  vtpm,
  vuart,
  vusb,
  waitForBackend,
  XenbusTimeoutError,
} from "./lib/libxl/mod.ts";
export type {
  AddDeviceOptions,
  BackendBehaviour,
  ConsoleOptions,
  CreatedDomain,
  DestroyDomainOptions,
  DestroyDomainResult,
  DeviceAddress,
  DeviceBaseOptions,
  DeviceFactory,
  DeviceKind,
  DeviceRecord,
  DeviceRef,
  DeviceSpec,
  DeviceSpecInput,
  DiskFormat,
  DiskNumber,
  DiskSpec,
  DiskTargetKind,
  DoctorChange,
  DoctorFinding,
  DoctorFindingKind,
  DoctorOptions,
  DoctorReport,
  DoctorSeverity,
  DoctorStore,
  DomainBuildRequest,
  DomainInfo,
  DomainSummary,
  DomainType,
  Entries,
  ForceMode,
  FormatTreeOptions,
  FrontendBehaviour,
  Hypervisor,
  LibxlStore,
  ListDevicesOptions,
  MakeDomainOptions,
  NicRate,
  P9Options,
  ParsedBackendPath,
  ParseDiskSpecOptions,
  PciFunction,
  PciOptions,
  RemoveDeviceOptions,
  RemoveResult,
  RenameDomainOptions,
  RingInfo,
  SimulatedBackendOptions,
  SimulatedDomainTable,
  SimulatedFrontendOptions,
  SimulatedHypervisorOptions,
  Target,
  TransactionalOptions,
  VbdOptions,
  VdisplConnector,
  VdisplOptions,
  VfbOptions,
  VifOptions,
  VkbdOptions,
  VsndOptions,
  VsndParams,
  VsndPcm,
  VsndStream,
  VtpmOptions,
  VuartOptions,
  VusbOptions,
  WaitForStateOptions,
  XenbusTimeoutErrorOptions,
} from "./lib/libxl/mod.ts";
