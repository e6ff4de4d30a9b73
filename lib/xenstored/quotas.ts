/**
 * Per-domain quotas with C xenstored's names and defaults. Privileged connections (dom0 and
 * every socket client) are exempt, as in xenstored. A value of 0 disables a check (Xen 4.22).
 *
 * @module
 */

/** The quotas, named as `xenstore-control quota` names them. */
export interface Quotas {
  /** Nodes a domain may own. @default {1000} */
  nodes: number;
  /** Watches per domain. @default {128} */
  watches: number;
  /** Open transactions per connection. @default {10} */
  transactions: number;
  /** Requests in flight per domain. @default {20} */
  outstanding: number;
  /** Nodes one transaction may touch. @default {1024} */
  "transaction-nodes": number;
  /** Memory per domain in bytes: node records, watches, transaction copies, replies. @default {2621440} */
  memory: number;
  /** Largest node record (header, permissions, value, child names). @default {2048} */
  "node-size": number;
  /** Longest path after any `/local/domain/<N>/` prefix. @default {2048} */
  "path-max": number;
  /** Permission entries per node. @default {5} */
  permissions: number;
}

/** The name of one quota. */
export type QuotaName = keyof Quotas;

/**
 * C xenstored's defaults (`xenstored_core.c`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_QUOTAS } from "./quotas.ts";
 * assert.equal(DEFAULT_QUOTAS.nodes, 1000);
 * assert.equal(DEFAULT_QUOTAS["node-size"], 2048);
 * ```
 */
export const DEFAULT_QUOTAS: Readonly<Quotas> = Object.freeze({
  nodes: 1000,
  watches: 128,
  transactions: 10,
  outstanding: 20,
  "transaction-nodes": 1024,
  memory: 2 * 1024 * 1024 + 512 * 1024,
  "node-size": 2048,
  "path-max": 2048,
  permissions: 5,
});

/** Quota names in the order `xenstore-control quota` lists them, with their descriptions. */
export const QUOTA_DESCRIPTIONS: readonly (readonly [QuotaName, string])[] = [
  ["nodes", "Nodes per domain"],
  ["watches", "Watches per domain"],
  ["transactions", "Transactions per domain"],
  ["outstanding", "Outstanding requests per domain"],
  ["transaction-nodes", "Max. number of accessed nodes per transaction"],
  ["memory", "Total Xenstore memory per domain (error level)"],
  ["node-size", "Max. size of a node"],
  ["path-max", "Max. length of a node path"],
  ["permissions", "Max. number of permissions per node"],
];

/** True when `name` is a quota name. */
export function isQuotaName(name: string): name is QuotaName {
  return QUOTA_DESCRIPTIONS.some(([n]) => n === name);
}

/** The largest value a quota takes at start (C xenstored's `-Q` accepts up to `INT_MAX`). */
const QUOTA_MAX = 2 ** 31 - 1;

/**
 * Merges overrides into the defaults, rejecting unknown names and values that are not
 * integers from 0 to 2^31 - 1. As in Xen 4.22, 0 disables the check.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_QUOTAS, resolveQuotas } from "./quotas.ts";
 * const quotas = resolveQuotas({ nodes: 50 });
 * assert.equal(quotas.nodes, 50);
 * assert.equal(quotas.permissions, DEFAULT_QUOTAS.permissions); // the rest keep their defaults
 * assert.throws(() => resolveQuotas({ nodes: -1 }), RangeError);
 * ```
 */
export function resolveQuotas(overrides: Partial<Quotas> = {}): Quotas {
  const out: Quotas = { ...DEFAULT_QUOTAS };
  for (const [name, value] of Object.entries(overrides)) {
    if (!isQuotaName(name)) {
      throw new RangeError(
        `Unknown xenstored quota "${name}": expected one of ${
          QUOTA_DESCRIPTIONS.map(([n]) => n).join(", ")
        }`,
      );
    }
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > QUOTA_MAX) {
      throw new RangeError(
        `Invalid value for quota "${name}": ${value} (need an integer from 0, which disables the check, to ${QUOTA_MAX})`,
      );
    }
    out[name] = value;
  }
  return out;
}
