/**
 * Tiny path helpers for tests (no `@std/path` without JSR).
 *
 * @module
 */

/** Converts a `file:` URL to a filesystem path. */
export function fromFileUrl(url: URL): string {
  if (url.protocol !== "file:") throw new TypeError(`Not a file URL: ${url.href}`);
  return decodeURIComponent(url.pathname);
}

/** Joins POSIX path parts with single slashes and resolves `.` and `..`. */
export function joinPosix(...parts: string[]): string {
  const absolute = parts[0]?.startsWith("/") ?? false;
  const out: string[] = [];
  for (const seg of parts.join("/").split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return (absolute ? "/" : "") + out.join("/");
}
