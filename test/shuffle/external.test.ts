import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Aggregator } from '../../src/shuffle/aggregator.js';
import { ExternalAppendOnlyMap } from '../../src/shuffle/external-map.js';
import { ExternalSorter } from '../../src/shuffle/external-sorter.js';
import { compareKeys } from '../../src/shuffle/partitioner.js';
import { estimateRecordsSize } from '../../src/storage/size-estimator.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ext-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
const MiB = 1 << 20;

const groupAgg: Aggregator<number, number[]> = {
  createCombiner: (v) => [v],
  mergeValue: (c, v) => {
    c.push(v);
    return c;
  },
  mergeCombiners: (a, b) => {
    for (const x of b) a.push(x);
    return a;
  },
};

/** Deterministic pseudo-random numbers. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('external map: groupByKey over ~10x the memory limit is exact and cleans up', async () => {
  const dir = path.join(root, 'agg');
  const limit = 2 * MiB;
  const map = new ExternalAppendOnlyMap({ aggregator: groupAgg, memoryLimitBytes: limit, spillDir: dir });
  const rnd = lcg(1);
  const expected = new Map<string, number[]>();
  let inputBytes = 0;
  for (let b = 0; b < 300; b++) {
    const batch: unknown[][] = [];
    for (let i = 0; i < 1000; i++) {
      const v = b * 1000 + i;
      // tuple keys: equal by content across spills, distinct from the string form
      const key = i % 7 === 0 ? ['t', Math.floor(rnd() * 500)] : `key-${Math.floor(rnd() * 30_000)}`;
      batch.push([key, v]);
      const ek = JSON.stringify(key);
      let l = expected.get(ek);
      if (!l) expected.set(ek, (l = []));
      l.push(v);
    }
    inputBytes += estimateRecordsSize(batch);
    await map.insertAll(batch);
    assert.ok(map.memoryEstimate() <= limit, 'in-memory estimate stays under the limit after each batch');
  }
  assert.ok(inputBytes >= 9 * limit, `input is ~10x the limit (${inputBytes} B)`);
  assert.ok(map.spillCount >= 5, `spilled ${map.spillCount} times`);
  assert.ok(fs.readdirSync(dir).length > 0, 'spill files exist while merging');
  const seen = new Set<string>();
  for await (const batch of map.batches()) {
    for (const [k, c] of batch as [unknown, number[]][]) {
      const ek = JSON.stringify(k);
      assert.ok(!seen.has(ek), `key ${ek} comes out once`);
      seen.add(ek);
      assert.deepEqual(
        c.sort((x, y) => x - y),
        expected.get(ek),
        `values of ${ek}`,
      );
    }
  }
  assert.equal(seen.size, expected.size);
  assert.deepEqual(fs.readdirSync(dir), [], 'spill files removed');
});

test('external sorter: sort over ~10x the memory limit is exact, stable, and cleans up', async () => {
  const dir = path.join(root, 'sort');
  const limit = MiB;
  const sorter = new ExternalSorter({ compare: compareKeys, memoryLimitBytes: limit, spillDir: dir });
  const rnd = lcg(2);
  const all: [unknown, number][] = [];
  let seq = 0;
  for (let b = 0; b < 200; b++) {
    const batch: [unknown, number][] = [];
    for (let i = 0; i < 1000; i++) {
      const r = rnd();
      const key = r < 0.5 ? Math.floor(r * 5000) : `s${Math.floor(r * 5000)}`;
      batch.push([key, seq++]);
    }
    for (const r of batch) all.push(r);
    await sorter.insertAll(batch);
  }
  assert.ok(estimateRecordsSize(all) >= 9 * limit);
  assert.ok(sorter.spillCount >= 5, `spilled ${sorter.spillCount} times`);
  const out: [unknown, number][] = [];
  for await (const b of sorter.batches()) for (const r of b) out.push(r as [unknown, number]);
  const expected = [...all].sort((a, b) => compareKeys(a[0], b[0]) || a[1] - b[1]);
  assert.equal(out.length, expected.length);
  assert.deepEqual(out, expected, 'sorted, with equal keys in input order');
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('spill files are removed on early exit and on error', async () => {
  const dir = path.join(root, 'abort');
  const sorter = new ExternalSorter({ compare: compareKeys, memoryLimitBytes: 64 * 1024, spillDir: dir });
  for (let b = 0; b < 20; b++) await sorter.insertAll(Array.from({ length: 1000 }, (_, i) => [i * 31 + b, b]));
  assert.ok(sorter.spillCount > 0);
  for await (const _ of sorter.batches()) break;
  assert.deepEqual(fs.readdirSync(dir), []);

  let calls = 0;
  const failing: Aggregator = {
    createCombiner: (v) => v,
    mergeValue: (c, v) => (c as number) + (v as number),
    mergeCombiners: () => {
      if (++calls > 0) throw new Error('boom in mergeCombiners');
      return 0;
    },
  };
  const map = new ExternalAppendOnlyMap({ aggregator: failing, memoryLimitBytes: 64 * 1024, spillDir: dir });
  for (let b = 0; b < 20; b++) await map.insertAll(Array.from({ length: 1000 }, (_, i) => [`k${i}`, 1]));
  assert.ok(map.spillCount > 0);
  await assert.rejects(async () => {
    for await (const _ of map.batches()) {
    }
  }, /boom in mergeCombiners/);
  assert.deepEqual(fs.readdirSync(dir), []);
});
