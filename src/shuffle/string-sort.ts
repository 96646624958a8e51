/**
 * Stable sort of [key, value] records whose keys are all strings, in compareKeys order (UTF-16 code
 * units), without calling a comparator per pair: an MSD radix sort over the keys' code units on a
 * typed index array (one digit per code unit below 255, one shared digit for the rest, sorted by
 * comparison), insertion sort for small ranges. Sorting 1M terasort-like keys this way is several
 * times faster than Array.prototype.sort with a JS comparator, whose cost is dominated by chasing
 * record and string pointers (bench/micro/sort.ts).
 * Must not reorder records with equal keys.
 */

type Pair = [unknown, unknown];

const SMALL = 24;
/** digits: 0 = end of key, 1..255 = code units 0..254, 256 = code units >= 255 */
const RADIX = 257;
const HIGH = 256;

function digit(s: string, depth: number): number {
  if (depth >= s.length) return 0;
  const c = s.charCodeAt(depth);
  return c < 255 ? c + 1 : HIGH;
}

/** Stable insertion sort of idx[lo, hi) by key (all keys share their first `depth` code units). */
function insertion(idx: Int32Array, keys: string[], lo: number, hi: number): void {
  for (let i = lo + 1; i < hi; i++) {
    const x = idx[i]!;
    const kx = keys[x]!;
    let j = i - 1;
    while (j >= lo && keys[idx[j]!]! > kx) {
      idx[j + 1] = idx[j]!;
      j--;
    }
    idx[j + 1] = x;
  }
}

/** Stable comparison sort of idx[lo, hi) by key (ties by index, i.e. input order). */
function comparisonSort(idx: Int32Array, keys: string[], lo: number, hi: number): void {
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
 */
export function sortByStringKey<T extends Pair>(records: T[], descending = false): T[] | undefined {
  const n = records.length;
  const keys: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const k = records[i]![0];
    if (typeof k !== 'string') return undefined;
    keys[i] = k;
  }
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const tmp = new Int32Array(n);
  const digits = new Uint16Array(n);
  const counts = new Int32Array(RADIX + 1);
  // explicit stack of ranges [lo, hi, depth]
  const stack: number[] = [0, n, 0];
  while (stack.length > 0) {
    const depth = stack.pop()!;
    const hi = stack.pop()!;
    const lo = stack.pop()!;
    if (hi - lo <= SMALL) {
      insertion(idx, keys, lo, hi);
      continue;
    }
    counts.fill(0);
    for (let i = lo; i < hi; i++) {
      const d = digit(keys[idx[i]!]!, depth);
      digits[i] = d;
      counts[d + 1]!++;
    }
    for (let d = 1; d <= RADIX; d++) counts[d]! += counts[d - 1]!;
    // counts[d] is now the start of digit d's bucket (relative to lo)
    for (let i = lo; i < hi; i++) tmp[lo + counts[digits[i]!]!++] = idx[i]!;
    idx.set(tmp.subarray(lo, hi), lo);
    // after the pass counts[d] is the end of bucket d; bucket 0 (keys that ended) is already final
    for (let d = 1; d < RADIX; d++) {
      const b0 = lo + counts[d - 1]!;
      const b1 = lo + counts[d]!;
      if (b1 - b0 <= 1) continue;
      if (d === HIGH) comparisonSort(idx, keys, b0, b1);
      else stack.push(b0, b1, depth + 1);
    }
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
