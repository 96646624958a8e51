/** The engine's seeded random numbers (sample, takeSample, key sampling): the same seed gives the same draws everywhere. */

/** Seeded PRNG (mulberry32), so sample() is reproducible for a given seed and partition. */
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
