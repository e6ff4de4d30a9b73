/**
 * A small seeded PRNG (mulberry32) so randomized tests are reproducible: each test prints
 * its seed when it fails, and passing that seed to {@linkcode withSeed} replays the run.
 *
 * @module
 */

/** A seeded generator of floats in [0, 1) and integers. */
export interface Prng {
  /** The seed, to print on failure. */
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
}

/** Creates a generator; without a seed, one is taken from the clock. */
export function prng(seed: number = Date.now() % 0x7fffffff): Prng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { seed, next, int: (min, max) => min + Math.floor(next() * (max - min + 1)) };
}

/** Runs `fn` with a generator; on failure rethrows with the seed in the message. */
export function withSeed(fn: (rng: Prng) => void, seed?: number): void {
  const rng = prng(seed);
  try {
    fn(rng);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`failed with seed ${rng.seed} (pass it to withSeed to replay): ${message}`, {
      cause: error,
    });
  }
}
