/**
 * Memory-bounded sort of [k, v] records by key (sortByKey on the reduce side): records are buffered until
 * their estimated size passes the memory limit, then sorted and spilled as a run; the output is a k-way
 * merge of the runs and the in-memory rest. Stable: equal keys keep their input order.
 * Spill files are removed when the output is exhausted, abandoned, or fails (and by cleanup()).
 * Must not aggregate: combine first with ExternalAppendOnlyMap.
 */
import { logger } from '../common/log.js';
import { BatchFileWriter } from '../storage/batch-file.js';
import { decodeBatch, type StringKeyColumns } from '../storage/record-codec.js';
import { estimateRecordsSize, overBudget, SizeTracker } from '../storage/size-estimator.js';
import { type BatchSource, fileSource, mergeRuns, SpillFiles } from './merge.js';
import type { Compare } from './partitioner.js';
import { StringKeyRun } from './string-key-run.js';
import { sortByStringKey } from './string-sort.js';

type Pair = [unknown, unknown];

const log = logger('external-sorter');

/** Hard cap on buffered records, whatever the size estimate says. */
const MAX_BUFFERED_RECORDS = 4_000_000;

export interface ExternalSorterOptions {
  compare: Compare;
  /**
   * set when `compare` is compareKeys (or its reverse): runs whose keys are all strings are then
   * sorted by a radix sort instead of comparator calls
   */
  natural?: { ascending: boolean } | undefined;
  memoryLimitBytes: number;
  spillDir: string;
}

export class ExternalSorter {
  private buf: Pair[] = [];
  /**
   * with natural order, records are held column-wise here while every key is a string; the first
   * other key moves them to `buf`
   */
  private run: StringKeyRun | undefined;
  private readonly tracker = new SizeTracker(() => estimateRecordsSize(this.buf));
  private readonly spills: SpillFiles;
  private readonly cmp: (a: Pair, b: Pair) => number;
  spillCount = 0;

  constructor(private readonly o: ExternalSorterOptions) {
    this.spills = new SpillFiles(o.spillDir, 'sort');
    const c = o.compare;
    this.cmp = (a, b) => c(a[0], b[0]);
    if (o.natural) this.run = new StringKeyRun();
  }

  get spilledBytes(): number {
    return this.spills.bytes;
  }

  /** Estimated heap bytes held right now. */
  memoryEstimate(): number {
    return this.tracker.estimate() + (this.run?.bytes ?? 0);
  }

  async insertAll(records: readonly unknown[]): Promise<void> {
    if (this.run && !this.run.addPairs(records)) this.leaveRun();
    if (!this.run) {
      const buf = this.buf;
      for (const r of records) buf.push(r as Pair);
      this.tracker.update(records.length);
    }
    await this.maybeSpill();
  }

  /** Inserts a column batch with string keys (src/storage/record-codec.ts stringKeyColumns). */
  async insertColumns(c: StringKeyColumns): Promise<void> {
    if (this.run) {
      this.run.addColumns(c);
      await this.maybeSpill();
    } else await this.insertAll(decodeBatch(c.body));
  }

  /** A key that is not a string: the held rows become records, in their order. */
  private leaveRun(): void {
    const run = this.run!;
    this.run = undefined;
    for (const r of run.toPairs()) this.buf.push(r);
    this.tracker.update(run.n);
    run.clear();
  }

  private maybeSpill(): Promise<void> | undefined {
    const held = this.buf.length + (this.run?.n ?? 0);
    if (overBudget(this.memoryEstimate(), this.o.memoryLimitBytes, held, MAX_BUFFERED_RECORDS)) return this.spill();
    return undefined;
  }

  /** The buffer sorted (stable). */
  private sorted(buf: Pair[]): Pair[] {
    const nat = this.o.natural;
    if (nat && buf.length > 64) {
      const out = sortByStringKey(buf, !nat.ascending);
      if (out) return out;
    }
    return buf.sort(this.cmp);
  }

  /** The held records sorted, in slices (the column run's, or the buffer's). */
  private *sortedSlices(): Generator<Pair[]> {
    if (this.run) {
      yield* this.run.sorted(!this.o.natural!.ascending);
      return;
    }
    const mem = this.sorted(this.buf);
    this.buf = [];
    for (let i = 0; i < mem.length; i += 4096) yield mem.slice(i, i + 4096);
  }

  private async spill(): Promise<void> {
    const records = this.buf.length + (this.run?.n ?? 0);
    if (records === 0) return;
    const w = await BatchFileWriter.create(await this.spills.next());
    try {
      for (const slice of this.sortedSlices()) await w.writeRecords(slice);
      await w.close();
    } catch (e) {
      await w.abort();
      throw e;
    }
    this.spills.bytes += w.position;
    this.spillCount++;
    log.debug({ records, bytes: w.position, runs: this.spillCount }, 'sort run spilled');
    this.buf = [];
    this.run?.clear();
    this.tracker.reset();
  }

  /** The sorted records in batches; call once, after the last insertAll. */
  async *batches(): AsyncGenerator<unknown[][]> {
    try {
      const mem = this.sortedSlices();
      if (this.spills.files.length === 0) {
        yield* mem;
        return;
      }
      const sources: BatchSource<Pair>[] = this.spills.files.map((f) => fileSource<Pair>(f, this.spills.readers));
      sources.push(async () => {
        const r = mem.next();
        return r.done ? undefined : r.value;
      });
      yield* mergeRuns(sources, this.cmp);
    } finally {
      await this.cleanup();
    }
  }

  /** Drops buffered records and removes spill files. */
  async cleanup(): Promise<void> {
    this.buf = [];
    this.run?.clear();
    await this.spills.removeAll();
  }
}
