/**
 * Memory-bounded aggregation by key (Spark's ExternalAppendOnlyMap): values are combined into an in-memory
 * map until its estimated size passes the memory limit; then the map is sorted by key hash and spilled as a
 * run of [hash, key, combiner] records. The output merges all runs by hash and, within one hash, groups
 * equal keys with mergeCombiners, so every key comes out exactly once.
 * Spill files are removed when the output is exhausted, abandoned, or fails (and by cleanup()).
 * Must not sort by key: feed the output to ExternalSorter for that.
 */
import { BatchFileWriter } from '../storage/batch-file.js';
import { estimateSize, overBudget, SizeTracker } from '../storage/size-estimator.js';
import type { Aggregator } from './aggregator.js';
import { AppendOnlyKeyMap, keysEqual } from './key-map.js';
import { arraySource, type BatchSource, fileSource, mergeRuns, SpillFiles } from './merge.js';
import { portableHash } from './partitioner.js';

type Entry = [number, unknown, unknown];

/** Stay well below the 2^24 entries a JS Map can hold. */
const MAX_KEYS = 4_000_000;
const ENTRY_OVERHEAD = 64;

export interface ExternalMapOptions {
  aggregator: Aggregator;
  memoryLimitBytes: number;
  spillDir: string;
}

export class ExternalAppendOnlyMap {
  private map = new AppendOnlyKeyMap<unknown>();
  private readonly tracker: SizeTracker;
  private readonly spills: SpillFiles;
  spillCount = 0;

  constructor(private readonly o: ExternalMapOptions) {
    this.spills = new SpillFiles(o.spillDir, 'agg');
    this.tracker = new SizeTracker(() => this.measure());
  }

  get spilledBytes(): number {
    return this.spills.bytes;
  }

  /** Estimated heap bytes held right now. */
  memoryEstimate(): number {
    return this.tracker.estimate();
  }

  private measure(): number {
    const n = this.map.size;
    if (n === 0) return 0;
    const samples = Math.min(n, 48);
    let s = 0;
    for (let j = 0; j < samples; j++) {
      const i = samples === n ? j : Math.floor(Math.random() * n);
      s += estimateSize(this.map.keys[i]) + estimateSize(this.map.values[i]);
    }
    return (s / samples + ENTRY_OVERHEAD) * n;
  }

  /** Folds a batch of [k, v] records in with createCombiner / mergeValue. */
  async insertAll(records: readonly unknown[]): Promise<void> {
    const { createCombiner, mergeValue } = this.o.aggregator;
    const map = this.map;
    const values = map.values;
    for (const r of records) {
      const k = (r as unknown[])[0];
      const v = (r as unknown[])[1];
      const i = map.find(k);
      if (i < 0) map.add(k, createCombiner(v));
      else values[i] = mergeValue(values[i], v);
    }
    this.tracker.update(records.length);
    if (overBudget(this.tracker.estimate(), this.o.memoryLimitBytes, map.size, MAX_KEYS)) await this.spill();
  }

  private sortedByHash(): Entry[] {
    const { keys, values } = this.map;
    const out: Entry[] = new Array(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = [portableHash(keys[i]), keys[i], values[i]];
    this.map = new AppendOnlyKeyMap();
    this.tracker.reset();
    out.sort((a, b) => a[0] - b[0]);
    return out;
  }

  private async spill(): Promise<void> {
    if (this.map.size === 0) return;
    const entries = this.sortedByHash();
    const w = await BatchFileWriter.create(await this.spills.next());
    try {
      await w.writeRecords(entries);
      await w.close();
    } catch (e) {
      await w.abort();
      throw e;
    }
    this.spills.bytes += w.position;
    this.spillCount++;
  }

  /** One [key, combiner] per key, in batches; call once, after the last insertAll. */
  async *batches(): AsyncGenerator<unknown[][]> {
    try {
      if (this.spills.files.length === 0) {
        const { keys, values } = this.map;
        this.map = new AppendOnlyKeyMap();
        this.tracker.reset();
        for (let i = 0; i < keys.length; i += 4096) {
          const n = Math.min(keys.length, i + 4096);
          const out: unknown[][] = new Array(n - i);
          for (let j = i; j < n; j++) out[j - i] = [keys[j], values[j]];
          yield out;
        }
        return;
      }
      const sources: BatchSource<Entry>[] = this.spills.files.map((f) => fileSource<Entry>(f, this.spills.readers));
      sources.push(arraySource(this.sortedByHash()));
      yield* this.groupByHash(mergeRuns(sources, (a, b) => a[0] - b[0]));
    } finally {
      await this.cleanup();
    }
  }

  private async *groupByHash(merged: AsyncIterable<Entry[]>): AsyncGenerator<unknown[][]> {
    const { mergeCombiners } = this.o.aggregator;
    let out: unknown[][] = [];
    let group: unknown[][] = [];
    let gh = -1;
    for await (const batch of merged) {
      for (const e of batch) {
        if (e[0] !== gh) {
          for (const g of group) out.push(g);
          group = [];
          gh = e[0];
        }
        let found = false;
        for (const g of group) {
          if (keysEqual(g[0], e[1])) {
            g[1] = mergeCombiners(g[1], e[2]);
            found = true;
            break;
          }
        }
        if (!found) group.push([e[1], e[2]]);
      }
      // yield per merged batch: a count threshold alone would hold many big groups (groupByKey) at once
      if (out.length > 0) {
        yield out;
        out = [];
      }
    }
    for (const g of group) out.push(g);
    if (out.length > 0) yield out;
  }

  /** Drops in-memory data and removes spill files. */
  async cleanup(): Promise<void> {
    this.map = new AppendOnlyKeyMap();
    await this.spills.removeAll();
  }
}
