/**
 * Turning zod's issues and the libxl builders' errors into config issues with exact paths
 * (`domains["web"].disks[1].vdev`) and messages that quote the value.
 *
 * @module
 */

import type { z } from "zod";
import type { ConfigIssue } from "./errors.ts";

/** A path segment: an object key or an array index. */
export type Segment = string | number;

/** How a value is quoted in a message. */
export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return "an array";
  return `an ${typeof value}`;
}

const ARTICLE: Record<string, string> = {
  string: "a string",
  number: "a number",
  boolean: "a boolean",
  object: "an object",
  array: "an array",
  int: "an integer",
};

/**
 * Renders a path from the config's root. `names[i]` is domain i's name when it has a usable
 * one (a string given to one domain only); the domain is then `domains["web"]`, else
 * `domains[i]`.
 */
export function renderPath(
  path: readonly Segment[],
  names: readonly (string | undefined)[],
): string {
  let out = "";
  path.forEach((segment, i) => {
    if (i === 1 && path[0] === "domains" && typeof segment === "number") {
      const name = names[segment];
      out += name === undefined ? `[${segment}]` : `[${JSON.stringify(name)}]`;
    } else if (typeof segment === "number") {
      out += `[${segment}]`;
    } else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) {
      out += i === 0 ? segment : `.${segment}`;
    } else {
      out += `[${JSON.stringify(segment)}]`;
    }
  });
  return out === "" ? "(config)" : out;
}

/** A raw issue: a path of segments and a message. */
export interface RawIssue {
  /** Where, from the config's root. */
  path: Segment[];
  /** What is wrong. */
  message: string;
}

function unionMessage(issue: z.core.$ZodIssueInvalidUnion, input: unknown): string {
  const wanted = issue.errors.map((branch) => {
    const root = branch.find((i) => i.path.length === 0 && i.code === "invalid_type");
    return root?.code === "invalid_type" ? ARTICLE[root.expected] ?? root.expected : undefined;
  }).filter((w): w is string => w !== undefined);
  return `expected ${wanted.length > 0 ? wanted.join(" or ") : "another value"}, got ${
    describe(input)
  }`;
}

/** Converts one zod issue (parsed with `reportInput: true`) into raw issues under `prefix`. */
export function fromZod(issue: z.core.$ZodIssue, prefix: readonly Segment[]): RawIssue[] {
  const path: Segment[] = [...prefix, ...issue.path.map((p) => p as Segment)];
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case "invalid_type":
      if (input === undefined) return [{ path, message: "is required" }];
      return [{
        path,
        message: `expected ${ARTICLE[issue.expected] ?? issue.expected}, got ${describe(input)}`,
      }];
    case "unrecognized_keys":
      return issue.keys.map((key) => ({ path: [...path, key], message: "unknown field" }));
    case "invalid_value":
      return [{
        path,
        message: `expected ${issue.values.map((v) => JSON.stringify(v)).join(" or ")}, got ${
          describe(input)
        }`,
      }];
    case "invalid_union": {
      // An object in a string-or-object union: report what is wrong inside the object.
      if (typeof input === "object" && input !== null && !Array.isArray(input)) {
        const branch = issue.errors.find((b) =>
          !b.some((i) => i.path.length === 0 && i.code === "invalid_type")
        );
        if (branch !== undefined) return branch.flatMap((i) => fromZod(i, path));
      }
      return [{ path, message: unionMessage(issue, input) }];
    }
    default:
      return [{ path, message: issue.message }];
  }
}

/** Renders raw issues, sorted by where they are (stable within one path). */
export function render(
  raw: readonly RawIssue[],
  names: readonly (string | undefined)[],
): ConfigIssue[] {
  return raw.map((i) => ({ path: renderPath(i.path, names), message: i.message }));
}
