/**
 * libxl__build_post's scheduler step for a new domain (`libxl_domain_sched_params_set` with
 * the default parameters `xl` passes, libxl_sched.c, Xen 4.17): the scheduler of the
 * domain's cpupool, then for credit and credit2 the domain's weight and cap read and written
 * back unchanged, for RTDS its period and budget written back with extratime on, for
 * ARINC 653 and null nothing.
 *
 * @module
 */

import { SCHED_CREDIT, SCHED_RTDS, XEN } from "./_layout.ts";
import type { XenLibs } from "./_libs.ts";
import { HostQueries } from "./_topology.ts";
import { XenBuildRequestError, XenCallError } from "./errors.ts";

type SchedCall = (xch: Deno.PointerValue, domid: number, sdom: Uint8Array) => number;

/** Runs `libxl_domain_sched_params_set(domid, defaults)`; rejects as libxl fails the build. */
export function setDefaultSchedParams(
  libs: XenLibs,
  xch: Deno.PointerValue,
  domid: number,
): void {
  const q = new HostQueries(libs, xch);
  let sched = 0; // LIBXL_SCHEDULER_UNKNOWN when the pool cannot be read
  try {
    sched = q.cpupoolInfo(q.domainCpupool(domid)).sched;
  } catch (error) {
    if (!(error instanceof XenCallError)) throw error;
  }
  const c = libs.ctrl;
  const read = (name: string, get: SchedCall): Uint8Array => {
    // sched_credit{,2}_domain_set: the domain must exist, then get and put back
    if (q.domainInfo(domid) === undefined) {
      throw new XenCallError("xc_domain_getinfolist", 22, { domid }); // ERROR_INVAL
    }
    const sdom = new Uint8Array(SCHED_CREDIT.size);
    if (get(xch, domid, sdom) !== 0) throw new XenCallError(`${name}_get`, libs.errno(), { domid });
    return sdom;
  };
  switch (sched) {
    case XEN.SCHEDULER_CREDIT: {
      const sdom = read("xc_sched_credit_domain", c.xc_sched_credit_domain_get);
      if (c.xc_sched_credit_domain_set(xch, domid, sdom) < 0) {
        throw new XenCallError("xc_sched_credit_domain_set", libs.errno(), { domid });
      }
      return;
    }
    case XEN.SCHEDULER_CREDIT2: {
      const sdom = read("xc_sched_credit2_domain", c.xc_sched_credit2_domain_get);
      if (c.xc_sched_credit2_domain_set(xch, domid, sdom) < 0) {
        throw new XenCallError("xc_sched_credit2_domain_set", libs.errno(), { domid });
      }
      return;
    }
    case XEN.SCHEDULER_RTDS: {
      const sdom = new Uint8Array(SCHED_RTDS.size);
      if (c.xc_sched_rtds_domain_get(xch, domid, sdom) !== 0) {
        throw new XenCallError("xc_sched_rtds_domain_get", libs.errno(), { domid });
      }
      const v = new DataView(sdom.buffer);
      // extratime defaults to -1, which sched_rtds_domain_set takes as true
      v.setUint32(SCHED_RTDS.flags, v.getUint32(SCHED_RTDS.flags, true) | XEN.SCHEDRT_extra, true);
      const period = v.getInt32(SCHED_RTDS.period, true);
      const budget = v.getInt32(SCHED_RTDS.budget, true);
      if (period < 1 || budget < 1 || budget > period) {
        throw new XenBuildRequestError(
          "sched",
          `rtds period ${period} budget ${budget}`,
          "the domain's RTDS period and budget must be >= 1 and budget <= period",
        );
      }
      if (c.xc_sched_rtds_domain_set(xch, domid, sdom) < 0) {
        throw new XenCallError("xc_sched_rtds_domain_set", libs.errno(), { domid });
      }
      return;
    }
    case XEN.SCHEDULER_ARINC653:
    case XEN.SCHEDULER_NULL:
      return; // no domain parameters
    default:
      throw new XenCallError(`libxl_domain_sched_params_set (unknown scheduler ${sched})`, 22, {
        domid,
      });
  }
}
