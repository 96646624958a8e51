/**
 * Memory-bounded sort of [k, v] records by key (sortByKey on the reduce side): records are buffered until
 * their estimated size passes the memory limit, then sorted and spilled as a run; the output is a k-way
 * merge of the runs and the in-memory rest. Stable: equal keys keep their input order.
 * Spill files are removed when the output is exhausted, abandoned, or fails (and by cleanup()).
 * Must not aggregate: combine first with ExternalAppendOnlyMap.
 */
import { logger } from '../common/log.js';
import { BatchFileWriter } from '../storage/batch-file.js';
import { estimateRecordsSize, overBudget, SizeTracker } from '../storage/size-estimator.js';
import { arraySource, type BatchSource, fileSource, mergeRuns, SpillFiles } from './merge.js';
import type { Compare } from './partitioner.js';
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
  private readonly tracker = new SizeTracker(() => estimateRecordsSize(this.buf));
  private readonly spills: SpillFiles;
  private readonly cmp: (a: Pair, b: Pair) => number;
  spillCount = 0;

  constructor(private readonly o: ExternalSorterOptions) {
    this.spills = new SpillFiles(o.spillDir, 'sort');
    const c = o.compare;
    this.cmp = (a, b) => c(a[0], b[0]);
  }

  get spilledBytes(): number {
    return this.spills.bytes;
  }

  /** Estimated heap bytes held right now. */
  memoryEstimate(): number {
    return this.tracker.estimate();
  }

  async insertAll(records: readonly unknown[]): Promise<void> {
    const buf = this.buf;
    for (const r of records) buf.push(r as Pair);
    this.tracker.update(records.length);
    if (overBudget(this.tracker.estimate(), this.o.memoryLimitBytes, buf.length, MAX_BUFFERED_RECORDS))
      await this.spill();
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

  private async spill(): Promise<void> {
    if (this.buf.length === 0) return;
    this.buf = this.sorted(this.buf);
    const w = await BatchFileWriter.create(await this.spills.next());
    try {
      await w.writeRecords(this.buf);
      await w.close();
    } catch (e) {
      await w.abort();
      throw e;
    }
    this.spills.bytes += w.position;
    this.spillCount++;
    log.debug({ records: this.buf.length, bytes: w.position, runs: this.spillCount }, 'sort run spilled');
    this.buf = [];
    this.tracker.reset();
  }

  /** The sorted records in batches; call once, after the last insertAll. */
  async *batches(): AsyncGenerator<unknown[][]> {
    try {
      const mem = this.sorted(this.buf);
      this.buf = [];
      this.tracker.reset();
      const sources: BatchSource<Pair>[] = this.spills.files.map((f) => fileSource<Pair>(f, this.spills.readers));
      sources.push(arraySource(mem));
      if (sources.length === 1) {
        for (let i = 0; i < mem.length; i += 4096) yield mem.slice(i, i + 4096);
        return;
      }
      yield* mergeRuns(sources, this.cmp);
    } finally {
      await this.cleanup();
    }
  }

  /** Drops buffered records and removes spill files. */
  async cleanup(): Promise<void> {
    this.buf = [];
    await this.spills.removeAll();
  }
}
