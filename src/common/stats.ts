/** Running count, mean, variance, min and max (Welford), mergeable across partitions: PySpark's StatCounter data. */

export interface StatCounterData {
  n: number;
  mu: number;
  m2: number;
  max: number;
  min: number;
}

export function statsOf(records: Iterable<unknown>): StatCounterData {
  let n = 0;
  let mu = 0;
  let m2 = 0;
  let max = Number.NEGATIVE_INFINITY;
  let min = Number.POSITIVE_INFINITY;
  for (const r of records) {
    const x = Number(r);
    n++;
    const d = x - mu;
    mu += d / n;
    m2 += d * (x - mu);
    if (x > max) max = x;
    if (x < min) min = x;
  }
  return { n, mu, m2, max, min };
}

export function mergeStats(a: StatCounterData, b: StatCounterData): StatCounterData {
  if (a.n === 0) return { ...b };
  if (b.n === 0) return { ...a };
  const n = a.n + b.n;
  const delta = b.mu - a.mu;
  return {
    n,
    mu: a.mu + (delta * b.n) / n,
    m2: a.m2 + b.m2 + (delta * delta * a.n * b.n) / n,
    max: Math.max(a.max, b.max),
    min: Math.min(a.min, b.min),
  };
}
