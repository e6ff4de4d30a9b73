/**
 * A `Hypervisor` for a toolstack in another process than the embedded xenstored (`dxl apply`
 * against `dxl serve`): it drives the server's simulated domain table through the
 * embedded-only CONTROL command `dxl-domain` (`create [N]`, `destroy N`, `list`; see
 * `lib/xenstored/ops_dxl_domain.ts`). C xenstored and oxenstored answer that command with an
 * error, which surfaces as {@linkcode DomainControlUnsupportedError}.
 *
 * @module
 */

import { XenstoreError } from "../protocol/errors.ts";
import type { CreatedDomain, DomainBuildRequest, Hypervisor } from "./hypervisor.ts";
import { checkDomid } from "./paths.ts";

/** What {@linkcode ControlHypervisor} needs from a xenstore connection (a `XenstoreClient`). */
export interface DomainControlConnection {
  /** CONTROL with arguments; returns the server's text. */
  control(command: readonly string[]): Promise<string>;
  /** INTRODUCE. */
  introduce(domid: number, gfn: number | bigint, port: number): Promise<void>;
}

/** One domain of the simulated domain table. */
export interface ControlDomain {
  /** Its id. */
  domid: number;
  /** INTRODUCEd and not yet released. */
  introduced: boolean;
}

/**
 * The xenstored does not have the `dxl-domain` command: it is not dxl's embedded server
 * (C xenstored answers `EINVAL`; oxenstored answers `OK` to any CONTROL command it does not
 * know).
 */
export class DomainControlUnsupportedError extends Error {
  /** What the server answered: an errno name, or the text of its reply. */
  readonly answer: string;
  /** An error for a server that answered `answer` to `dxl-domain list`. */
  constructor(answer: string, options?: ErrorOptions) {
    super(
      `This xenstored answered ${JSON.stringify(answer)} to CONTROL dxl-domain list: only ` +
        "dxl's embedded xenstored (dxl serve) can create domains for another process; on a " +
        "real Xen host create them with xl create",
      options,
    );
    this.name = "DomainControlUnsupportedError";
    this.answer = answer;
  }
}

const COMMAND = "dxl-domain";

/**
 * Creates, introduces and destroys domains of an embedded xenstored in another process.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "../client/mod.ts";
 * import { startXenstored } from "../xenstored/mod.ts";
 * import { ControlHypervisor } from "./control_hypervisor.ts";
 * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
 * await using xsd = await startXenstored({ dir });
 * await using xs = await connect({ path: xsd.socket });
 * const hypervisor = new ControlHypervisor(xs);
 * const dom = await hypervisor.createDomain({ uuid: crypto.randomUUID() });
 * assert.equal(dom.domid, 1);
 * await hypervisor.introduceDomain(dom);
 * assert.deepEqual(await hypervisor.list(), [
 *   { domid: 0, introduced: true },
 *   { domid: 1, introduced: true },
 * ]);
 * await hypervisor.destroyDomain(dom.domid);
 * assert.equal(await xs.isDomainIntroduced(1), false);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class ControlHypervisor implements Hypervisor {
  readonly #xs: DomainControlConnection;

  /** Drives the domain table of the embedded xenstored that `xs` is connected to. */
  constructor(xs: DomainControlConnection) {
    this.#xs = xs;
  }

  /**
   * Whether the server has the `dxl-domain` commands (only dxl's embedded xenstored does).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { connect } from "../client/mod.ts";
   * import { startXenstored } from "../xenstored/mod.ts";
   * import { ControlHypervisor } from "./control_hypervisor.ts";
   * const dir = await Deno.makeTempDir({ prefix: "dxl-doc-", dir: "/tmp" });
   * await using xsd = await startXenstored({ dir });
   * await using xs = await connect({ path: xsd.socket });
   * assert.equal(await ControlHypervisor.supported(xs), true);
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  static async supported(xs: DomainControlConnection): Promise<boolean> {
    try {
      await listOf(xs);
      return true;
    } catch (e) {
      if (e instanceof DomainControlUnsupportedError) return false;
      throw e;
    }
  }

  #checked: Promise<ControlDomain[]> | undefined;

  /** Runs `dxl-domain <args>` once the server has shown it has the command. */
  async #run(args: string[]): Promise<string> {
    this.#checked ??= listOf(this.#xs);
    try {
      await this.#checked;
    } catch (e) {
      this.#checked = undefined;
      throw e;
    }
    try {
      return await this.#xs.control([COMMAND, ...args]);
    } catch (e) {
      if (!(e instanceof XenstoreError)) throw e;
      const domid = args[1];
      if (e.code === "EEXIST") {
        throw new RangeError(`domain ${domid} already exists`, { cause: e });
      }
      if (e.code === "ENOENT" && args[0] === "destroy") {
        throw new RangeError(`no domain ${domid}`, { cause: e });
      }
      if (e.code === "ENOSPC") throw new RangeError("no free domain id", { cause: e });
      throw e;
    }
  }

  /** Creates a domain in the server's table (the requested id, or the lowest free one). */
  async createDomain(request: DomainBuildRequest): Promise<CreatedDomain> {
    const args = ["create"];
    if (request.domid !== undefined) args.push(String(checkDomid(request.domid)));
    const reply = await this.#run(args);
    const fields = new Map(reply.split(" ").map((kv) => kv.split("=") as [string, string]));
    const num = (name: string): number => {
      const v = Number(fields.get(name));
      if (!Number.isInteger(v)) {
        throw new TypeError(`dxl-domain create: no ${name} in the reply ${JSON.stringify(reply)}`);
      }
      return v;
    };
    return {
      domid: num("domid"),
      store: { gfn: num("store-gfn"), port: num("store-port") },
      console: { gfn: num("console-gfn"), port: num("console-port") },
    };
  }

  /** INTRODUCEs the domain with its store ring. */
  async introduceDomain(domain: CreatedDomain): Promise<void> {
    await this.#xs.introduce(domain.domid, domain.store.gfn, domain.store.port);
  }

  /** Destroys the domain: the server releases it (if introduced) and forgets it. */
  async destroyDomain(domid: number): Promise<void> {
    await this.#run(["destroy", String(checkDomid(domid))]);
  }

  /** The domains of the server's table, lowest id first. */
  async list(): Promise<ControlDomain[]> {
    return await listOf(this.#xs);
  }
}

const LIST_LINE = /^([0-9]+) (introduced|created)$/;

/** `dxl-domain list`, parsed; a server without the command throws. */
async function listOf(xs: DomainControlConnection): Promise<ControlDomain[]> {
  let text: string;
  try {
    text = await xs.control([COMMAND, "list"]);
  } catch (e) {
    if (e instanceof XenstoreError) throw new DomainControlUnsupportedError(e.code, { cause: e });
    throw e;
  }
  // dom0 always exists, so a real answer is never empty.
  const lines = text.split("\n").filter((l) => l !== "");
  const parsed = lines.map((l) => LIST_LINE.exec(l));
  if (parsed.length === 0 || parsed.some((m) => m === null)) {
    throw new DomainControlUnsupportedError(text);
  }
  return parsed.map((m) => ({
    domid: Number((m as RegExpExecArray)[1]),
    introduced: (m as RegExpExecArray)[2] === "introduced",
  }));
}
