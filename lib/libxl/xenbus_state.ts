/**
 * XenBus device states (`xen/include/public/io/xenbus.h`).
 *
 * @module
 */

/**
 * The XenbusState values written to `state` nodes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { XenbusState } from "./xenbus_state.ts";
 * assert.equal(XenbusState.Closed, 6);
 * ```
 */
export const XenbusState = {
  Unknown: 0,
  Initialising: 1,
  InitWait: 2,
  Initialised: 3,
  Connected: 4,
  Closing: 5,
  Closed: 6,
  Reconfiguring: 7,
  Reconfigured: 8,
} as const;

/** One XenbusState value. */
export type XenbusState = typeof XenbusState[keyof typeof XenbusState];

/**
 * The name of a state value, or `undefined` if it is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { xenbusStateName } from "./xenbus_state.ts";
 * assert.equal(xenbusStateName(4), "Connected");
 * ```
 */
export function xenbusStateName(state: number): string | undefined {
  for (const [name, value] of Object.entries(XenbusState)) {
    if (value === state) return name;
  }
  return undefined;
}

/**
 * Parses a `state` node's text strictly (decimal 0-8); `undefined` for anything else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseXenbusState } from "./xenbus_state.ts";
 * assert.equal(parseXenbusState("6"), 6);
 * assert.equal(parseXenbusState("6x"), undefined);
 * ```
 */
export function parseXenbusState(text: string | undefined): XenbusState | undefined {
  if (text === undefined || !/^[0-8]$/.test(text)) return undefined;
  return Number(text) as XenbusState;
}

/** What {@linkcode switchXenbusState} needs: a store with transactions. */
export interface StateStore {
  /** Runs `fn` in a transaction, rerunning it on EAGAIN. */
  transaction<T>(
    fn: (tx: {
      tryRead(path: string): Promise<string | undefined>;
      write(path: string, value: string): Promise<void>;
    }) => Promise<T>,
  ): Promise<T>;
}

/**
 * Writes `<dir>/state` only if the node still exists, in one transaction — as Linux's
 * `xenbus_switch_state` does, so a driver never re-creates a device the toolstack removed.
 * Returns false when the node was gone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { switchXenbusState, XenbusState } from "./xenbus_state.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const dev = "/local/domain/0/backend/vif/1/0";
 * await xs.write(`${dev}/state`, "2");
 * assert.equal(await switchXenbusState(xs, dev, { state: XenbusState.Connected }), true);
 * assert.equal(await xs.read(`${dev}/state`), "4");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function switchXenbusState(
  store: StateStore,
  dir: string,
  options: { state: XenbusState },
): Promise<boolean> {
  const { state } = options;
  return store.transaction(async (tx) => {
    if ((await tx.tryRead(`${dir}/state`)) === undefined) return false;
    await tx.write(`${dir}/state`, String(state));
    return true;
  });
}
