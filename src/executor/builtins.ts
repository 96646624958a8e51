/**
 * Engine-provided partition functions, referenced by name from plans ({ op: 'builtin' }).
 * Each takes the whole partition (an iterable that may be read back from disk: iterate it once, do not
 * index it) and returns the output records (an array or a generator). They run on executors and, for
 * tests, anywhere; they must stay pure.
 */
import { mapKey } from '../common/map-key.js';
import { rng } from '../common/random.js';
import { statsOf } from '../common/stats.js';
import type { BuiltinAggregatorName, BuiltinOpName, StreamingBuiltinOpName } from '../plan/builtins.js';

export type Builtin = (records: Iterable<unknown>, args: any, partition: number) => Iterable<unknown>;

function poisson(mean: number, rand: () => number): number {
  // Knuth for small means, normal approximation for large ones
  if (mean < 30) {
    const l = Math.exp(-mean);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= rand();
    } while (p > l);
    return k - 1;
  }
  const u = Math.max(rand(), 1e-12);
  const v = rand();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return Math.max(0, Math.round(mean + Math.sqrt(mean) * z));
}

/** A well-mixed 32-bit hash of a value (murmur3's finalizer over FNV-1a of its key form), for HyperLogLog. */
function hash32(v: unknown): number {
  const s = typeof v === 'string' ? `s${v}` : typeof v === 'number' ? `n${v}` : `o${String(mapKey(v))}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Every builtin a plan may name (the names are src/plan/builtins.ts's, checked here at compile time). */
export const BUILTINS: Readonly<Record<string, Builtin>> = {
  *sample(records, args: { withReplacement: boolean; fraction: number; seed: number }, partition) {
    const rand = rng((args.seed ^ Math.imul(partition + 1, 0x9e3779b1)) >>> 0);
    if (args.withReplacement) {
      for (const r of records) {
        const k = poisson(args.fraction, rand);
        for (let i = 0; i < k; i++) yield r;
      }
    } else {
      for (const r of records) if (rand() < args.fraction) yield r;
    }
  },
  /** randomSplit: keep records whose uniform draw falls in [lb, ub) */
  *sampleRange(records, args: { lb: number; ub: number; seed: number }, partition) {
    const rand = rng((args.seed ^ Math.imul(partition + 1, 0x9e3779b1)) >>> 0);
    for (const r of records) {
      const x = rand();
      if (x >= args.lb && x < args.ub) yield r;
    }
  },
  /** sampleByKey: each key's records sampled with its own fraction */
  *sampleByKey(
    records,
    args: { withReplacement: boolean; fractions: Array<[unknown, number]>; seed: number },
    partition,
  ) {
    const rand = rng((args.seed ^ Math.imul(partition + 1, 0x9e3779b1)) >>> 0);
    const fractions = new Map(args.fractions);
    for (const r of records) {
      const k = mapKey((r as [unknown, unknown])[0]);
      const f = fractions.get(k);
      if (f === undefined) throw new Error(`sampleByKey: no fraction given for key ${String((r as unknown[])[0])}`);
      if (args.withReplacement) {
        const n = poisson(f, rand);
        for (let i = 0; i < n; i++) yield r;
      } else if (rand() < f) yield r;
    }
  },
  /** countApproxDistinct: the partition's HyperLogLog registers (2^p of them) */
  hllRegisters(records, args: { p: number }) {
    const m = 1 << args.p;
    const reg = new Uint8Array(m);
    for (const r of records) {
      const h = hash32(r);
      const idx = h >>> (32 - args.p);
      const rest = (h << args.p) | (1 << (args.p - 1));
      const rank = Math.clz32(rest) + 1;
      if (rank > reg[idx]!) reg[idx] = rank;
    }
    return [reg];
  },
  countByValue(records) {
    const m = new Map<unknown, [unknown, number]>();
    for (const r of records) {
      const k = mapKey(r);
      const e = m.get(k);
      if (e) e[1]++;
      else m.set(k, [r, 1]);
    }
    return [...m.values()];
  },
  stats(records) {
    return [statsOf(records)];
  },
  glom(records) {
    return [Array.isArray(records) ? records : Array.from(records)];
  },
  *zipWithIndex(records, args: { offsets: number[] }, partition) {
    let i = args.offsets[partition] ?? 0;
    for (const r of records) yield [r, i++];
  },
  *zipWithUniqueId(records, args: { n: number }, partition) {
    let i = 0;
    for (const r of records) yield [r, i++ * args.n + partition];
  },
  /** buckets are numbers, or (not evenly spaced) any values ordered by < such as strings, like PySpark's bisect */
  histogram(records, args: { buckets: number[]; evenly: boolean }) {
    const b = args.buckets;
    const counts = new Array<number>(b.length - 1).fill(0);
    const lo = b[0]!;
    const hi = b[b.length - 1]!;
    const width = (hi - lo) / (b.length - 1);
    const numeric = typeof lo === 'number';
    for (const r of records) {
      if (r === null || r === undefined) continue;
      const x = (numeric ? Number(r) : r) as number;
      if (Number.isNaN(x) || x < lo || x > hi) continue;
      let i: number;
      if (args.evenly) i = x === hi ? b.length - 2 : Math.floor((x - lo) / width);
      else {
        // binary search: last bucket is closed on the right
        let l = 0;
        let h = b.length - 2;
        while (l < h) {
          const m = (l + h + 1) >> 1;
          if (b[m]! <= x) l = m;
          else h = m - 1;
        }
        i = l;
      }
      counts[Math.min(i, b.length - 2)]!++;
    }
    return [counts];
  },
  identity(records) {
    return records;
  },
} satisfies Record<BuiltinOpName, Builtin>;

/** A builtin that reads its partition once, front to back: fed batch by batch, never buffered. */
export type StreamingBuiltin = (args: any, partition: number) => { add(batch: unknown[]): void; end(): unknown[] };

export const STREAMING_BUILTINS: Readonly<Record<string, StreamingBuiltin>> = {
  /** used by sortBy/sortByKey to sample keys for range bounds: a reservoir sample of each partition's keys */
  sampleKeys(args: { perPartition: number; seed: number }, partition) {
    const rand = rng((args.seed ^ partition) >>> 0);
    const out: unknown[] = [];
    let seen = 0;
    return {
      add(batch) {
        for (let i = 0; i < batch.length; i++) {
          const k = (batch[i] as unknown[])[0];
          if (out.length < args.perPartition) out.push(k);
          else {
            const j = Math.floor(rand() * (seen + 1));
            if (j < args.perPartition) out[j] = k;
          }
          seen++;
        }
      },
      end: () => out,
    };
  },
} satisfies Record<StreamingBuiltinOpName, StreamingBuiltin>;

export const BUILTIN_AGGREGATORS = {
  groupByKey: {
    createCombiner: (v: unknown) => [v],
    mergeValue: (c: unknown[], v: unknown) => {
      c.push(v);
      return c;
    },
    mergeCombiners: (a: unknown[], b: unknown[]) => {
      for (const x of b) a.push(x);
      return a;
    },
  },
} as const satisfies Record<BuiltinAggregatorName, unknown>;
