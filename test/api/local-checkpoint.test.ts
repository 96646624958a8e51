// localCheckpoint() as in PySpark: after the next job the RDD is kept on the executors and its lineage is
// cut (toDebugString shows one line, the functions before the cut never run again); a block lost with its
// executor cannot be recomputed and the job fails saying so, pointing to checkpoint(). local[2], real
// executor processes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { LocalBackend } from '../../src/scheduler/local-backend.js';
import { sharedContext, tempDir } from './ctx.js';

const ctx = sharedContext();

async function waitFor(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** how many times the counted function ran (one byte appended per call, from any executor) */
function calls(dir: string): number {
  const f = path.join(dir, 'calls');
  return fs.existsSync(f) ? fs.statSync(f).size : 0;
}

test('localCheckpoint cuts the lineage after the next job (PySpark: isLocallyCheckpointed, toDebugString)', async () => {
  const sc = ctx();
  const dir = tempDir('lc');
  let rdd = sc.parallelize([1, 2, 3, 4, 5, 6], 3).map(
    (x) => {
      fs.appendFileSync(path.join(dir, 'calls'), 'x');
      return x * 2;
    },
    { dir },
  );
  // a lineage that grows as an iterative job's does: a shuffle, then narrow steps
  rdd = rdd
    .map((x) => [x % 3, x] as [number, number])
    .reduceByKey((a, b) => a + b, 2)
    .values();
  rdd = rdd.map((x) => x + 1).filter((x) => x > 0);
  const before = rdd.toDebugString().split('\n');
  assert.ok(before.length >= 4, `a lineage of several RDDs:\n${rdd.toDebugString()}`);
  assert.equal(rdd.isLocallyCheckpointed(), false);
  rdd.localCheckpoint();
  assert.equal(rdd.isLocallyCheckpointed(), true);
  assert.equal(rdd.getStorageLevel(), 'MEMORY_AND_DISK');
  // marked, not yet cut: the lineage is whole until a job computes it
  assert.equal(rdd.toDebugString().split('\n').length, before.length);

  const want = (() => {
    const sums = new Map<number, number>();
    for (const x of [1, 2, 3, 4, 5, 6].map((v) => v * 2)) sums.set(x % 3, (sums.get(x % 3) ?? 0) + x);
    return [...sums.values()].map((v) => v + 1).sort((a, b) => a - b);
  })();
  assert.deepEqual(
    (await rdd.collect()).sort((a, b) => a - b),
    want,
  );
  assert.equal(calls(dir), 6, 'the first job ran the function once per element');

  // the cut: one line, no parents, marked as a local checkpoint
  const after = rdd.toDebugString().split('\n');
  assert.equal(after.length, 1, rdd.toDebugString());
  assert.match(after[0]!, /local checkpoint/);
  assert.equal(rdd.isCheckpointed(), false, 'isCheckpointed() is about reliable checkpoints');
  // a child's lineage is two RDDs long
  const child = rdd.map((x) => x * 10);
  assert.equal(child.toDebugString().split('\n').length, 2, child.toDebugString());

  // later jobs read the kept blocks: nothing before the cut runs again
  assert.deepEqual(
    (await child.collect()).sort((a, b) => a - b),
    want.map((x) => x * 10),
  );
  assert.equal(await rdd.count(), 3);
  assert.equal(
    await rdd.sum(),
    want.reduce((a, b) => a + b, 0),
  );
  assert.equal(calls(dir), 6, 'no function before the cut ran again');
});

test('localCheckpoint after first(): the partitions that job did not compute are kept too', async () => {
  const sc = ctx();
  const dir = tempDir('lc-first');
  const rdd = sc.parallelize([1, 2, 3, 4, 5, 6, 7, 8], 4).map(
    (x) => {
      fs.appendFileSync(path.join(dir, 'calls'), 'x');
      return x * x;
    },
    { dir },
  );
  rdd.localCheckpoint();
  assert.equal(await rdd.first(), 1);
  assert.equal(rdd.toDebugString().split('\n').length, 1, rdd.toDebugString());
  assert.deepEqual(await rdd.collect(), [1, 4, 9, 16, 25, 36, 49, 64]);
  assert.equal(calls(dir), 8, 'every element computed exactly once');
});

test("a lost executor's block of a locally checkpointed RDD fails the job, naming the block and checkpoint()", async () => {
  const sc = ctx();
  const backend = sc._backend as LocalBackend;
  const rdd = sc.parallelize([1, 2, 3, 4, 5, 6, 7, 8], 8).map((x) => x + 100);
  rdd.localCheckpoint();
  assert.equal(await rdd.count(), 8);
  assert.equal(rdd.toDebugString().split('\n').length, 1);
  // both executors go (each may hold blocks); replacements start empty
  const before = backend.pids();
  for (const pid of before) process.kill(pid, 'SIGKILL');
  const executors = (): number => (sc as any).driver.ts.executors.size as number;
  await waitFor(
    () => executors() === 2 && backend.pids().length === 2 && backend.pids().every((p) => !before.includes(p)),
    'replacement executors',
  );
  await assert.rejects(rdd.collect(), (e: Error) => {
    assert.match(e.message, /block rdd_\d+_\d+ of locally checkpointed RDD \d+ is lost/);
    assert.match(`${e.message}\n${e.stack}`, /rdd\.checkpoint\(\)/);
    return true;
  });
});

test('unpersist() of a locally checkpointed RDD: its blocks are gone, a job says so', async () => {
  const sc = ctx();
  const rdd = sc.parallelize(['a', 'b', 'c'], 3).map((s) => s.toUpperCase());
  rdd.localCheckpoint();
  assert.deepEqual(await rdd.collect(), ['A', 'B', 'C']);
  rdd.unpersist();
  await assert.rejects(rdd.collect(), /locally checkpointed RDD \d+ is lost.*unpersisted/);
});
