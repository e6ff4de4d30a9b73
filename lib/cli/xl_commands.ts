/**
 * xl's xenstore-facing commands (`list`, `devices`, `block-attach`, ...) and `doctor`: the
 * registration functions `main.ts` adds to `dxl`. Add each new `xl_<name>.ts`'s `register`
 * here.
 *
 * @module
 */

import type { Program } from "./context.ts";

/** The registration functions of xl's commands and `doctor`, in `dxl --help` order. */
export const XL_COMMANDS: readonly ((program: Program) => void)[] = [];
