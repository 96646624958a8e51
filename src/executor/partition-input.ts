/**
 * The whole input of a partition function (mapPartitions, foreachPartition, builtins) as a synchronous
 * iterable, without holding more than a memory budget: batches are buffered in memory until their
 * estimated size passes the budget, then everything goes to a spill file that the iterable reads back
 * synchronously, frame by frame. Small partitions (the common case) come back as a plain array.
 * Owns only that buffering and its spill file; dispose() removes the file and closes open readers.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CinderError } from '../common/errors.js';
import { BatchFileWriter } from '../storage/batch-file.js';
import { decodeBatch } from '../storage/record-codec.js';
import { estimateRecordsSize } from '../storage/size-estimator.js';

export interface PartitionInput {
  /** an array when the partition fit in memory; else an iterable over the spill file (re-iterable) */
  records: Iterable<unknown>;
  dispose(): Promise<void>;
}

let nextFile = 0;

export async function bufferPartition(
  input: AsyncIterable<unknown[]>,
  limitBytes: number,
  spillDir: string,
): Promise<PartitionInput> {
  let mem: unknown[][] = [];
  let bytes = 0;
  let w: BatchFileWriter | undefined;
  try {
    for await (const b of input) {
      if (w) {
        await w.writeRecords(b);
        continue;
      }
      mem.push(b);
      bytes += estimateRecordsSize(b);
      if (bytes > limitBytes) {
        fs.mkdirSync(spillDir, { recursive: true });
        w = await BatchFileWriter.create(path.join(spillDir, `partition-${process.pid}-${nextFile++}.bin`));
        for (const m of mem) await w.writeRecords(m);
        mem = [];
      }
    }
    if (w) await w.close();
  } catch (e) {
    await w?.abort();
    throw e;
  }
  if (!w) return { records: mem.length === 1 ? mem[0]! : mem.flat(1), dispose: async () => {} };
  const file = w.path;
  const open = new Set<number>();
  return {
    records: { [Symbol.iterator]: () => readSync(file, open) },
    dispose: async () => {
      for (const fd of open) fs.closeSync(fd);
      open.clear();
      await fs.promises.rm(file, { force: true });
    },
  };
}

function* readSync(file: string, open: Set<number>): Generator<unknown> {
  const fd = fs.openSync(file, 'r');
  open.add(fd);
  try {
    const head = Buffer.alloc(4);
    let pos = 0;
    for (;;) {
      const got = fs.readSync(fd, head, 0, 4, pos);
      if (got === 0) return;
      if (got < 4) throw corrupt(file, pos);
      const len = head.readUInt32LE(0);
      const body = Buffer.allocUnsafe(len);
      if (fs.readSync(fd, body, 0, len, pos + 4) < len) throw corrupt(file, pos);
      pos += 4 + len;
      const batch = decodeBatch(body);
      for (let i = 0; i < batch.length; i++) yield batch[i];
    }
  } finally {
    if (open.delete(fd)) fs.closeSync(fd);
  }
}

function corrupt(file: string, pos: number): CinderError {
  return new CinderError('CORRUPT_BLOCK', `partition spill file ${file} is truncated at byte ${pos}`, 'rerun the job');
}
