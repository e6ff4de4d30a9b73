/**
 * The domain and administrative operations (INTRODUCE, RELEASE, GET_FEATURE, GET_QUOTA,
 * CONTROL, ...), outside any transaction.
 *
 * @module
 */

import { checkDomid, decodeString, encodeArgs, Op, ProtocolError } from "../protocol/mod.ts";
import { decodeNumber, NodeOps } from "./node_ops.ts";

/** Options of the domain and admin operations. */
export interface AdminOptions {
  /**
   * Stops waiting for the reply: the call rejects with the signal's reason, e.g.
   * `AbortSignal.timeout(1000)`. Useful where a daemon may never answer: oxenstored handles a
   * request with an empty payload (argument-less `getFeature()`, `listQuotas()`) only once
   * more bytes arrive on the connection.
   * @default {wait for the reply or the connection's end}
   */
  signal?: AbortSignal;
}

/** Options of `getQuota` and `setQuota`. */
export interface QuotaOptions extends AdminOptions {
  /** The domain; omitted, the global default for new domains. */
  domid?: number;
}

/** A 16-bit domid argument, as text: the daemon, not the client, judges reserved ids. */
function domidArg(domid: number, what = "domid"): string {
  return String(checkDomid(domid, { what, allowReserved: true }));
}

function checkUint(value: number, what: string): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${what} must be an unsigned 32-bit integer, got ${value}`);
  }
  return String(value);
}

/**
 * {@linkcode NodeOps} plus the operations on domains and on the daemon itself; the base of
 * `XenstoreClient`. Domain ids are checked (0..65535) before anything is sent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "./mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * assert.equal(await xs.isDomainIntroduced(0), true);
 * assert.equal(await xs.getDomainPath(5), "/local/domain/5");
 * assert.equal(typeof await xs.getFeature(undefined, { signal: AbortSignal.timeout(1000) }), "number");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class DomainOps extends NodeOps {
  /** The home path of a domain, `/local/domain/<domid>`. */
  async getDomainPath(domid: number, options?: AdminOptions): Promise<string> {
    return decodeString(await this.#op(Op.GetDomainPath, [domidArg(domid)], options));
  }

  /** True when xenstored knows the domain (it was introduced and not released). */
  async isDomainIntroduced(domid: number, options?: AdminOptions): Promise<boolean> {
    const args = [domidArg(domid)];
    const reply = decodeString(await this.#op(Op.IsDomainIntroduced, args, options));
    if (reply !== "T" && reply !== "F") {
      throw new ProtocolError(`IS_DOMAIN_INTRODUCED reply is not T or F: ${JSON.stringify(reply)}`);
    }
    return reply === "T";
  }

  /** Tells xenstored to talk to a new domain over ring page `gfn` and event channel `port`. */
  async introduce(domid: number, gfn: number | bigint, port: number): Promise<void> {
    if (typeof gfn === "number" && !Number.isInteger(gfn)) {
      throw new RangeError(`gfn must be an integer, got ${gfn}`);
    }
    const args = [domidArg(domid), String(gfn), checkUint(port, "port")];
    await this.#op(Op.Introduce, args);
  }

  /** Tells xenstored a domain is gone: its connection, watches and transactions are dropped. */
  async release(domid: number, options?: AdminOptions): Promise<void> {
    await this.#op(Op.Release, [domidArg(domid)], options);
  }

  /** Clears a domain's "shutdown" flag after it resumed. */
  async resume(domid: number, options?: AdminOptions): Promise<void> {
    await this.#op(Op.Resume, [domidArg(domid)], options);
  }

  /** Lets domain `domid` (a device model) act for domain `target`. */
  async setTarget(domid: number, target: number, options?: AdminOptions): Promise<void> {
    await this.#op(Op.SetTarget, [domidArg(domid), domidArg(target, "target")], options);
  }

  /**
   * The server's feature bits (`domid` omitted), or those of a domain's ring (see `Feature`).
   * oxenstored answers the argument-less form only once another request follows it: pass a
   * `signal` to bound the wait.
   */
  async getFeature(domid?: number, options?: AdminOptions): Promise<number> {
    const args = domid === undefined ? [] : [domidArg(domid)];
    return decodeNumber(await this.#op(Op.GetFeature, args, options), "GET_FEATURE");
  }

  /** Sets a domain's ring feature bits (only before it is introduced). */
  async setFeature(domid: number, value: number, options?: AdminOptions): Promise<void> {
    const args = [domidArg(domid), checkUint(value, "feature value")];
    await this.#op(Op.SetFeature, args, options);
  }

  /**
   * Sends a CONTROL command (`"check"`, or with arguments `["log", "on"]`) and returns the
   * server's text.
   */
  async control(command: string | readonly string[], options?: AdminOptions): Promise<string> {
    const args = typeof command === "string" ? [command] : [...command];
    if (args.length === 0 || args[0] === "") {
      throw new TypeError(`control() needs a command name, got ${JSON.stringify(command)}`);
    }
    return decodeString(await this.#op(Op.Control, args, options));
  }

  /** A quota (`nodes`, `watches`, ...) of a domain or the global default; 0 means unlimited. */
  async getQuota(quota: string, options: QuotaOptions = {}): Promise<number> {
    const args = options.domid === undefined ? [quota] : [domidArg(options.domid), quota];
    return decodeNumber(await this.#op(Op.GetQuota, args, options), "GET_QUOTA");
  }

  /**
   * The names of the quotas the server supports. oxenstored answers this argument-less
   * request only once another request follows it: pass a `signal` to bound the wait.
   */
  async listQuotas(options?: AdminOptions): Promise<string[]> {
    const text = decodeString(await this.#op(Op.GetQuota, [], options));
    return text.split(/\s+/).filter((s) => s !== "");
  }

  /** Sets a quota of a domain, or the global default. */
  async setQuota(quota: string, value: number, options: QuotaOptions = {}): Promise<void> {
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(`quota "${quota}" must be a non-negative integer, got ${value}`);
    }
    const args = [quota, String(value)];
    if (options.domid !== undefined) args.unshift(domidArg(options.domid));
    await this.#op(Op.SetQuota, args, options);
  }

  #op(type: number, args: string[], options: AdminOptions = {}): Promise<Uint8Array> {
    return this.send(type, encodeArgs(args), options);
  }
}
