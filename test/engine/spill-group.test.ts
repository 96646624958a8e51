// A groupByKey over data ten times the executors' memory budget completes with the exact result
// (spill-sort.test.ts the sort). cinder.executor.memory=64m gives each task thread a 64 MB heap and a 32 MB spill
// budget (executor/main.ts), so the ~330 MB (estimated) of records cannot be held in memory anywhere:
// only spilling map and reduce sides can finish. Results are checked on the executors (partition
// summaries), so the driver never holds the data either.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sharedContext } from '../api/ctx.js';

const ctx = sharedContext({ 'cinder.executor.memory': '64m' });

const N = 300_000; // records of ~1.1 KB (estimated): ~10x the 32 MB budget
const PAD = 1000;

test('groupByKey over 10x the memory budget groups every value exactly once', async () => {
  const sc = ctx();
  const K = 3000;
  const groups = await sc
    .range(0, N, 1, 8)
    .map((i) => [i % K, [i, 'y'.repeat(PAD)]] as [number, [number, string]], { K, PAD })
    .groupByKey(2)
    .mapValues((vs) => {
      let sum = 0;
      for (const v of vs) sum += v[0] + (v[1].length === 1000 ? 0 : Number.NaN);
      return [vs.length, sum];
    })
    .collect();
  assert.equal(groups.length, K);
  const seen = new Set<number>();
  for (const [k, [count, sum]] of groups) {
    seen.add(k);
    const n = N / K;
    assert.equal(count, n, `key ${k}`);
    // values k, k+K, ..., k+(n-1)K
    assert.equal(sum, n * k + (K * n * (n - 1)) / 2, `key ${k}`);
  }
  assert.equal(seen.size, K);
});
