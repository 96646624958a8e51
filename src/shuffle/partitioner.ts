/**
 * Partitioners and key semantics for the shuffle: a hash that is identical in every process
 * (never depends on object identity, insertion order of object keys, or -0 vs 0), a total order over all
 * key types, and range bounds drawn from a key sample (sortByKey).
 * Must not allocate per call on the hot path for strings and numbers; must stay pure (no I/O).
 */

export type PartitionerSpec =
  | { kind: 'hash'; numPartitions: number }
  | { kind: 'range'; numPartitions: number; bounds: unknown[]; ascending: boolean };

export type Compare = (a: unknown, b: unknown) => number;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const f64 = new DataView(new ArrayBuffer(8));

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function hashChars(s: string, h: number): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h;
}

function hashNumber(n: number): number {
  if ((n | 0) === n) return fmix(n ^ 0x3c6ef372); // int32, and -0 (which equals 0)
  if (Number.isNaN(n)) return 0x7ff80000;
  f64.setFloat64(0, n, true);
  return fmix(Math.imul(f64.getInt32(0, true), 31) ^ f64.getInt32(4, true) ^ 0x1b873593);
}

function h32(k: unknown): number {
  switch (typeof k) {
    case 'string':
      return fmix(hashChars(k, FNV_OFFSET));
    case 'number':
      return hashNumber(k);
    case 'boolean':
      return k ? 0x4d2a1c11 : 0x2f6b9e05;
    case 'undefined':
      return 0x0badf00d;
    case 'bigint':
      // bigints in the safe range hash like the equal number (msgpack may turn one into the other)
      if (k >= -9007199254740991n && k <= 9007199254740991n) return hashNumber(Number(k));
      return fmix(hashChars(k.toString(), 0x7a3b9c1d));
    case 'object': {
      if (k === null) return 0x1f2e3d4c;
      if (Array.isArray(k)) {
        let h = 0x6a09e667;
        for (let i = 0; i < k.length; i++) h = (Math.imul(h, 31) + h32(k[i])) | 0;
        return fmix(h ^ k.length);
      }
      if (k instanceof Uint8Array) {
        let h = 0x510e527f;
        for (let i = 0; i < k.length; i++) {
          h ^= k[i]!;
          h = Math.imul(h, FNV_PRIME);
        }
        return fmix(h);
      }
      if (k instanceof Date) return fmix(hashNumber(k.getTime()) ^ 0x5be0cd19);
      const o = k as Record<string, unknown>;
      const keys = Object.keys(o).sort();
      let h = 0x3c6ef372;
      for (const key of keys) h = (Math.imul(h, 31) + (hashChars(key, FNV_OFFSET) ^ h32(o[key]))) | 0;
      return fmix(h ^ keys.length);
    }
    default:
      throw new TypeError(`cannot hash a ${typeof k} key; keys must be plain data`);
  }
}

/** A non-negative 32-bit hash of a key, equal for equal keys in every process. */
export function portableHash(key: unknown): number {
  return h32(key) >>> 0;
}

function rank(v: unknown): number {
  switch (typeof v) {
    case 'undefined':
      return 0;
    case 'boolean':
      return 2;
    case 'number':
    case 'bigint':
      return 3;
    case 'string':
      return 4;
    case 'object':
      if (v === null) return 1;
      if (Array.isArray(v)) return 5;
      if (v instanceof Uint8Array) return 6;
      if (v instanceof Date) return 7;
      return 8;
    default:
      return 9;
  }
}

/**
 * Total order over keys: undefined < null < booleans < numbers and bigints (by value; NaN last; on a tie
 * number < bigint) < strings (UTF-16 code units) < arrays (lexicographic) < Buffers (bytewise) < Dates
 * < plain objects (by sorted entries).
 */
export function compareKeys(a: unknown, b: unknown): number {
  const ta = typeof a;
  if (ta === typeof b) {
    if (ta === 'string') return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
    if (ta === 'number') {
      if ((a as number) < (b as number)) return -1;
      if ((a as number) > (b as number)) return 1;
      if (a === b) return 0;
      const na = Number.isNaN(a);
      const nb = Number.isNaN(b);
      return na === nb ? 0 : na ? 1 : -1;
    }
  }
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 2:
      return a === b ? 0 : a ? 1 : -1;
    case 3: {
      const na = typeof a === 'number' && Number.isNaN(a);
      const nb = typeof b === 'number' && Number.isNaN(b);
      if (na || nb) return na === nb ? 0 : na ? 1 : -1;
      if ((a as number) < (b as number)) return -1;
      if ((a as number) > (b as number)) return 1;
      if (typeof a === typeof b) return 0;
      return typeof a === 'number' ? -1 : 1;
    }
    case 5: {
      const x = a as unknown[];
      const y = b as unknown[];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compareKeys(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length - y.length < 0 ? -1 : x.length > y.length ? 1 : 0;
    }
    case 6:
      return Buffer.compare(a as Uint8Array, b as Uint8Array);
    case 7: {
      const d = (a as Date).getTime() - (b as Date).getTime();
      return d < 0 ? -1 : d > 0 ? 1 : 0;
    }
    case 8: {
      const x = a as Record<string, unknown>;
      const y = b as Record<string, unknown>;
      const kx = Object.keys(x).sort();
      const ky = Object.keys(y).sort();
      const n = Math.min(kx.length, ky.length);
      for (let i = 0; i < n; i++) {
        const c = compareKeys(kx[i], ky[i]) || compareKeys(x[kx[i]!], y[ky[i]!]);
        if (c !== 0) return c;
      }
      return kx.length < ky.length ? -1 : kx.length > ky.length ? 1 : 0;
    }
    default:
      return 0; // undefined, null
  }
}

/**
 * Up to numPartitions-1 strictly increasing bounds splitting a key sample into equal-count ranges.
 * Fewer bounds come back when the sample has fewer distinct keys.
 */
export function rangeBounds(sample: unknown[], numPartitions: number, compare: Compare = compareKeys): unknown[] {
  if (numPartitions <= 1 || sample.length === 0) return [];
  // Array.prototype.sort puts undefined last without asking compare; keys order it first
  const sorted: unknown[] = sample.filter((k) => k === undefined);
  for (const k of sample.filter((k) => k !== undefined).sort(compare)) sorted.push(k);
  const bounds: unknown[] = [];
  for (let i = 1; i < numPartitions; i++) {
    const candidate = sorted[Math.min(sorted.length - 1, Math.floor((i * sorted.length) / numPartitions))];
    if (bounds.length === 0 || compare(candidate, bounds[bounds.length - 1]) > 0) bounds.push(candidate);
  }
  return bounds;
}

/** The partition function for a spec; deterministic across processes. */
export function partitionFn(spec: PartitionerSpec, compare: Compare = compareKeys): (key: unknown) => number {
  const n = spec.numPartitions;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`numPartitions must be a positive integer, got ${n}`);
  if (spec.kind === 'hash') {
    if (n === 1) return () => 0;
    return (key) => portableHash(key) % n;
  }
  const bounds = spec.bounds;
  const nb = bounds.length;
  if (nb > n - 1) throw new RangeError(`range partitioner has ${nb} bounds for ${n} partitions (at most ${n - 1})`);
  const asc = spec.ascending;
  return (key) => {
    // first bound >= key
    let lo = 0;
    let hi = nb;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(key, bounds[mid]) > 0) lo = mid + 1;
      else hi = mid;
    }
    return asc ? lo : nb - lo;
  };
}
