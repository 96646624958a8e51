/**
 * Task metrics measured in the executor (Spark's TaskMetrics, the part Cinder can measure): run time,
 * GC time of the task's thread, input read, shuffle read and write, spill. Counters are bumped once per
 * batch or per fetched block, never per record, and travel to the driver with the task's status.
 *
 * GC time: every task worker thread is its own V8 isolate, and a thread runs one task at a time
 * (src/executor/worker.ts), so the GC pauses this thread's observer sees between a task's start and end
 * belong to that task. The observer's entries arrive asynchronously; the few that land after the end
 * of a task are counted to the next one.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import type { ReadMetrics } from '../shuffle/reader.js';
import { newReadMetrics } from '../shuffle/reader.js';

export interface WireTaskMetrics {
  runMs: number;
  records?: number | undefined;
  spilledBytes?: number | undefined;
  gcMs?: number | undefined;
  inputBytes?: number | undefined;
  inputRecords?: number | undefined;
  shuffleReadRemoteBytes?: number | undefined;
  shuffleReadLocalBlocks?: number | undefined;
  shuffleReadRemoteBlocks?: number | undefined;
  shuffleReadRecords?: number | undefined;
  shuffleWriteBytes?: number | undefined;
  shuffleWriteRecords?: number | undefined;
  shuffleWriteMs?: number | undefined;
  resultBytes?: number | undefined;
  blockSizes?: Array<[number, number]> | undefined;
  /** heap used by the thread at the end of the task */
  heapUsedBytes?: number | undefined;
}

let gcTotalMs = 0;
let observer: PerformanceObserver | undefined;

function watchGc(): void {
  if (observer) return;
  observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcTotalMs += e.duration;
  });
  observer.observe({ entryTypes: ['gc'] });
}

/** One task's counters. */
export class TaskMetrics {
  readonly started = Date.now();
  private readonly gcAtStart: number;
  inputBytes = 0;
  inputRecords = 0;
  readonly shuffleRead: ReadMetrics = newReadMetrics();
  shuffleWriteBytes = 0;
  shuffleWriteRecords = 0;
  shuffleWriteMs = 0;
  spilledBytes = 0;
  resultBytes = 0;

  constructor() {
    watchGc();
    this.gcAtStart = gcTotalMs;
  }

  /** Counts the records of batches read from an input split (one add per batch). */
  async *countInput<T>(bytes: number, batches: AsyncIterable<T[]>): AsyncIterable<T[]> {
    this.inputBytes += bytes;
    for await (const b of batches) {
      this.inputRecords += b.length;
      yield b;
    }
  }

  /** The map output's bytes and records; the write time includes computing the map side (pipelined). */
  recordShuffleWrite(info: { sizes: number[]; records: number; spilledBytes: number }, ms: number): void {
    let bytes = 0;
    for (const n of info.sizes) bytes += n;
    this.shuffleWriteBytes += bytes;
    this.shuffleWriteRecords += info.records;
    this.shuffleWriteMs += ms;
    this.spilledBytes += info.spilledBytes;
  }

  /**
   * The counters for the task's status: run time and heap always, every other counter only when it is not
   * zero (absent means 0 to every reader), so a short task's status stays small on its three hops
   * (thread -> executor -> driver) and in the driver's decoding and checking.
   */
  toWire(): WireTaskMetrics {
    const r = this.shuffleRead;
    const w: WireTaskMetrics = { runMs: Date.now() - this.started };
    const gcMs = Math.round(gcTotalMs - this.gcAtStart);
    if (gcMs) w.gcMs = gcMs;
    if (this.inputBytes) w.inputBytes = this.inputBytes;
    if (this.inputRecords) w.inputRecords = this.inputRecords;
    if (r.remoteBytes) w.shuffleReadRemoteBytes = r.remoteBytes;
    if (r.localBlocks) w.shuffleReadLocalBlocks = r.localBlocks;
    if (r.remoteBlocks) w.shuffleReadRemoteBlocks = r.remoteBlocks;
    if (r.recordsRead) w.shuffleReadRecords = r.recordsRead;
    if (this.shuffleWriteBytes) w.shuffleWriteBytes = this.shuffleWriteBytes;
    if (this.shuffleWriteRecords) w.shuffleWriteRecords = this.shuffleWriteRecords;
    if (this.shuffleWriteMs) w.shuffleWriteMs = this.shuffleWriteMs;
    const spilled = this.spilledBytes + r.spilledBytes;
    if (spilled) w.spilledBytes = spilled;
    if (this.resultBytes) w.resultBytes = this.resultBytes;
    w.heapUsedBytes = v8.getHeapStatistics().used_heap_size;
    return w;
  }
}
