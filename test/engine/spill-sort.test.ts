// A sort over data ten times the executors' memory budget completes with the exact result
// (spill-group.test.ts groupByKey). cinder.executor.memory=64m gives each task thread a 64 MB heap and a 32 MB spill
// budget (executor/main.ts), so the ~330 MB (estimated) of records cannot be held in memory anywhere:
// only spilling map and reduce sides can finish. Results are checked on the executors (partition
// summaries), so the driver never holds the data either.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sharedContext } from '../api/ctx.js';

const ctx = sharedContext({ 'cinder.executor.memory': '64m' });

const N = 300_000; // records of ~1.1 KB (estimated): ~10x the 32 MB budget
const PAD = 1000;

test('sortByKey over 10x the memory budget is globally sorted and complete', async () => {
  const sc = ctx();
  const summaries = await sc
    .range(0, N, 1, 8)
    .map((i) => [(i * 7919) % N, 'x'.repeat(PAD)] as [number, string], { PAD, N })
    .sortByKey(true, 2)
    .mapPartitionsWithIndex(function* (p, it) {
      let count = 0;
      let sum = 0;
      let first: number | null = null;
      let last: number | null = null;
      let ordered = true;
      for (const [k, v] of it) {
        if (last !== null && k < last) ordered = false;
        if (v.length !== 1000) ordered = false;
        if (first === null) first = k;
        last = k;
        count++;
        sum += k;
      }
      yield { p, count, sum, first, last, ordered };
    })
    .collect();
  assert.equal(summaries.length, 2);
  assert.ok(
    summaries.every((s) => s.ordered),
    'each partition is sorted',
  );
  assert.equal(
    summaries.reduce((a, s) => a + s.count, 0),
    N,
  );
  assert.equal(
    summaries.reduce((a, s) => a + s.sum, 0),
    (N * (N - 1)) / 2,
  );
  assert.equal(summaries[0]!.first, 0);
  assert.equal(summaries[1]!.last, N - 1);
  assert.ok(summaries[0]!.last! < summaries[1]!.first!, 'partitions are range-ordered');
  assert.ok(
    summaries.every((s) => s.count > N / 10),
    'the range partitioner balanced the keys',
  );
});
