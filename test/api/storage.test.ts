// cache/persist end to end on local[2]: every storage level serves the same data without recomputing,
// unpersist frees (the next action recomputes), LRU eviction under a small budget keeps results exact.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { StorageLevelName } from '../../src/index.js';
import { sharedContext, tempDir } from './ctx.js';

const ctx = sharedContext({ 'cinder.executor.memory': '64m' });

/** Number of times partition functions ran, counted with marker files (side effects outside the engine). */
function runs(dir: string): number {
  return fs.readdirSync(dir).length;
}

for (const level of ['MEMORY_ONLY', 'MEMORY_AND_DISK', 'DISK_ONLY'] as StorageLevelName[]) {
  test(`persist(${level}) computes once, serves later actions, and unpersist frees`, async () => {
    const sc = ctx();
    const dir = tempDir(`persist-${level}`);
    const rdd = sc
      .range(0, 1000, 1, 4)
      .mapPartitionsWithIndex(
        (i, it) => {
          fs.writeFileSync(path.join(dir, `${i}-${Date.now()}-${Math.random()}`), '');
          return [...it].map((x) => x * 2);
        },
        { dir },
      )
      .persist(level);
    assert.equal(rdd.getStorageLevel(), level);
    assert.equal(rdd.isCached(), true);
    assert.equal(await rdd.count(), 1000);
    assert.equal(runs(dir), 4);
    assert.equal(await rdd.sum(), 999_000);
    assert.deepEqual((await rdd.collect()).slice(0, 3), [0, 2, 4]);
    assert.equal(runs(dir), 4, 'later actions read the cached blocks');
    // a downstream shuffle reads the cache too
    assert.equal(
      await rdd
        .map((x) => [x % 3, 1] as [number, number])
        .reduceByKey((a, b) => a + b)
        .count(),
      3,
    );
    assert.equal(runs(dir), 4);
    rdd.unpersist();
    assert.equal(rdd.isCached(), false);
    assert.equal(await rdd.count(), 1000);
    assert.equal(runs(dir), 8, 'after unpersist the data is recomputed');
  });
}

test('cache() is MEMORY_ONLY; persist with another level needs unpersist first', () => {
  const sc = ctx();
  const r = sc.parallelize([1]).cache();
  assert.equal(r.getStorageLevel(), 'MEMORY_ONLY');
  assert.throws(() => r.persist('DISK_ONLY'), /unpersist/);
  r.unpersist();
  assert.equal(r.persist('DISK_ONLY').getStorageLevel(), 'DISK_ONLY');
});

test('MEMORY_ONLY over the memory budget evicts (LRU) and recomputes; results stay exact', async () => {
  const sc = ctx();
  // ~8 MB per partition, 12 partitions: far more than the ~19 MB block-store budget of a task thread
  const big = sc
    .range(0, 12, 1, 12)
    .flatMap((p) => Array.from({ length: 8000 }, (_, j) => `${p}:${j}:${'q'.repeat(1000)}`));
  big.cache();
  assert.equal(await big.count(), 96_000);
  assert.equal(await big.count(), 96_000);
  const lens = await big.map((s) => s.length).reduce((a, b) => Math.max(a, b));
  assert.ok(lens > 1000);
  big.unpersist();
});
