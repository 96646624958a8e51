/**
 * What a result task does with its partition's record stream (collect, count, fold, save…).
 * Returns the value that travels back to the driver. Runs on executors.
 */
import fs from 'node:fs';
import path from 'node:path';
import { commitTask, writeTaskOutput } from '../io/output.js';
import type { ResultOp } from '../plan/plan.js';
import { BatchFileWriter } from '../storage/batch-file.js';
import type { Batches, ComputeEnv } from './compute.js';
import { bufferPartition } from './partition-input.js';

/**
 * Pushes every record of the partition, one at a time (computeInto: a narrow node's per-record operators
 * are fused straight into `push`, so no batch array of their output is built).
 */
export type PushAll = (push: (x: unknown) => void) => Promise<void>;

/**
 * `input` and `pushAll` are the same records; collect, count, fold and aggregate take them pushed
 * (issue 18: a map-then-fold job spent ~8% of its task thread appending records to per-batch arrays and
 * more in GC of them), the others as batches.
 */
export async function runResultOp(
  env: ComputeEnv,
  op: ResultOp,
  input: Batches,
  partition: number,
  attemptId: string,
  pushAll: PushAll = async (push) => {
    for await (const b of input) for (let i = 0; i < b.length; i++) push(b[i]);
  },
): Promise<unknown> {
  switch (op.op) {
    case 'collect': {
      const out: unknown[] = [];
      await pushAll((x) => {
        out.push(x);
      });
      return out;
    }
    case 'count': {
      let n = 0;
      await pushAll(() => {
        n++;
      });
      return n;
    }
    case 'fold': {
      const f = env.fn<(a: unknown, b: unknown) => unknown>(op.f);
      let empty = !!op.noZero;
      let acc: unknown = op.noZero ? undefined : structuredClone(op.zero);
      await pushAll((x) => {
        if (empty) {
          acc = x;
          empty = false;
        } else acc = f(acc, x);
      });
      return empty ? { empty: true } : { value: acc };
    }
    case 'aggregate': {
      const f = env.fn<(a: unknown, b: unknown) => unknown>(op.seqOp);
      let acc: unknown = structuredClone(op.zero);
      await pushAll((x) => {
        acc = f(acc, x);
      });
      return acc;
    }
    case 'take': {
      const out: unknown[] = [];
      if (op.n <= 0) return out;
      for await (const b of input) {
        for (let i = 0; i < b.length && out.length < op.n; i++) out.push(b[i]);
        if (out.length >= op.n) break;
      }
      return out;
    }
    case 'foreach': {
      const f = env.fn<(x: unknown) => unknown>(op.f);
      for await (const b of input) for (let i = 0; i < b.length; i++) await f(b[i]);
      return null;
    }
    case 'foreachPartition': {
      const f = env.fn<(it: Iterable<unknown>) => unknown>(op.f);
      const whole = await bufferPartition(input, env.memoryLimitBytes / 2, env.spillDir);
      try {
        await f(whole.records);
      } finally {
        await whole.dispose();
      }
      return null;
    }
    case 'save': {
      async function* lines(): AsyncIterable<string[]> {
        for await (const b of input) yield b.map((r) => (typeof r === 'string' ? r : stringify(r)));
      }
      const tmp = await writeTaskOutput(
        op.dir,
        partition,
        attemptId,
        lines(),
        op.compress ? { compress: op.compress } : {},
      );
      await commitTask(op.dir, partition, tmp);
      return null;
    }
    case 'checkpoint': {
      // framed batches (storage/batch-file.ts), streamed: a partition never has to fit in memory
      const file = path.join(op.dir, `part-${String(partition).padStart(5, '0')}`);
      const w = await BatchFileWriter.create(`${file}.${attemptId}.tmp`);
      try {
        for await (const b of input) await w.writeRecords(b);
        await w.close();
      } catch (e) {
        await w.abort();
        throw e;
      }
      await fs.promises.rename(w.path, file);
      return null;
    }
    case 'none':
      for await (const _ of input) {
        /* drain */
      }
      return null;
  }
}

/** How non-string records are written by saveAsTextFile (Python's str() of tuples/lists is the model). */
export function stringify(r: unknown): string {
  if (r === null || r === undefined) return 'null';
  if (typeof r === 'object' && !(r instanceof Date))
    return JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
  return String(r);
}
