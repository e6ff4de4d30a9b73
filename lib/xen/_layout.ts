/**
 * Byte offsets and sizes of the Xen 4.17 (x86_64) structures the FFI hypervisor reads and
 * writes. Each number comes from a public header of Debian's `libxen-dev` 4.17; the field
 * it stands for is named beside it. `tests/xen/layout_test.ts` compiles a C program with
 * `offsetof`/`sizeof` against the installed headers and compares every entry.
 *
 * @module
 */

/**
 * `struct xen_domctl_createdomain` (`/usr/include/xen/domctl.h`, with
 * `struct xen_arch_domainconfig` from `/usr/include/xen/arch-x86/xen.h`).
 */
export const CREATEDOMAIN = {
  size: 64, // sizeof(struct xen_domctl_createdomain)
  ssidref: 0, // uint32_t ssidref
  handle: 4, // xen_domain_handle_t handle (uint8_t[16])
  flags: 20, // uint32_t flags (XEN_DOMCTL_CDF_*)
  iommuOpts: 24, // uint32_t iommu_opts
  maxVcpus: 28, // uint32_t max_vcpus
  maxEvtchnPort: 32, // uint32_t max_evtchn_port
  maxGrantFrames: 36, // int32_t max_grant_frames
  maxMaptrackFrames: 40, // int32_t max_maptrack_frames
  grantOpts: 44, // uint32_t grant_opts (XEN_DOMCTL_GRANT_version)
  vmtraceSize: 48, // uint32_t vmtrace_size
  cpupoolId: 52, // uint32_t cpupool_id
  emulationFlags: 56, // arch.emulation_flags (xen_arch_domainconfig, arch-x86/xen.h)
  miscFlags: 60, // arch.misc_flags
} as const;

/**
 * `xc_domaininfo_t` = `struct xen_domctl_getdomaininfo` (`/usr/include/xen/domctl.h`;
 * the typedef is in `/usr/include/xenctrl.h`).
 */
export const DOMAININFO = {
  size: 112, // sizeof(xc_domaininfo_t)
  domain: 0, // domid_t domain
  flags: 4, // uint32_t flags (XEN_DOMINF_*)
  totPages: 8, // uint64_aligned_t tot_pages
  maxPages: 16, // uint64_aligned_t max_pages
  outstandingPages: 24, // uint64_aligned_t outstanding_pages
  shrPages: 32, // uint64_aligned_t shr_pages
  cpuTime: 56, // uint64_aligned_t cpu_time (ns)
  nrOnlineVcpus: 64, // uint32_t nr_online_vcpus
  maxVcpuId: 68, // uint32_t max_vcpu_id
  handle: 76, // xen_domain_handle_t handle
  cpupool: 92, // uint32_t cpupool
} as const;

/** `struct xc_dom_image` (`/usr/include/xenguest.h`, x86_64 layout). */
export const DOM_IMAGE = {
  size: 1952, // sizeof(struct xc_dom_image)
  consolePfn: 384, // xen_pfn_t console_pfn
  xenstorePfn: 392, // xen_pfn_t xenstore_pfn
  pvP2m: 480, // xen_pfn_t *pv_p2m
  totalPages: 504, // xen_pfn_t total_pages
  flags: 560, // unsigned long flags
  consoleEvtchn: 568, // unsigned int console_evtchn
  xenstoreEvtchn: 572, // unsigned int xenstore_evtchn
  consoleDomid: 576, // uint32_t console_domid
  xenstoreDomid: 580, // uint32_t xenstore_domid
  claimEnabled: 604, // int claim_enabled
  containerType: 1712, // enum { XC_DOM_PV_CONTAINER, XC_DOM_HVM_CONTAINER } container_type
  targetPages: 1720, // xen_pfn_t target_pages
  mmioStart: 1728, // xen_paddr_t mmio_start
  mmioSize: 1736, // xen_paddr_t mmio_size
  lowmemEnd: 1744, // xen_paddr_t lowmem_end
  highmemEnd: 1752, // xen_paddr_t highmem_end
  vgaHoleSize: 1760, // xen_pfn_t vga_hole_size
  deviceModel: 1768, // bool device_model
  vuartGfn: 1936, // xen_pfn_t vuart_gfn
  maxVcpus: 1944, // unsigned int max_vcpus
} as const;

/** `xc_physinfo_t` = `struct xen_sysctl_physinfo` (`/usr/include/xen/sysctl.h`). */
export const PHYSINFO = {
  size: 112, // sizeof(xc_physinfo_t)
  capabilities: 28, // uint32_t capabilities (XEN_SYSCTL_PHYSCAP_*)
  freePages: 48, // uint64_aligned_t free_pages
  scrubPages: 56, // uint64_aligned_t scrub_pages
} as const;

/** `xc_cputopo_t` = `struct xen_sysctl_cputopo` (`/usr/include/xen/sysctl.h`). */
export const CPUTOPO = {
  size: 12, // sizeof(xc_cputopo_t)
  node: 8, // uint32_t node (XEN_INVALID_NODE_ID when unknown)
} as const;

/** `xc_meminfo_t` = `struct xen_sysctl_meminfo` (`/usr/include/xen/sysctl.h`). */
export const MEMINFO = {
  size: 16, // sizeof(xc_meminfo_t)
  memfree: 8, // uint64_t memfree (bytes)
} as const;

/** `xc_cpupoolinfo_t` (`/usr/include/xenctrl.h`), as `xc_cpupool_getinfo` returns it. */
export const CPUPOOLINFO = {
  size: 24, // sizeof(xc_cpupoolinfo_t)
  cpupoolId: 0, // uint32_t cpupool_id
  schedId: 4, // uint32_t sched_id (XEN_SCHEDULER_*)
  cpumap: 16, // xc_cpumap_t cpumap (uint8_t *)
} as const;

/** `xc_vcpuinfo_t` = `struct xen_domctl_getvcpuinfo` (`/usr/include/xen/domctl.h`). */
export const VCPUINFO = {
  size: 24, // sizeof(xc_vcpuinfo_t)
} as const;

/** `struct xen_domctl_sched_credit` and `_credit2` (same shape; `/usr/include/xen/domctl.h`). */
export const SCHED_CREDIT = {
  size: 4, // sizeof(struct xen_domctl_sched_credit)
  weight: 0, // uint16_t weight
  cap: 2, // uint16_t cap
} as const;

/** `struct xen_domctl_sched_rtds` (`/usr/include/xen/domctl.h`). */
export const SCHED_RTDS = {
  size: 12, // sizeof(struct xen_domctl_sched_rtds)
  period: 0, // uint32_t period (us)
  budget: 4, // uint32_t budget (us)
  flags: 8, // uint32_t flags (XEN_DOMCTL_SCHEDRT_*)
} as const;

/** Flag values from the same headers. */
export const XEN = {
  /** XEN_DOMCTL_CDF_hvm (domctl.h). */
  CDF_hvm: 1 << 0,
  /** XEN_DOMCTL_CDF_hap (domctl.h). */
  CDF_hap: 1 << 1,
  /** XEN_X86_EMU_LAPIC (arch-x86/xen.h). */
  X86_EMU_LAPIC: 1 << 0,
  /** XEN_DOMINF_dying (domctl.h). */
  DOMINF_dying: 1 << 0,
  /** XEN_DOMINF_hvm_guest. */
  DOMINF_hvm_guest: 1 << 1,
  /** XEN_DOMINF_shutdown. */
  DOMINF_shutdown: 1 << 2,
  /** XEN_DOMINF_paused. */
  DOMINF_paused: 1 << 3,
  /** XEN_DOMINF_blocked. */
  DOMINF_blocked: 1 << 4,
  /** XEN_DOMINF_running. */
  DOMINF_running: 1 << 5,
  /** XEN_DOMINF_shutdownshift / mask: the shutdown reason in bits 16..23. */
  DOMINF_shutdownshift: 16,
  /** SHUTDOWN_crash (sched.h). */
  SHUTDOWN_crash: 3,
  /** XEN_SYSCTL_PHYSCAP_gnttab_v1 (sysctl.h). */
  PHYSCAP_gnttab_v1: 1 << 8,
  /** XEN_SYSCTL_PHYSCAP_gnttab_v2 (sysctl.h). */
  PHYSCAP_gnttab_v2: 1 << 9,
  /** XENVER_commandline (version.h): Xen's command line, a `char[1024]`. */
  XENVER_commandline: 9,
  /** XEN_VCPUAFFINITY_HARD (domctl.h). */
  VCPUAFFINITY_HARD: 1 << 0,
  /** XEN_VCPUAFFINITY_SOFT (domctl.h). */
  VCPUAFFINITY_SOFT: 1 << 1,
  /** XEN_INVALID_MAX_VCPU_ID (domctl.h): a domain without vcpus. */
  INVALID_MAX_VCPU_ID: 0xffff_ffff,
  /** XEN_SCHEDULER_CREDIT (domctl.h; libxl_scheduler uses the same numbers). */
  SCHEDULER_CREDIT: 5,
  /** XEN_SCHEDULER_CREDIT2. */
  SCHEDULER_CREDIT2: 6,
  /** XEN_SCHEDULER_ARINC653. */
  SCHEDULER_ARINC653: 7,
  /** XEN_SCHEDULER_RTDS. */
  SCHEDULER_RTDS: 8,
  /** XEN_SCHEDULER_NULL. */
  SCHEDULER_NULL: 9,
  /** XEN_DOMCTL_SCHEDRT_extra (domctl.h): an RTDS vCPU may run beyond its budget. */
  SCHEDRT_extra: 1 << 0,
  /** INVALID_MFN as xenguest.h's xc_dom_p2m returns it (~0). */
  INVALID_MFN: 0xffff_ffff_ffff_ffffn,
} as const;
