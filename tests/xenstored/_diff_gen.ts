/**
 * The seeded generator of the differential test: random request sequences over several
 * connections (two dom0 clients, two guests), with transactions, watches, permissions and bad
 * paths. It avoids only the documented divergences between C xenstored 4.17 and the embedded
 * server (README.md, "Where it differs from C xenstored"): D1 inputs (which crash C) and the requests
 * C 4.17 does not have (GET/SET_FEATURE, GET/SET_QUOTA, WATCH with a depth).
 *
 * @module
 */

/** A deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One generated step. */
export interface Step {
  /** Index of the connection that sends it. */
  conn: number;
  /** Message type. */
  type: number;
  /** Payload as a binary string. */
  payload: string;
  /** Transaction: -1 none, -2 a bogus id, otherwise the index of an open transaction. */
  tx: number;
}

/** What the generator knows of the connections. */
export interface GenState {
  /** Guest domids by connection index (undefined for dom0 connections). */
  guests: (number | undefined)[];
  /** Open transaction count per connection (the runner keeps it up to date). */
  openTx: number[];
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

/** Generates the next step. */
export function nextStep(r: () => number, st: GenState): Step {
  const conn = Math.floor(r() * st.guests.length);
  const g = st.guests.filter((x): x is number => x !== undefined);
  const [g1, g2] = [g[0] ?? 1, g[1] ?? 2];
  const abs = [
    "/t",
    "/t/a",
    "/t/a/b",
    "/t/a/b/c",
    "/t/b",
    "/t/c/d",
    "/u/x",
    `/local/domain/${g1}/p`,
    `/local/domain/${g1}/p/q`,
    `/local/domain/${g2}/p`,
    `/local/domain/${g2}`,
    `/local/domain/${g2}/q/r`,
  ];
  const rel = ["p", "p/q", "q", "data/x"];
  const bad = ["/t//a", "/t/", "t/", "/t/a b", "@introduceDomain", "@releaseDomain/x", "/", "/t/é"];
  const path = () => {
    const x = r();
    return x < 0.65 ? pick(r, abs) : x < 0.85 ? pick(r, rel) : pick(r, bad);
  };
  const value = () => {
    const x = r();
    if (x < 0.1) return "";
    if (x < 0.2) return "\x00\xff\x80bin";
    return `v${Math.floor(r() * 1000)}`;
  };
  const owners = [0, g1, g2, 99];
  const perms = () => {
    const letters = ["n", "r", "w", "b"];
    const n = 1 + Math.floor(r() * 3);
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      out.push(pick(r, letters) + String(pick(r, i === 0 ? owners : [0, g1, g2, 7])));
    }
    if (r() < 0.05) out.push(pick(r, ["x1", "r", "r1x", "b0x10"]));
    return out;
  };
  const tokens = ["t1", "t2"];
  const open = st.openTx[conn] ?? 0;
  const tx = (() => {
    const x = r();
    if (x < 0.03) return -2;
    if (open > 0 && x < 0.5) return Math.floor(r() * open);
    return -1;
  })();
  const z = (...args: string[]) => args.map((a) => `${a}\0`).join("");
  const x = r();
  if (x < 0.16) return { conn, type: 2, payload: z(path()), tx };
  if (x < 0.32) return { conn, type: 11, payload: `${path()}\0${value()}`, tx };
  if (x < 0.37) return { conn, type: 12, payload: z(path()), tx };
  if (x < 0.44) return { conn, type: 13, payload: z(path()), tx };
  if (x < 0.50) return { conn, type: 1, payload: z(path()), tx };
  if (x < 0.53) return { conn, type: 22, payload: z(path(), pick(r, ["0", "1", "3", "100"])), tx };
  if (x < 0.57) return { conn, type: 3, payload: z(path()), tx };
  if (x < 0.63) {
    // C answers a failed SET_PERMS on a special path with a stale errno (D20): avoid it.
    let p = path();
    if (p.startsWith("@") && (st.guests[conn] !== undefined || p.includes("/"))) p = "/t";
    // A guest owning "/" makes C delete the whole store on release (D22): avoid it.
    if (p === "/") p = "/t";
    return { conn, type: 14, payload: z(p, ...perms()), tx };
  }
  if (x < 0.69) {
    return {
      conn,
      type: 4,
      payload: z(
        pick(r, [...abs, ...rel, "@releaseDomain", "@introduceDomain", "/"]),
        pick(r, tokens),
      ),
      tx,
    };
  }
  if (x < 0.72) {
    return {
      conn,
      type: 5,
      payload: z(pick(r, [...abs, ...rel, "@releaseDomain"]), pick(r, tokens)),
      tx,
    };
  }
  if (x < 0.79) return { conn, type: 6, payload: "\0", tx: r() < 0.9 ? -1 : tx };
  if (x < 0.87) {
    return {
      conn,
      type: 7,
      payload: pick(r, ["T\0", "T\0", "F\0", "X\0"]),
      tx: open > 0 ? Math.floor(r() * open) : tx,
    };
  }
  if (x < 0.88) return { conn, type: 21, payload: "\0", tx: -1 };
  if (x < 0.90) return { conn, type: 10, payload: z(pick(r, ["0", "5", "-1", "1x", "abc"])), tx };
  if (x < 0.92) {
    return { conn, type: 17, payload: z(pick(r, ["0", String(g1), "77", "32752"])), tx };
  }
  if (x < 0.93) return { conn, type: pick(r, [15, 16, 20, 27, 99]), payload: z("/t"), tx };
  if (x < 0.94) {
    const guest = st.guests.findIndex((d) => d !== undefined);
    return { conn: guest < 0 ? conn : guest, type: 8, payload: z("55", "0", "1"), tx: -1 };
  }
  if (x < 0.95) return { conn, type: 0, payload: z(pick(r, ["check", "bogus"])), tx: -1 };
  if (x < 0.955) {
    return {
      conn,
      type: 19,
      payload: z(String(pick(r, [g1, g2])), String(pick(r, [g1, g2, 77]))),
      tx: -1,
    };
  }
  if (x < 0.96) return { conn, type: 18, payload: z(String(pick(r, [g1, g2, 0, 77]))), tx: -1 };
  return { conn, type: 11, payload: `${pick(r, abs)}\0${value()}`, tx: -1 };
}
