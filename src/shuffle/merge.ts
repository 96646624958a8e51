/**
 * K-way merge of sorted runs, batch in, batch out: one await per input batch, never per record.
 * Also owns spill-run naming and removal for the external map and sorter. Knows nothing about keys:
 * the caller passes the record comparator.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { BatchFileReader } from '../storage/batch-file.js';

/** Supplies the batches of one sorted run; undefined at the end. */
export type BatchSource<T> = () => Promise<T[] | undefined>;

class Cursor<T> {
  batch: T[] = [];
  i = 0;
  constructor(
    readonly next: BatchSource<T>,
    readonly order: number,
  ) {}
  async load(): Promise<boolean> {
    for (;;) {
      const b = await this.next();
      if (b === undefined) return false;
      if (b.length > 0) {
        this.batch = b;
        this.i = 0;
        return true;
      }
    }
  }
}

/** Merges sorted runs into sorted output batches; ties keep run order (stable). */
export async function* mergeRuns<T>(
  sources: BatchSource<T>[],
  cmp: (a: T, b: T) => number,
  outBatch = 4096,
): AsyncGenerator<T[]> {
  const heap: Cursor<T>[] = [];
  for (let i = 0; i < sources.length; i++) {
    const c = new Cursor(sources[i]!, i);
    if (await c.load()) heap.push(c);
  }
  const less = (a: Cursor<T>, b: Cursor<T>): boolean => {
    const c = cmp(a.batch[a.i]!, b.batch[b.i]!);
    return c < 0 || (c === 0 && a.order < b.order);
  };
  const down = (i: number): void => {
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const m = r < n && less(heap[r]!, heap[l]!) ? r : l;
      if (!less(heap[m]!, heap[i]!)) return;
      const t = heap[m]!;
      heap[m] = heap[i]!;
      heap[i] = t;
      i = m;
    }
  };
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  let out: T[] = [];
  while (heap.length > 0) {
    const top = heap[0]!;
    out.push(top.batch[top.i]!);
    // a consumed input batch (a ~1 MB frame) also ends an output batch, so big records never pile up
    let consumed = false;
    if (++top.i >= top.batch.length) {
      consumed = true;
      if (!(await top.load())) {
        const last = heap.pop()!;
        if (heap.length > 0) heap[0] = last;
      }
    }
    if (heap.length > 0) down(0);
    if (out.length >= outBatch || consumed) {
      yield out;
      out = [];
    }
  }
  if (out.length > 0) yield out;
}

/** A source over an in-memory sorted array, handed out in slices. */
export function arraySource<T>(arr: T[], slice = 4096): BatchSource<T> {
  let i = 0;
  return async () => {
    if (i >= arr.length) return undefined;
    const b = arr.slice(i, i + slice);
    i += slice;
    return b;
  };
}

/** A source over a spill run file; opened lazily, closed at its end. */
export function fileSource<T>(file: string, readers: Set<BatchFileReader>): BatchSource<T> {
  let r: BatchFileReader | undefined;
  return async () => {
    if (!r) {
      r = await BatchFileReader.open(file);
      readers.add(r);
    }
    const b = await r.next();
    if (b === undefined) readers.delete(r);
    return b as T[] | undefined;
  };
}

/** Spill files of one external structure: unique names in spillDir, all removed by removeAll(). */
export class SpillFiles {
  readonly files: string[] = [];
  readonly readers = new Set<BatchFileReader>();
  bytes = 0;
  constructor(
    private readonly dir: string,
    private readonly prefix: string,
  ) {}

  async next(): Promise<string> {
    await fs.mkdir(this.dir, { recursive: true });
    const f = path.join(this.dir, `${this.prefix}-${process.pid}-${randomUUID()}.spill`);
    this.files.push(f);
    return f;
  }

  async removeAll(): Promise<void> {
    for (const r of this.readers) await r.close().catch(() => {});
    this.readers.clear();
    const files = this.files.splice(0);
    await Promise.all(files.map((f) => fs.rm(f, { force: true })));
  }
}
