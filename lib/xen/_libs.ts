/**
 * The libxenctrl / libxenguest functions the FFI hypervisor calls, loaded with `Deno.dlopen`.
 *
 * Symbols are bound as the dynamic linker binds them for a program linked against these
 * libraries (such as `xl`): an object named in `LD_PRELOAD` that defines a symbol wins over
 * the library. `Deno.dlopen` alone looks a symbol up in the opened library only, which would
 * bypass an interposer that `xl` itself would see.
 *
 * @module
 */

import { XenUnavailableError } from "./errors.ts";

const XENCTRL_SYMBOLS = {
  xc_interface_open: { parameters: ["pointer", "pointer", "u32"], result: "pointer" },
  xc_interface_close: { parameters: ["pointer"], result: "i32" },
  xc_domain_create: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  xc_domain_max_vcpus: { parameters: ["pointer", "u32", "u32"], result: "i32" },
  xc_domain_setmaxmem: { parameters: ["pointer", "u32", "u64"], result: "i32" },
  xc_domain_set_pod_target: {
    parameters: ["pointer", "u32", "u64", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  xc_domain_set_memmap_limit: { parameters: ["pointer", "u32", "u64"], result: "i32" },
  xc_domain_set_tsc_info: {
    parameters: ["pointer", "u32", "u32", "u64", "u32", "u32"],
    result: "i32",
  },
  xc_evtchn_alloc_unbound: { parameters: ["pointer", "u32", "u32"], result: "i32" },
  xc_domain_destroy: { parameters: ["pointer", "u32"], result: "i32" },
  xc_domain_pause: { parameters: ["pointer", "u32"], result: "i32" },
  xc_domain_unpause: { parameters: ["pointer", "u32"], result: "i32" },
  xc_domain_getinfolist: { parameters: ["pointer", "u32", "u32", "buffer"], result: "i32" },
  xc_physinfo: { parameters: ["pointer", "buffer"], result: "i32" },
  xc_version: { parameters: ["pointer", "i32", "buffer"], result: "i32" },
  // NUMA placement (libxl__build_pre) and scheduler parameters (libxl__build_post)
  xc_get_max_cpus: { parameters: ["pointer"], result: "i32" },
  xc_get_max_nodes: { parameters: ["pointer"], result: "i32" },
  xc_cpupool_getinfo: { parameters: ["pointer", "u32"], result: "pointer" },
  xc_cpupool_infofree: { parameters: ["pointer", "pointer"], result: "void" },
  xc_numainfo: { parameters: ["pointer", "buffer", "buffer", "buffer"], result: "i32" },
  xc_cputopoinfo: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  xc_vcpu_getinfo: { parameters: ["pointer", "u32", "u32", "buffer"], result: "i32" },
  xc_vcpu_getaffinity: {
    parameters: ["pointer", "u32", "i32", "buffer", "buffer", "u32"],
    result: "i32",
  },
  xc_vcpu_setaffinity: {
    parameters: ["pointer", "u32", "i32", "buffer", "buffer", "u32"],
    result: "i32",
  },
  xc_domain_node_getaffinity: { parameters: ["pointer", "u32", "buffer"], result: "i32" },
  xc_domain_node_setaffinity: { parameters: ["pointer", "u32", "buffer"], result: "i32" },
  xc_sched_credit_domain_get: { parameters: ["pointer", "u32", "buffer"], result: "i32" },
  xc_sched_credit_domain_set: { parameters: ["pointer", "u32", "buffer"], result: "i32" },
  xc_sched_credit2_domain_get: { parameters: ["pointer", "u32", "buffer"], result: "i32" },
  xc_sched_credit2_domain_set: { parameters: ["pointer", "u32", "buffer"], result: "i32" },
  xc_sched_rtds_domain_get: { parameters: ["pointer", "u32", "buffer"], result: "i32" },
  xc_sched_rtds_domain_set: { parameters: ["pointer", "u32", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

const XENGUEST_SYMBOLS = {
  xc_dom_loginit: { parameters: ["pointer"], result: "i32" },
  xc_dom_allocate: { parameters: ["pointer", "buffer", "pointer"], result: "pointer" },
  xc_dom_release: { parameters: ["pointer"], result: "void" },
  xc_dom_kernel_file: { parameters: ["pointer", "buffer"], result: "i32" },
  xc_dom_module_file: { parameters: ["pointer", "buffer", "pointer"], result: "i32" },
  xc_dom_boot_xen_init: { parameters: ["pointer", "pointer", "u32"], result: "i32" },
  xc_dom_parse_image: { parameters: ["pointer"], result: "i32" },
  xc_dom_mem_init: { parameters: ["pointer", "u32"], result: "i32" },
  xc_dom_boot_mem_init: { parameters: ["pointer"], result: "i32" },
  xc_dom_build_image: { parameters: ["pointer"], result: "i32" },
  xc_dom_boot_image: { parameters: ["pointer"], result: "i32" },
  xc_dom_gnttab_init: { parameters: ["pointer"], result: "i32" },
  xc_dom_translated: { parameters: ["pointer"], result: "bool" },
  xc_cpuid_apply_policy: {
    parameters: [
      "pointer",
      "u32",
      "bool",
      "pointer",
      "u32",
      "bool",
      "bool",
      "bool",
      "pointer",
      "pointer",
    ],
    result: "i32",
  },
} as const satisfies Deno.ForeignLibraryInterface;

const LIBC_SYMBOLS = {
  __errno_location: { parameters: [], result: "pointer" },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  stderr: { type: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** libxentoollog (a dependency of libxenctrl, so present when it is). */
const TOOLLOG_SYMBOLS = {
  xtl_createlogger_stdiostream: { parameters: ["pointer", "i32", "u32"], result: "pointer" },
  xtl_logger_destroy: { parameters: ["pointer"], result: "void" },
} as const satisfies Deno.ForeignLibraryInterface;

/** time.h: `CLOCK_MONOTONIC`. */
const CLOCK_MONOTONIC = 1;

/** xentoollog.h: `XTL_NUM_LEVELS`, above every level (a logger at it prints nothing). */
const XTL_NUM_LEVELS = 10;
/** xentoollog.h: `XTL_STDIOSTREAM_PROGRESS_NO_CR` (no isatty() probe). */
const XTL_STDIOSTREAM_PROGRESS_NO_CR = 8;

type Bound<S extends Deno.ForeignLibraryInterface> = Deno.DynamicLibrary<S>["symbols"];

/** The bound functions of both libraries, and `errno`. */
export interface XenLibs {
  /** libxenctrl's functions. */
  ctrl: Bound<typeof XENCTRL_SYMBOLS>;
  /** libxenguest's functions. */
  guest: Bound<typeof XENGUEST_SYMBOLS>;
  /** The calling thread's `errno` (read right after a failed call). */
  errno(): number;
  /** `clock_gettime(CLOCK_MONOTONIC)` whole seconds (libxl stamps its domid history so). */
  monotonicSeconds(): number;
  /**
   * A libxentoollog logger that prints nothing (for probing `xc_interface_open` without
   * libxencall's own error line on stderr), and its destructor.
   */
  quietLogger(): { logger: Deno.PointerValue; destroy(): void };
  /** Closes the libraries. */
  close(): void;
}

/** Where the libraries are looked for. */
export interface LibraryNames {
  /** libxenctrl. @default {"libxenctrl.so.4.17"} */
  xenctrl?: string;
  /** libxenguest. @default {"libxenguest.so.4.17"} */
  xenguest?: string;
}

function open<S extends Deno.ForeignLibraryInterface>(
  path: string,
  symbols: S,
): Deno.DynamicLibrary<S> {
  try {
    return Deno.dlopen(path, symbols);
  } catch (cause) {
    if (cause instanceof Deno.errors.NotCapable || cause instanceof Deno.errors.PermissionDenied) {
      throw new XenUnavailableError(`loading ${path} needs Deno's --allow-ffi permission`, {
        missing: "privilege",
        cause,
      });
    }
    throw new XenUnavailableError(
      `cannot load ${path} (install Debian's libxenmisc4.17, which ships libxenctrl and libxenguest): ${
        (cause as Error).message
      }`,
      { missing: "library", cause },
    );
  }
}

/** Each symbol of `symbols` that an `LD_PRELOAD` object defines, bound there. */
function preloaded<S extends Deno.ForeignLibraryInterface>(
  symbols: S,
  libs: Deno.DynamicLibrary<Deno.ForeignLibraryInterface>[],
): Partial<Bound<S>> {
  const out: Record<string, unknown> = {};
  for (const path of (Deno.env.get("LD_PRELOAD") ?? "").split(/[\s:]+/).filter(Boolean)) {
    const optional = Object.fromEntries(
      Object.entries(symbols).map(([name, def]) => [name, { ...def, optional: true }]),
    ) as Deno.ForeignLibraryInterface;
    let lib: Deno.DynamicLibrary<Deno.ForeignLibraryInterface>;
    try {
      lib = Deno.dlopen(path, optional);
    } catch {
      continue; // the dynamic linker skips an unloadable preload with a warning as well
    }
    libs.push(lib);
    for (const [name, fn] of Object.entries(lib.symbols)) {
      if (fn !== null && !(name in out)) out[name] = fn;
    }
  }
  return out as Partial<Bound<S>>;
}

/** Loads libxenctrl and libxenguest (and libc's errno). */
export function loadXenLibs(names: LibraryNames = {}): XenLibs {
  const extra: Deno.DynamicLibrary<Deno.ForeignLibraryInterface>[] = [];
  const ctrlLib = open(names.xenctrl ?? "libxenctrl.so.4.17", XENCTRL_SYMBOLS);
  let guestLib: Deno.DynamicLibrary<typeof XENGUEST_SYMBOLS>;
  try {
    guestLib = open(names.xenguest ?? "libxenguest.so.4.17", XENGUEST_SYMBOLS);
  } catch (error) {
    ctrlLib.close();
    throw error;
  }
  const libc = open("libc.so.6", LIBC_SYMBOLS);
  let toollog: Deno.DynamicLibrary<typeof TOOLLOG_SYMBOLS>;
  try {
    toollog = open("libxentoollog.so.1", TOOLLOG_SYMBOLS);
  } catch (error) {
    libc.close();
    guestLib.close();
    ctrlLib.close();
    throw error;
  }
  const ctrl = { ...ctrlLib.symbols, ...preloaded(XENCTRL_SYMBOLS, extra) };
  const guest = { ...guestLib.symbols, ...preloaded(XENGUEST_SYMBOLS, extra) };
  return {
    ctrl,
    guest,
    errno() {
      const p = libc.symbols.__errno_location();
      return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32(0);
    },
    monotonicSeconds() {
      const ts = new BigInt64Array(2); // struct timespec { time_t tv_sec; long tv_nsec; }
      if (libc.symbols.clock_gettime(CLOCK_MONOTONIC, new Uint8Array(ts.buffer)) !== 0) {
        throw new Error(`clock_gettime(CLOCK_MONOTONIC) failed: errno ${this.errno()}`);
      }
      return Number(ts[0]);
    },
    quietLogger() {
      const stderr = new Deno.UnsafePointerView(libc.symbols.stderr!).getPointer();
      const logger = toollog.symbols.xtl_createlogger_stdiostream(
        stderr,
        XTL_NUM_LEVELS,
        XTL_STDIOSTREAM_PROGRESS_NO_CR,
      );
      return {
        logger,
        destroy: () => {
          if (logger !== null) toollog.symbols.xtl_logger_destroy(logger);
        },
      };
    },
    close() {
      for (const lib of extra) lib.close();
      toollog.close();
      guestLib.close();
      ctrlLib.close();
      libc.close();
    },
  };
}
