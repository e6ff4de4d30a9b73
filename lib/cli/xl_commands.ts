/**
 * xl's xenstore-facing commands (`list`, `devices`, `block-attach`, ...) and `doctor`: the
 * registration functions `main.ts` adds to `dxl`. Add each new `xl_<name>.ts`'s `register`
 * here.
 *
 * @module
 */

import type { Program } from "./context.ts";
import { register as registerList } from "./xl_list.ts";
import { register as registerDevices } from "./xl_devices.ts";
import { register as registerBlockAttach } from "./xl_block_attach.ts";
import { register as registerBlockDetach } from "./xl_block_detach.ts";
import { register as registerNetworkAttach } from "./xl_network_attach.ts";
import { register as registerNetworkDetach } from "./xl_network_detach.ts";
import { register as registerRename } from "./xl_rename.ts";
import { register as registerMemSet } from "./xl_mem_set.ts";
import { register as registerVcpuSet } from "./xl_vcpu_set.ts";
import { register as registerShutdown, registerReboot } from "./xl_shutdown.ts";
import { register as registerSysrq } from "./xl_sysrq.ts";
import { register as registerCdInsert, registerEject as registerCdEject } from "./xl_cd_insert.ts";
import { register as registerDoctor } from "./doctor.ts";

/** The registration functions of xl's commands and `doctor`, in `dxl --help` order. */
export const XL_COMMANDS: readonly ((program: Program) => void)[] = [
  registerList,
  registerDevices,
  registerBlockAttach,
  registerBlockDetach,
  registerNetworkAttach,
  registerNetworkDetach,
  registerCdInsert,
  registerCdEject,
  registerRename,
  registerMemSet,
  registerVcpuSet,
  registerShutdown,
  registerReboot,
  registerSysrq,
  registerDoctor,
];
