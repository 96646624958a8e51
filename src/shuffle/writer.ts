/**
 * Map side of the shuffle: routes a map task's [k, v] records to reduce partitions (optionally combining
 * values per key first), and writes ONE data file per map task with all partitions contiguous, plus an
 * index file of numPartitions+1 little-endian u64 offsets. Each partition's bytes are framed msgpack
 * batches (src/storage/batch-file.ts). Both files are written under temp names and renamed, index last,
 * so a crashed task never leaves output that looks valid.
 *
 * Memory: records are encoded into per-partition byte chunks as batches fill; when the estimate of
 * buffered records + chunks (+ the combine map) passes memoryLimitBytes, everything is spilled to one
 * spill file (one region per partition), and the final file concatenates those regions without decoding.
 * With an aggregator, a spill flushes the partially combined map: output may then hold a key more than
 * once per map task, which is correct because the reduce side merges combiners anyway. For the same
 * reason combining may stop part-way when it does not pay (see partialAggregate).
 * Must not know about the network or the scheduler.
 */
import { randomUUID } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import { CinderError } from '../common/errors.js';
import { BatchFileWriter, BatchSizer, encodeFramed } from '../storage/batch-file.js';
import { estimateSize, heapPressure, SizeTracker } from '../storage/size-estimator.js';
import type { Aggregator } from './aggregator.js';
import { StringNumberCombineTable } from './combine-table.js';
import { AppendOnlyKeyMap } from './key-map.js';
import { SpillFiles } from './merge.js';
import { shuffleDataPath, shuffleIndexPath } from './shuffle-files.js';

export { removeShuffleFiles, shuffleDataPath, shuffleIndexPath } from './shuffle-files.js';

export interface MapOutputInfo {
  /** bytes of each reduce partition in the data file */
  sizes: number[];
  /** records written (after map-side combine) */
  records: number;
  spilledBytes: number;
}

export interface WriteShuffleOptions {
  dir: string;
  shuffleId: number;
  mapIndex: number;
  numPartitions: number;
  partition: (key: unknown) => number;
  /** map-side combine when given */
  aggregator?: Aggregator | undefined;
  /**
   * The map task's [k, v] records: either batches, or a source that pushes records one at a time
   * (the executor fuses the task's operators straight into the writer this way, so no batch of
   * intermediate records is ever built) and awaits `afterBatch` after each input batch.
   */
  input: AsyncIterable<unknown[][]> | RecordSource;
  memoryLimitBytes: number;
  /**
   * Map-side combining is dropped for the rest of the task when, after `minRecords` records, the map
   * holds more than `skipRatio` of them as distinct keys (Spark SQL's skipPartialAggregate): combining
   * then saves little shuffle data but costs a hash lookup per record, and the reducers, each with a
   * smaller share of the keys, aggregate faster. Default 100,000 records, ratio 0.9.
   */
  partialAggregate?: { minRecords: number; skipRatio: number } | undefined;
}

/** Records per partition, encoded into framed chunks as batches fill. */
class PartitionedChunks {
  pending: unknown[][];
  chunks: Buffer[][];
  pendingCount = 0;
  encodedBytes = 0;
  records = 0;
  private readonly sizer = new BatchSizer();
  private sampled = 0;
  private sampledBytes = 0;

  constructor(readonly n: number) {
    this.pending = Array.from({ length: n }, () => []);
    this.chunks = Array.from({ length: n }, () => []);
  }

  add(p: number, rec: unknown): void {
    const list = this.pending[p]!;
    list.push(rec);
    if ((this.records++ & 63) === 0) {
      this.sampled++;
      this.sampledBytes += estimateSize(rec);
    }
    this.pendingCount++;
    if (list.length >= this.sizer.records) this.encode(p);
  }

  encode(p: number): void {
    const list = this.pending[p]!;
    if (list.length === 0) return;
    const f = encodeFramed(list);
    this.sizer.observe(list.length, f.length);
    this.chunks[p]!.push(f);
    this.encodedBytes += f.length;
    this.pendingCount -= list.length;
    this.pending[p] = [];
  }

  encodeAll(): void {
    for (let p = 0; p < this.n; p++) this.encode(p);
  }

  memoryEstimate(): number {
    const avg = this.sampled ? this.sampledBytes / this.sampled : 64;
    return this.encodedBytes + this.pendingCount * (avg + 8);
  }

  takeChunks(): Buffer[][] {
    const c = this.chunks;
    this.chunks = Array.from({ length: this.n }, () => []);
    this.encodedBytes = 0;
    return c;
  }
}

/** Pushes records into `push`; awaits `afterBatch()` after each batch of its own input. */
export type RecordSource = (push: (record: unknown) => void, afterBatch: () => Promise<void>) => Promise<void>;

/** A RecordSource over batches of records. */
export function batchSource(batches: AsyncIterable<unknown[]>): RecordSource {
  return async (push, afterBatch) => {
    for await (const b of batches) {
      for (let i = 0; i < b.length; i++) push(b[i]);
      await afterBatch();
    }
  };
}

interface Spill {
  file: string;
  /** numPartitions + 1 offsets */
  offsets: number[];
}

/** Writes one map task's shuffle output; see the header for the format. */
export async function writeShuffleOutput(o: WriteShuffleOptions): Promise<MapOutputInfo> {
  const n = o.numPartitions;
  const part = o.partition;
  const agg = o.aggregator;
  const buf = new PartitionedChunks(n);
  const spills = new SpillFiles(o.dir, `shuffle_${o.shuffleId}_${o.mapIndex}_spill`);
  const spillList: Spill[] = [];
  let map = new AppendOnlyKeyMap<unknown>();
  const tracker = new SizeTracker(() => {
    const size = map.size;
    if (size === 0) return 0;
    const samples = Math.min(size, 48);
    let s = 0;
    for (let j = 0; j < samples; j++) {
      const i = samples === size ? j : Math.floor(Math.random() * size);
      s += estimateSize(map.keys[i]) + estimateSize(map.values[i]);
    }
    return (s / samples + 64) * size;
  });

  const route = (k: unknown): number => {
    const p = part(k);
    if (p >>> 0 !== p || p >= n)
      throw new CinderError(
        'BAD_PARTITION',
        `the partitioner returned ${p} for a key; expected an integer in [0, ${n})`,
        'check the custom partitioner',
      );
    return p;
  };
  // reduceByKey with string keys and number values combines in a typed table (combine-table.ts) until a
  // record does not fit it; the general map then takes over for the rest of the task
  let typed =
    agg?.reduce !== undefined
      ? new StringNumberCombineTable(agg.reduce as (a: number, b: number) => unknown)
      : undefined;
  const leaveTyped = (): void => {
    typed?.visit((k, v) => {
      map.add(k, v);
    });
    typed = undefined;
  };
  const combinedSize = (): number => map.size + (typed?.size ?? 0);
  const combinedBytes = (): number => tracker.estimate() + (typed?.memoryBytes() ?? 0);
  const dumpMap = (): void => {
    if (typed) {
      typed.visit((k, v) => buf.add(route(k), [k, v]));
      typed.clear();
    }
    const { keys, values } = map;
    map = new AppendOnlyKeyMap();
    tracker.reset();
    for (let i = 0; i < keys.length; i++) buf.add(route(keys[i]), [keys[i], values[i]]);
  };
  const spill = async (): Promise<void> => {
    buf.encodeAll();
    const chunks = buf.takeChunks();
    const file = await spills.next();
    const w = await BatchFileWriter.create(file);
    const offsets = [0];
    try {
      for (let p = 0; p < n; p++) {
        for (const c of chunks[p]!) await w.writeRaw(c);
        offsets.push(w.position);
      }
      await w.close();
    } catch (e) {
      await w.abort();
      throw e;
    }
    spills.bytes += w.position;
    spillList.push({ file, offsets });
  };

  const dataPath = shuffleDataPath(o.dir, o.shuffleId, o.mapIndex);
  const indexPath = shuffleIndexPath(o.dir, o.shuffleId, o.mapIndex);
  const tmp = `.${randomUUID()}.tmp`;
  let out: BatchFileWriter | undefined;
  try {
    if (!madeDirs.has(o.dir)) {
      await fs.mkdir(o.dir, { recursive: true });
      madeDirs.add(o.dir);
    }
    const source = typeof o.input === 'function' ? o.input : batchSource(o.input);
    let added = 0;
    let seen = 0;
    const partial = o.partialAggregate ?? { minRecords: 100_000, skipRatio: 0.9 };
    let decided = false;
    let passthrough = false;
    const identity = agg?.reduce !== undefined;
    const push: (r: unknown) => void = agg
      ? (rec) => {
          const r = rec as unknown[];
          const k = r[0];
          if (passthrough) {
            // reduceByKey's combiner is the value itself: the record goes on as it is
            buf.add(route(k), identity && r.length === 2 ? r : [k, agg.createCombiner(r[1])]);
            return;
          }
          if (typed) {
            const v = r[1];
            if (typeof k === 'string' && typeof v === 'number' && r.length === 2 && typed.merge(k, v)) {
              if (++added >= MID_BATCH_CHECK) midBatchCheck();
              return;
            }
            leaveTyped();
          }
          const i = map.find(k);
          if (i < 0) map.add(k, agg.createCombiner(r[1]));
          else map.values[i] = agg.mergeValue(map.values[i], r[1]);
          // one input batch may expand a lot (flatMap): check the budget inside it too
          if (++added >= MID_BATCH_CHECK) midBatchCheck();
        }
      : (rec) => {
          buf.add(route((rec as unknown[])[0]), rec);
        };
    // cannot await inside push: past the budget, the combined map is encoded (compact bytes) now and
    // spilled to disk after the batch
    let spillDue = false;
    const countAdded = (): void => {
      tracker.update(added);
      seen += added;
      added = 0;
      if (!decided && seen >= partial.minRecords) {
        decided = true;
        if (combinedSize() > partial.skipRatio * seen) {
          passthrough = true;
          dumpMap();
        }
      }
    };
    const midBatchCheck = (): void => {
      countAdded();
      if (buf.memoryEstimate() + combinedBytes() > o.memoryLimitBytes) {
        dumpMap();
        buf.encodeAll();
        spillDue = true;
      }
    };
    const afterBatch = async (): Promise<void> => {
      if (agg) {
        countAdded();
        if (combinedSize() >= 4_000_000) dumpMap();
      }
      const est = buf.memoryEstimate() + combinedBytes();
      if (spillDue || est > o.memoryLimitBytes || (est > 4 << 20 && heapPressure())) {
        spillDue = false;
        if (agg) dumpMap();
        await spill();
      }
    };
    await source(push, afterBatch);
    if (agg) dumpMap();
    buf.encodeAll();
    const small = spillList.length === 0 && buf.encodedBytes <= SYNC_COMMIT_MAX;
    const chunks = buf.takeChunks();
    if (small) {
      // a small output (short jobs): written and committed with sync calls, not ~10 round trips through
      // libuv's thread pool (this runs on a task thread, never on the executor's main thread)
      const sizes = commitSmall(dataPath, indexPath, tmp, chunks, n);
      return { sizes, records: buf.records, spilledBytes: 0 };
    }

    out = await BatchFileWriter.create(dataPath + tmp);
    const offsets = [0];
    const handles = await Promise.all(spillList.map((s) => fs.open(s.file, 'r')));
    try {
      for (let p = 0; p < n; p++) {
        for (let s = 0; s < spillList.length; s++) {
          const { offsets: so } = spillList[s]!;
          await copyRange(handles[s]!, so[p]!, so[p + 1]!, out);
        }
        for (const c of chunks[p]!) await out.writeRaw(c);
        chunks[p] = [];
        offsets.push(out.position);
      }
    } finally {
      await Promise.all(handles.map((h) => h.close()));
    }
    await out.close();
    const index = Buffer.allocUnsafe(8 * (n + 1));
    for (let p = 0; p <= n; p++) index.writeBigUInt64LE(BigInt(offsets[p]!), 8 * p);
    await fs.writeFile(indexPath + tmp, index);
    // commit: a reader sees either no index or an index that matches the data file
    await fs.rm(indexPath, { force: true });
    await fs.rename(dataPath + tmp, dataPath);
    await fs.rename(indexPath + tmp, indexPath);
    const sizes: number[] = [];
    for (let p = 0; p < n; p++) sizes.push(offsets[p + 1]! - offsets[p]!);
    return { sizes, records: buf.records, spilledBytes: spills.bytes };
  } catch (e) {
    if (out) await out.abort().catch(() => {});
    await fs.rm(indexPath + tmp, { force: true }).catch(() => {});
    throw e;
  } finally {
    await spills.removeAll();
  }
}

/** Map outputs up to this size are written with sync calls (see commitSmall). */
const SYNC_COMMIT_MAX = 1 << 20;
/** Shuffle dirs this thread has made (mkdir once per dir, not once per map task). */
const madeDirs = new Set<string>();

/** Writes data and index files and commits them as the async path does (index last); returns block sizes. */
function commitSmall(dataPath: string, indexPath: string, tmp: string, chunks: Buffer[][], n: number): number[] {
  const offsets = [0];
  const fd = fsSync.openSync(dataPath + tmp, 'w');
  try {
    let pos = 0;
    for (let p = 0; p < n; p++) {
      for (const c of chunks[p]!) {
        let done = 0;
        while (done < c.length) done += fsSync.writeSync(fd, c, done, c.length - done);
        pos += c.length;
      }
      chunks[p] = [];
      offsets.push(pos);
    }
  } catch (e) {
    fsSync.closeSync(fd);
    fsSync.rmSync(dataPath + tmp, { force: true });
    throw e;
  }
  fsSync.closeSync(fd);
  const index = Buffer.allocUnsafe(8 * (n + 1));
  for (let p = 0; p <= n; p++) index.writeBigUInt64LE(BigInt(offsets[p]!), 8 * p);
  try {
    fsSync.writeFileSync(indexPath + tmp, index);
    // commit: a reader sees either no index or an index that matches the data file
    fsSync.rmSync(indexPath, { force: true });
    fsSync.renameSync(dataPath + tmp, dataPath);
    fsSync.renameSync(indexPath + tmp, indexPath);
  } catch (e) {
    fsSync.rmSync(dataPath + tmp, { force: true });
    fsSync.rmSync(indexPath + tmp, { force: true });
    throw e;
  }
  const sizes: number[] = [];
  for (let p = 0; p < n; p++) sizes.push(offsets[p + 1]! - offsets[p]!);
  return sizes;
}

const COPY_CHUNK = 8 << 20;
const MID_BATCH_CHECK = 65536;

async function copyRange(fh: fs.FileHandle, start: number, end: number, out: BatchFileWriter): Promise<void> {
  let pos = start;
  while (pos < end) {
    const len = Math.min(COPY_CHUNK, end - pos);
    const b = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const { bytesRead } = await fh.read(b, got, len - got, pos + got);
      if (bytesRead === 0) throw new Error(`spill file ended early at byte ${pos + got}`);
      got += bytesRead;
    }
    await out.writeRaw(b);
    pos += len;
  }
}
