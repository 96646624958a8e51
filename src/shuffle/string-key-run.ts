/**
 * An in-memory run of [key, value] records with string keys, held column-wise for the reduce side of
 * a sort: each column batch's keys (and string values) stay one decoded string per batch, and a row
 * is five int32s into them plus its packed key prefix (src/shuffle/string-sort.ts). Records become
 * objects only when handed out, in sorted slices that die young, so a run of millions of rows costs
 * the GC almost nothing (decoded, each row was a pair and two strings, ~140 heap bytes that lived
 * through every scavenge until the sort).
 * Batches that came as records (msgpack, or short) are kept as they are, rows pointing into them.
 * Must not reorder rows with equal keys.
 */
import type { StringKeyColumns, TextColumn } from '../storage/record-codec.js';
import { estimateRecordsSize } from '../storage/size-estimator.js';
import { PREFIX_WORDS, packPrefix, prefixColumns, sortIndexByPrefix } from './string-sort.js';

type Pair = [unknown, unknown];

type RunBatch =
  | { kind: 'cols'; keys: string; values: string | Int32Array | Float64Array }
  | { kind: 'pairs'; records: readonly Pair[] };

/** heap bytes per row: six int32 columns (batch, key start/length, value start/length) and the prefix */
const ROW_BYTES = 4 * (5 + PREFIX_WORDS);

function textBytes(c: TextColumn): number {
  return 24 + c.text.length * (c.ascii ? 1 : 2);
}

export class StringKeyRun {
  private batches: RunBatch[] = [];
  private cap = 0;
  private batchOf = new Int32Array(0);
  private keyAt = new Int32Array(0);
  private keyLen = new Int32Array(0);
  private valAt = new Int32Array(0);
  private valLen = new Int32Array(0);
  private cols: Uint32Array[] = prefixColumns(0);
  /** rows held */
  n = 0;
  private dataBytes = 0;

  /** Estimated heap bytes held. */
  get bytes(): number {
    return this.dataBytes + this.cap * ROW_BYTES;
  }

  private reserve(more: number): void {
    const need = this.n + more;
    if (need <= this.cap) return;
    const cap = Math.max(need, this.cap * 2, 1024);
    const grow = (a: Int32Array): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(cap);
      b.set(a.subarray(0, this.n));
      return b;
    };
    this.batchOf = grow(this.batchOf);
    this.keyAt = grow(this.keyAt);
    this.keyLen = grow(this.keyLen);
    this.valAt = grow(this.valAt);
    this.valLen = grow(this.valLen);
    this.cols = this.cols.map((c) => {
      const b = new Uint32Array(cap);
      b.set(c.subarray(0, this.n));
      return b;
    });
    this.cap = cap;
  }

  /** Adds the rows of a string-key column batch. */
  addColumns(c: StringKeyColumns): void {
    const n = c.n;
    this.reserve(n);
    const bi = this.batches.length;
    const keys = c.keys.text;
    const klens = c.keys.lens;
    const v = c.values;
    const vText = 'text' in v ? v : undefined;
    const vNums = 'text' in v ? undefined : v;
    this.batches.push({ kind: 'cols', keys, values: vText ? vText.text : vNums! });
    this.dataBytes += textBytes(c.keys) + (vText ? textBytes(vText) : vNums!.byteLength + 64);
    const { batchOf, keyAt, keyLen, valAt, valLen, cols } = this;
    let kp = 0;
    let vp = 0;
    for (let i = 0, r = this.n; i < n; i++, r++) {
      const kl = klens[i]!;
      batchOf[r] = bi;
      keyAt[r] = kp;
      keyLen[r] = kl;
      packPrefix(cols, r, keys, kp, kl);
      kp += kl;
      if (vText) {
        const vl = vText.lens[i]!;
        valAt[r] = vp;
        valLen[r] = vl;
        vp += vl;
      } else valAt[r] = i;
    }
    this.n += n;
  }

  /** Adds records; false (nothing added) when some key is not a string. */
  addPairs(records: readonly unknown[]): boolean {
    const n = records.length;
    for (let i = 0; i < n; i++) if (typeof (records[i] as Pair)[0] !== 'string') return false;
    if (n === 0) return true;
    this.reserve(n);
    const bi = this.batches.length;
    this.batches.push({ kind: 'pairs', records: records as readonly Pair[] });
    this.dataBytes += estimateRecordsSize(records);
    const { batchOf, keyAt, keyLen, cols } = this;
    for (let i = 0, r = this.n; i < n; i++, r++) {
      const k = (records[i] as Pair)[0] as string;
      batchOf[r] = bi;
      keyAt[r] = i;
      keyLen[r] = k.length;
      packPrefix(cols, r, k, 0, k.length);
    }
    this.n += n;
    return true;
  }

  /** Row r as a record (a new pair for column rows, the record itself for record rows). */
  record(r: number): Pair {
    const b = this.batches[this.batchOf[r]!]!;
    if (b.kind === 'pairs') return b.records[this.keyAt[r]!]!;
    const ka = this.keyAt[r]!;
    const key = b.keys.slice(ka, ka + this.keyLen[r]!);
    const v = b.values;
    if (typeof v === 'string') {
      const va = this.valAt[r]!;
      return [key, v.slice(va, va + this.valLen[r]!)];
    }
    return [key, v[this.valAt[r]!]];
  }

  /** Compares the keys of rows x and y in compareKeys order (called for rows with equal prefixes). */
  private compareRows = (x: number, y: number): number => {
    const [tx, sx] = this.keyText(x);
    const [ty, sy] = this.keyText(y);
    const lx = this.keyLen[x]!;
    const ly = this.keyLen[y]!;
    const l = Math.min(lx, ly);
    for (let i = 0; i < l; i++) {
      const d = tx.charCodeAt(sx + i) - ty.charCodeAt(sy + i);
      if (d !== 0) return d < 0 ? -1 : 1;
    }
    return lx === ly ? 0 : lx < ly ? -1 : 1;
  };

  private keyText(r: number): [string, number] {
    const b = this.batches[this.batchOf[r]!]!;
    return b.kind === 'pairs' ? [b.records[this.keyAt[r]!]![0] as string, 0] : [b.keys, this.keyAt[r]!];
  }

  /** The rows sorted by key (stable), as records in slices of `size`. */
  *sorted(descending = false, size = 4096): Generator<Pair[]> {
    const n = this.n;
    const idx = sortIndexByPrefix(this.cols, n, this.compareRows, descending);
    for (let i = 0; i < n; i += size) {
      const m = Math.min(size, n - i);
      const out = new Array<Pair>(m);
      for (let j = 0; j < m; j++) out[j] = this.record(idx[i + j]!);
      yield out;
    }
  }

  /** The rows as records, in insertion order. */
  toPairs(): Pair[] {
    const out = new Array<Pair>(this.n);
    for (let r = 0; r < this.n; r++) out[r] = this.record(r);
    return out;
  }

  clear(): void {
    this.batches = [];
    this.cap = 0;
    this.n = 0;
    this.dataBytes = 0;
    this.batchOf = this.keyAt = this.keyLen = this.valAt = this.valLen = new Int32Array(0);
    this.cols = prefixColumns(0);
  }
}
