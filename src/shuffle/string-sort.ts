/**
 * Stable sort of [key, value] records whose keys are all strings, in compareKeys order (UTF-16 code
 * units), without calling a comparator per pair: an LSD radix sort over a packed key prefix held in
 * typed arrays, comparisons only for keys that tie on the prefix. Array.prototype.sort with a JS
 * comparator spends its time chasing record and string pointers (~150 ns per comparison on 1M
 * terasort-like keys); this touches each key once.
 * Must not reorder records with equal keys.
 */

type Pair = [unknown, unknown];

/** code units of the key prefix sorted by radix; longer keys that tie on it are compared */
const PREFIX = 6;
const WORDS = PREFIX / 2;

/** 16-bit digit of code unit i: 0 = past the end, else min(code, 0xFFFE) + 1 (order-preserving) */
function digitAt(s: string, i: number): number {
  if (i >= s.length) return 0;
  const c = s.charCodeAt(i);
  return c < 0xfffe ? c + 1 : 0xffff;
}

/** Stable comparison sort of idx[lo, hi) by full key (ties by index, i.e. input order). */
function comparisonSort(idx: Int32Array, keys: string[], lo: number, hi: number): void {
  const k0 = keys[idx[lo]!]!;
  let same = true;
  for (let i = lo + 1; i < hi && same; i++) same = keys[idx[i]!] === k0;
  if (same) return; // equal keys: already in input order
  const part = Array.from(idx.subarray(lo, hi));
  part.sort((a, b) => {
    const ka = keys[a]!;
    const kb = keys[b]!;
    return ka < kb ? -1 : ka > kb ? 1 : a - b;
  });
  idx.set(part, lo);
}

/**
 * Sorts `records` by key if every key is a string; returns the sorted array (a new one), or
 * undefined (records untouched) when some key is not a string.
 * How: the first PREFIX code units of every key are packed into typed arrays in one sequential pass,
 * an LSD radix sort (16-bit digits, passes whose digit is the same for all keys skipped) orders an
 * index by them, and runs that tie on the whole prefix are finished by comparing full keys.
 */
export function sortByStringKey<T extends Pair>(records: T[], descending = false): T[] | undefined {
  const n = records.length;
  const keys: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const k = records[i]![0];
    if (typeof k !== 'string') return undefined;
    keys[i] = k;
  }
  const cols: Uint32Array[] = [];
  for (let w = 0; w < WORDS; w++) cols.push(new Uint32Array(n));
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    for (let w = 0; w < WORDS; w++) cols[w]![i] = ((digitAt(k, 2 * w) << 16) | digitAt(k, 2 * w + 1)) >>> 0;
  }
  let idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  let tmp = new Int32Array(n);
  const count = new Int32Array(0x10001);
  for (let pos = PREFIX - 1; pos >= 0 && n > 1; pos--) {
    const col = cols[pos >> 1]!;
    const shift = pos & 1 ? 0 : 16;
    count.fill(0);
    for (let i = 0; i < n; i++) count[((col[idx[i]!]! >>> shift) & 0xffff) + 1]!++;
    if (count[((col[idx[0]!]! >>> shift) & 0xffff) + 1] === n) continue; // one digit for all: nothing to do
    for (let d = 1; d <= 0x10000; d++) count[d]! += count[d - 1]!;
    for (let i = 0; i < n; i++) {
      const x = idx[i]!;
      tmp[count[(col[x]! >>> shift) & 0xffff]!++] = x;
    }
    const t = idx;
    idx = tmp;
    tmp = t;
  }
  // runs equal on the whole prefix: compare full keys
  let a = 0;
  while (a < n) {
    const x = idx[a]!;
    let b = a + 1;
    while (b < n) {
      const y = idx[b]!;
      let eq = true;
      for (let w = 0; w < WORDS && eq; w++) eq = cols[w]![x] === cols[w]![y];
      if (!eq) break;
      b++;
    }
    if (b - a > 1) comparisonSort(idx, keys, a, b);
    a = b;
  }
  const out = new Array<T>(n);
  for (let i = 0; i < n; i++) out[i] = records[idx[i]!]!;
  if (descending) {
    out.reverse();
    // equal keys must keep input order: reverse each run of equal keys back
    let a = 0;
    while (a < n) {
      let b = a + 1;
      const k = out[a]![0];
      while (b < n && out[b]![0] === k) b++;
      if (b - a > 1) {
        for (let x = a, y = b - 1; x < y; x++, y--) {
          const t = out[x]!;
          out[x] = out[y]!;
          out[y] = t;
        }
      }
      a = b;
    }
  }
  return out;
}
