/** StatCounter, as returned by RDD.stats() (PySpark's pyspark.statcounter.StatCounter). */
import { mergeStats, type StatCounterData } from '../common/stats.js';

export class StatCounter {
  constructor(private readonly d: StatCounterData) {}
  static merge(parts: StatCounterData[]): StatCounter {
    return new StatCounter(
      parts.reduce(mergeStats, { n: 0, mu: 0, m2: 0, max: Number.NEGATIVE_INFINITY, min: Number.POSITIVE_INFINITY }),
    );
  }
  count(): number {
    return this.d.n;
  }
  mean(): number {
    return this.d.n === 0 ? Number.NaN : this.d.mu;
  }
  sum(): number {
    return this.d.n * this.d.mu;
  }
  min(): number {
    return this.d.min;
  }
  max(): number {
    return this.d.max;
  }
  /** population variance */
  variance(): number {
    return this.d.n === 0 ? Number.NaN : this.d.m2 / this.d.n;
  }
  sampleVariance(): number {
    return this.d.n <= 1 ? Number.NaN : this.d.m2 / (this.d.n - 1);
  }
  stdev(): number {
    return Math.sqrt(this.variance());
  }
  sampleStdev(): number {
    return Math.sqrt(this.sampleVariance());
  }
  toString(): string {
    return `(count: ${this.count()}, mean: ${this.mean()}, stdev: ${this.stdev()}, max: ${this.max()}, min: ${this.min()})`;
  }
}
