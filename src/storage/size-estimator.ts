/**
 * Rough, cheap estimates of how much heap a JS value occupies (Spark's SizeEstimator idea): big arrays and
 * objects are sampled, not walked. Used to decide when to spill or evict; it must stay fast and must never
 * be used for correctness. SizeTracker extrapolates between samples (Spark's SizeTracker).
 */
import v8 from 'node:v8';

const SAMPLE = 32;

/**
 * Estimated heap bytes of `v` (including the 8-byte slot that refers to it). Calibrated on Node 20 (no
 * pointer compression): a decoded [10-char, 20-char] string pair measures ~158 bytes of heap, estimated 150
 * (slot 8 + JSArray 32 + FixedArray header 16, strings 16-byte header or a 32-byte slice plus their chars);
 * an array of two doubles measures 72.
 */
export function estimateSize(v: unknown, depth = 0): number {
  switch (typeof v) {
    case 'string':
      return 32 + v.length;
    case 'number':
      return (v | 0) === v ? 8 : 24;
    case 'boolean':
    case 'undefined':
      return 8;
    case 'bigint':
      return 32;
    case 'object': {
      if (v === null) return 8;
      if (depth > 8) return 64;
      if (Array.isArray(v))
        // numbers in arrays are unboxed (SMI or double elements): 8 bytes a slot
        return 56 + sampled(v.length, (i) => (typeof v[i] === 'number' ? 8 : estimateSize(v[i], depth + 1)));
      if (v instanceof Uint8Array) return 96 + v.byteLength;
      if (v instanceof Date) return 40;
      const keys = Object.keys(v);
      const o = v as Record<string, unknown>;
      return 32 + sampled(keys.length, (i) => 16 + estimateSize(o[keys[i]!], depth + 1));
    }
    default:
      return 16;
  }
}

function sampled(n: number, sizeAt: (i: number) => number): number {
  if (n <= SAMPLE * 2) {
    let s = 0;
    for (let i = 0; i < n; i++) s += sizeAt(i);
    return s;
  }
  let s = 0;
  const step = n / SAMPLE;
  for (let j = 0; j < SAMPLE; j++) s += sizeAt(Math.floor(j * step));
  return (s / SAMPLE) * n;
}

/** Estimated heap bytes of an array of records, measuring at most `samples` of them. */
export function estimateRecordsSize(records: readonly unknown[], samples = 64): number {
  const n = records.length;
  if (n === 0) return 24;
  if (n <= samples) {
    let s = 24;
    for (const r of records) s += estimateSize(r);
    return s;
  }
  let s = 0;
  const step = n / samples;
  for (let j = 0; j < samples; j++) s += estimateSize(records[Math.floor(j * step)]);
  return 24 + (s / samples) * n;
}

/**
 * Tracks the size of a growing collection: `measure()` (a sampled estimate of the whole collection) runs
 * after exponentially spaced numbers of updates (x1.1), and the size in between is extrapolated from the
 * bytes-per-update slope of the last two samples.
 */
export class SizeTracker {
  private updates = 0;
  private nextSample = 1;
  private lastSize = 0;
  private lastUpdates = 0;
  private bytesPerUpdate = 0;

  constructor(private readonly measure: () => number) {}

  update(n = 1): void {
    this.updates += n;
    if (this.updates >= this.nextSample) this.sample();
  }

  estimate(): number {
    return this.lastSize + this.bytesPerUpdate * (this.updates - this.lastUpdates);
  }

  reset(): void {
    this.updates = 0;
    this.nextSample = 1;
    this.lastSize = 0;
    this.lastUpdates = 0;
    this.bytesPerUpdate = 0;
  }

  private sample(): void {
    const size = this.measure();
    const du = this.updates - this.lastUpdates;
    if (du > 0 && this.lastUpdates > 0) this.bytesPerUpdate = Math.max(0, (size - this.lastSize) / du);
    else if (this.updates > 0) this.bytesPerUpdate = size / this.updates;
    this.lastSize = size;
    this.lastUpdates = this.updates;
    this.nextSample = Math.max(this.updates + 1, Math.ceil(this.updates * 1.1));
  }
}

/**
 * True when this thread's V8 heap is past `fraction` of its limit, whatever the size estimates say:
 * estimates undercount (measured ~2x), so spilling structures also check the real heap, at most
 * once every 16 calls (a batch each) to keep it cheap.
 */
let calls = 0;
let lastPressure = false;
export function heapPressure(fraction = 0.6): boolean {
  if ((calls++ & 15) !== 0) return lastPressure;
  const h = v8.getHeapStatistics();
  lastPressure = h.used_heap_size > fraction * h.heap_size_limit;
  return lastPressure;
}

/**
 * The spill rule shared by the spilling structures: past the byte budget (by estimate), past the item
 * cap, or, when holding enough to be worth spilling, under real heap pressure.
 */
export function overBudget(estimateBytes: number, limitBytes: number, items: number, maxItems: number): boolean {
  return estimateBytes > limitBytes || items >= maxItems || (items > 10_000 && heapPressure());
}
