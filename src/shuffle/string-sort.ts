/**
 * Stable sort of records whose keys are all strings, in compareKeys order (UTF-16 code units),
 * without calling a comparator per pair: an LSD radix sort over a packed key prefix held in typed
 * arrays, comparisons only for keys that tie on the prefix. Array.prototype.sort with a JS comparator
 * spends its time chasing record and string pointers (~150 ns per comparison on 1M terasort-like
 * keys); this touches each key once.
 * Two entry points: sortByStringKey for an array of [key, value] records, and sortIndexByPrefix for
 * keys held elsewhere (src/shuffle/string-key-run.ts packs them from column batches).
 * Must not reorder records with equal keys.
 */

type Pair = [unknown, unknown];

/** code units of the key prefix sorted by radix; longer keys that tie on it are compared */
export const PREFIX = 6;
/** 32-bit words of packed prefix per key (two 16-bit digits each) */
export const PREFIX_WORDS = PREFIX / 2;

/** New prefix columns for n keys (fill them with packPrefix). */
export function prefixColumns(n: number): Uint32Array[] {
  const cols: Uint32Array[] = [];
  for (let w = 0; w < PREFIX_WORDS; w++) cols.push(new Uint32Array(n));
  return cols;
}

/**
 * Packs the prefix of key s[start, start + len) into row i of cols, one 16-bit digit per code unit:
 * 0 past the end of the key, else code + 1. 0xFFFE and 0xFFFF have one digit (0xFFFF) between them,
 * so from the first of them on every digit is 0xFFFF: keys that differ only from there on tie on the
 * prefix and are compared in full, and the map stays order-preserving.
 */
export function packPrefix(cols: Uint32Array[], i: number, s: string, start: number, len: number): void {
  let sat = false;
  let hi = 0;
  for (let p = 0; p < PREFIX; p++) {
    let d: number;
    if (sat) d = 0xffff;
    else if (p >= len) d = 0;
    else {
      const c = s.charCodeAt(start + p);
      if (c >= 0xfffe) {
        sat = true;
        d = 0xffff;
      } else d = c + 1;
    }
    if (p & 1) cols[p >> 1]![i] = ((hi << 16) | d) >>> 0;
    else hi = d;
  }
}

/** Stable comparison sort of idx[lo, hi) by full key (ties by index, i.e. input order). */
function comparisonSort(idx: Int32Array, cmp: (a: number, b: number) => number, lo: number, hi: number): void {
  const part = Array.from(idx.subarray(lo, hi));
  part.sort((a, b) => cmp(a, b) || a - b);
  idx.set(part, lo);
}

function samePrefix(cols: Uint32Array[], x: number, y: number): boolean {
  for (let w = 0; w < PREFIX_WORDS; w++) if (cols[w]![x] !== cols[w]![y]) return false;
  return true;
}

/**
 * The order of keys 0..n-1 (stable), given their packed prefixes and a comparison of full keys by
 * index (called only for keys whose prefixes are equal; 0 = equal keys).
 * Descending order keeps equal keys in input order, as a stable sort with a reversed comparator does.
 */
export function sortIndexByPrefix(
  cols: Uint32Array[],
  n: number,
  cmp: (a: number, b: number) => number,
  descending = false,
): Int32Array {
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
  for (let a = 0; a < n; ) {
    let b = a + 1;
    while (b < n && samePrefix(cols, idx[a]!, idx[b]!)) b++;
    if (b - a > 1) comparisonSort(idx, cmp, a, b);
    a = b;
  }
  if (descending) {
    idx.reverse();
    // equal keys must keep input order: reverse each run of equal keys back
    for (let a = 0; a < n; ) {
      let b = a + 1;
      while (b < n && samePrefix(cols, idx[a]!, idx[b]!) && cmp(idx[a]!, idx[b]!) === 0) b++;
      if (b - a > 1) idx.subarray(a, b).reverse();
      a = b;
    }
  }
  return idx;
}

/**
 * Sorts `records` by key if every key is a string; returns the sorted array (a new one), or
 * undefined (records untouched) when some key is not a string.
 */
export function sortByStringKey<T extends Pair>(records: T[], descending = false): T[] | undefined {
  const n = records.length;
  const keys: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const k = records[i]![0];
    if (typeof k !== 'string') return undefined;
    keys[i] = k;
  }
  const cols = prefixColumns(n);
  for (let i = 0; i < n; i++) packPrefix(cols, i, keys[i]!, 0, keys[i]!.length);
  const idx = sortIndexByPrefix(
    cols,
    n,
    (a, b) => {
      const ka = keys[a]!;
      const kb = keys[b]!;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    },
    descending,
  );
  const out = new Array<T>(n);
  for (let i = 0; i < n; i++) out[i] = records[idx[i]!]!;
  return out;
}
