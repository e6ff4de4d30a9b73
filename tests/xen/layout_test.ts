/**
 * The struct offsets in lib/xen/_layout.ts against the installed Xen 4.17 headers
 * (`libxen-dev`): a C program prints `offsetof`/`sizeof` of every entry, compiled with gcc.
 */

import assert from "node:assert/strict";
import {
  CPUPOOLINFO,
  CPUTOPO,
  CREATEDOMAIN,
  DOM_IMAGE,
  DOMAININFO,
  MEMINFO,
  PHYSINFO,
  SCHED_CREDIT,
  SCHED_RTDS,
  VCPUINFO,
  XEN,
} from "../../lib/xen/_layout.ts";
import { createDomainConfig, uuidBytes } from "../../lib/xen/_build.ts";
import { XenBuildRequestError } from "../../lib/xen/errors.ts";
import { exists, mayRun, tryRun } from "./_prereq.ts";

/** C field name of each `_layout.ts` key. */
type Table = Record<string, number>;
const FIELDS: Record<string, [Table, Record<string, string>]> = {
  "struct xen_domctl_createdomain": [CREATEDOMAIN, {
    ssidref: "ssidref",
    handle: "handle",
    flags: "flags",
    iommuOpts: "iommu_opts",
    maxVcpus: "max_vcpus",
    maxEvtchnPort: "max_evtchn_port",
    maxGrantFrames: "max_grant_frames",
    maxMaptrackFrames: "max_maptrack_frames",
    grantOpts: "grant_opts",
    vmtraceSize: "vmtrace_size",
    cpupoolId: "cpupool_id",
    emulationFlags: "arch.emulation_flags",
    miscFlags: "arch.misc_flags",
  }],
  "xc_domaininfo_t": [DOMAININFO, {
    domain: "domain",
    flags: "flags",
    totPages: "tot_pages",
    maxPages: "max_pages",
    outstandingPages: "outstanding_pages",
    shrPages: "shr_pages",
    cpuTime: "cpu_time",
    nrOnlineVcpus: "nr_online_vcpus",
    maxVcpuId: "max_vcpu_id",
    handle: "handle",
    cpupool: "cpupool",
  }],
  "struct xc_dom_image": [DOM_IMAGE, {
    consolePfn: "console_pfn",
    xenstorePfn: "xenstore_pfn",
    pvP2m: "pv_p2m",
    totalPages: "total_pages",
    flags: "flags",
    consoleEvtchn: "console_evtchn",
    xenstoreEvtchn: "xenstore_evtchn",
    consoleDomid: "console_domid",
    xenstoreDomid: "xenstore_domid",
    claimEnabled: "claim_enabled",
    containerType: "container_type",
    targetPages: "target_pages",
    mmioStart: "mmio_start",
    mmioSize: "mmio_size",
    lowmemEnd: "lowmem_end",
    highmemEnd: "highmem_end",
    vgaHoleSize: "vga_hole_size",
    deviceModel: "device_model",
    vuartGfn: "vuart_gfn",
    maxVcpus: "max_vcpus",
  }],
  "xc_physinfo_t": [PHYSINFO, {
    capabilities: "capabilities",
    freePages: "free_pages",
    scrubPages: "scrub_pages",
  }],
  "xc_cputopo_t": [CPUTOPO, { node: "node" }],
  "xc_meminfo_t": [MEMINFO, { memfree: "memfree" }],
  "xc_cpupoolinfo_t": [CPUPOOLINFO, {
    cpupoolId: "cpupool_id",
    schedId: "sched_id",
    cpumap: "cpumap",
  }],
  "xc_vcpuinfo_t": [VCPUINFO, {}],
  "struct xen_domctl_sched_credit": [SCHED_CREDIT, { weight: "weight", cap: "cap" }],
  "struct xen_domctl_sched_credit2": [SCHED_CREDIT, { weight: "weight", cap: "cap" }],
  "struct xen_domctl_sched_rtds": [SCHED_RTDS, {
    period: "period",
    budget: "budget",
    flags: "flags",
  }],
};

/** Constants checked against the headers' macros. */
const MACROS: [string, number][] = [
  ["XEN_DOMCTL_CDF_hvm", XEN.CDF_hvm],
  ["XEN_DOMCTL_CDF_hap", XEN.CDF_hap],
  ["XEN_X86_EMU_LAPIC", XEN.X86_EMU_LAPIC],
  ["XEN_DOMINF_dying", XEN.DOMINF_dying],
  ["XEN_DOMINF_hvm_guest", XEN.DOMINF_hvm_guest],
  ["XEN_DOMINF_shutdown", XEN.DOMINF_shutdown],
  ["XEN_DOMINF_paused", XEN.DOMINF_paused],
  ["XEN_DOMINF_blocked", XEN.DOMINF_blocked],
  ["XEN_DOMINF_running", XEN.DOMINF_running],
  ["XEN_DOMINF_shutdownshift", XEN.DOMINF_shutdownshift],
  ["SHUTDOWN_crash", XEN.SHUTDOWN_crash],
  ["XEN_SYSCTL_PHYSCAP_gnttab_v1", XEN.PHYSCAP_gnttab_v1],
  ["XEN_SYSCTL_PHYSCAP_gnttab_v2", XEN.PHYSCAP_gnttab_v2],
  ["XENVER_commandline", XEN.XENVER_commandline],
  ["XEN_VCPUAFFINITY_HARD", XEN.VCPUAFFINITY_HARD],
  ["XEN_VCPUAFFINITY_SOFT", XEN.VCPUAFFINITY_SOFT],
  ["XEN_INVALID_MAX_VCPU_ID", XEN.INVALID_MAX_VCPU_ID],
  ["XEN_SCHEDULER_CREDIT", XEN.SCHEDULER_CREDIT],
  ["XEN_SCHEDULER_CREDIT2", XEN.SCHEDULER_CREDIT2],
  ["XEN_SCHEDULER_ARINC653", XEN.SCHEDULER_ARINC653],
  ["XEN_SCHEDULER_RTDS", XEN.SCHEDULER_RTDS],
  ["XEN_SCHEDULER_NULL", XEN.SCHEDULER_NULL],
  ["XEN_DOMCTL_SCHEDRT_extra", XEN.SCHEDRT_extra],
];

async function measure(): Promise<Map<string, number> | string> {
  if (!(await exists("/usr/include/xenguest.h"))) {
    return "no /usr/include/xenguest.h (apt-get install libxen-dev)";
  }
  const lines: string[] = [];
  for (const [type, [table, fields]] of Object.entries(FIELDS)) {
    lines.push(`printf("${type} size %zu\\n", sizeof(${type}));`);
    for (const [key, field] of Object.entries(fields)) {
      lines.push(`printf("${type} ${key} %zu\\n", offsetof(${type}, ${field}));`);
    }
    assert.deepEqual(
      Object.keys(table).filter((k) => k !== "size").sort(),
      Object.keys(fields).sort(),
      `every ${type} entry is checked`,
    );
  }
  for (const [name] of MACROS) lines.push(`printf("macro ${name} %lld\\n", (long long)(${name}));`);
  const src =
    `#include <stddef.h>\n#include <stdio.h>\n#include <xenctrl.h>\n#include <xenguest.h>\n` +
    `#include <xen/sched.h>\n#include <xen/version.h>\nint main(void) {\n${
      lines.join("\n")
    }\nreturn 0;\n}\n`;
  const dir = await Deno.makeTempDir({ prefix: "dxl-layout-" });
  try {
    await Deno.writeTextFile(`${dir}/layout.c`, src);
    const cc = await tryRun("gcc", ["-o", `${dir}/layout`, `${dir}/layout.c`]);
    if (cc.code === -1) return `no gcc (${cc.stderr})`;
    assert.ok(cc.ok, `gcc failed: ${cc.stderr}`);
    const run = await tryRun(`${dir}/layout`, []);
    assert.ok(run.ok, run.stderr);
    const out = new Map<string, number>();
    for (const line of run.stdout.trim().split("\n")) {
      const at = line.lastIndexOf(" ");
      out.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
    return out;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("lib/xen/_layout.ts matches offsetof/sizeof of the installed 4.17 headers", async () => {
  const measured = await measure();
  if (!mayRun("the struct layout check", typeof measured === "string" ? measured : undefined)) {
    return;
  }
  const m = measured as Map<string, number>;
  for (const [type, [table, fields]] of Object.entries(FIELDS)) {
    assert.equal(table.size, m.get(`${type} size`), `sizeof(${type})`);
    for (const [key, field] of Object.entries(fields)) {
      assert.equal(table[key], m.get(`${type} ${key}`), `offsetof(${type}, ${field})`);
    }
  }
  for (const [name, value] of MACROS) assert.equal(value, m.get(`macro ${name}`), name);
});

Deno.test("createDomainConfig() lays out xen_domctl_createdomain as libxl__domain_make", () => {
  const uuid = "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
  const pv = new DataView(
    createDomainConfig({ type: "pv", uuid, vcpus: 2, grantVersion: 2 }).buffer,
  );
  assert.equal(pv.byteLength, CREATEDOMAIN.size);
  assert.deepEqual(
    new Uint8Array(pv.buffer, CREATEDOMAIN.handle, 16),
    uuidBytes(uuid),
  );
  assert.equal(pv.getUint8(CREATEDOMAIN.handle), 0x6e);
  assert.equal(pv.getUint32(CREATEDOMAIN.flags, true), 0);
  assert.equal(pv.getUint32(CREATEDOMAIN.maxVcpus, true), 2);
  assert.equal(pv.getUint32(CREATEDOMAIN.maxEvtchnPort, true), 1023);
  assert.equal(pv.getInt32(CREATEDOMAIN.maxGrantFrames, true), -1);
  assert.equal(pv.getInt32(CREATEDOMAIN.maxMaptrackFrames, true), -1);
  assert.equal(pv.getUint32(CREATEDOMAIN.grantOpts, true), 2);
  assert.equal(pv.getUint32(CREATEDOMAIN.emulationFlags, true), 0);
  const pvh = new DataView(
    createDomainConfig({ type: "pvh", uuid, vcpus: 1, grantVersion: 1 }).buffer,
  );
  assert.equal(pvh.getUint32(CREATEDOMAIN.flags, true), XEN.CDF_hvm | XEN.CDF_hap);
  assert.equal(pvh.getUint32(CREATEDOMAIN.emulationFlags, true), XEN.X86_EMU_LAPIC);
  assert.equal(pvh.getUint32(CREATEDOMAIN.grantOpts, true), 1);
});

Deno.test("uuidBytes() rejects a malformed uuid naming it", () => {
  assert.throws(
    () => uuidBytes("6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5"),
    (e: unknown) =>
      e instanceof XenBuildRequestError && e.field === "uuid" && /0c1d2e3f4a5"/.test(e.message),
  );
});
