import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { BlockStore } from '../../src/storage/block-store.js';
import { estimateRecordsSize } from '../../src/storage/size-estimator.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-store-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

const block = (n: number, tag: string) => Array.from({ length: n }, (_, i) => [`${tag}-${i}`, i]);

test('levels: memory, disk, and too-big blocks', async () => {
  const dir = path.join(root, 'levels');
  const small = block(1000, 'a');
  const limit = Math.ceil(estimateRecordsSize(small) * 2.5);
  const store = new BlockStore({ dir, memoryLimitBytes: limit });
  assert.equal(await store.put('rdd_1_0', small, 'MEMORY_ONLY'), true);
  assert.equal(store.location('rdd_1_0'), 'memory');
  assert.ok(store.memoryUsed() > 0 && store.diskUsed() === 0);
  assert.equal(await store.get('rdd_1_0'), small);

  assert.equal(await store.put('rdd_2_0', small, 'DISK_ONLY'), true);
  assert.equal(store.location('rdd_2_0'), 'disk');
  assert.ok(store.diskUsed() > 0);
  assert.deepEqual(await store.get('rdd_2_0'), small, 'disk block reads back exactly');

  const big = block(10_000, 'big');
  assert.equal(await store.put('rdd_3_0', big, 'MEMORY_ONLY'), false, 'too big for memory-only');
  assert.equal(store.has('rdd_3_0'), false);
  assert.equal(await store.put('rdd_3_1', big, 'MEMORY_AND_DISK'), true, 'too big for memory goes to disk');
  assert.equal(store.location('rdd_3_1'), 'disk');
  assert.deepEqual(await store.get('rdd_3_1'), big);
  assert.equal(store.location('rdd_1_0'), 'memory', 'a too-big block evicts nothing');
  assert.equal(await store.get('rdd_9_9'), undefined);
  await assert.rejects(store.put('../etc', small, 'DISK_ONLY'), /invalid block id/);
  await store.close();
  assert.deepEqual(fs.readdirSync(dir), []);
  assert.equal(store.memoryUsed(), 0);
  assert.equal(store.diskUsed(), 0);
});

test('LRU eviction under the budget: memory-only blocks are dropped, memory-and-disk ones spill', async () => {
  const dir = path.join(root, 'lru');
  const one = estimateRecordsSize(block(1000, 'x'));
  const evicted: string[] = [];
  const store = new BlockStore({ dir, memoryLimitBytes: Math.ceil(one * 3.5), onEvicted: (id) => evicted.push(id) });
  await store.put('rdd_1_0', block(1000, 'p0'), 'MEMORY_ONLY');
  await store.put('rdd_1_1', block(1000, 'p1'), 'MEMORY_AND_DISK');
  await store.put('rdd_1_2', block(1000, 'p2'), 'MEMORY_ONLY');
  await store.get('rdd_1_0'); // touch: rdd_1_1 is now least recently used
  await store.put('rdd_1_3', block(1000, 'p3'), 'MEMORY_ONLY');
  assert.equal(store.location('rdd_1_1'), 'disk', 'LRU memory-and-disk block moved to disk');
  assert.deepEqual(evicted, [], 'nothing dropped yet');
  assert.deepEqual(await store.get('rdd_1_1'), block(1000, 'p1'));
  await store.put('rdd_1_4', block(1000, 'p4'), 'MEMORY_ONLY');
  assert.deepEqual(evicted, ['rdd_1_2'], 'LRU memory-only block dropped and reported');
  assert.equal(store.has('rdd_1_2'), false);
  assert.ok(store.memoryUsed() <= Math.ceil(one * 3.5));
  for (const id of ['rdd_1_0', 'rdd_1_3', 'rdd_1_4']) assert.equal(store.location(id), 'memory', id);
  await store.close();
});

test('unpersist frees memory and disk of one RDD only', async () => {
  const dir = path.join(root, 'unpersist');
  const store = new BlockStore({ dir, memoryLimitBytes: 64 << 20 });
  await store.put('rdd_5_0', block(100, 'a'), 'MEMORY_ONLY');
  await store.put('rdd_5_1', block(100, 'b'), 'DISK_ONLY');
  await store.put('rdd_50_0', block(100, 'c'), 'DISK_ONLY');
  await store.put('rdd_6_0', block(100, 'd'), 'MEMORY_AND_DISK');
  const removed = await store.removeRdd(5);
  assert.deepEqual(removed.sort(), ['rdd_5_0', 'rdd_5_1']);
  assert.deepEqual(store.blockIds().sort(), ['rdd_50_0', 'rdd_6_0']);
  assert.deepEqual(fs.readdirSync(dir), ['rdd_50_0.blk']);
  await store.remove('rdd_50_0');
  assert.equal(store.diskUsed(), 0);
  assert.deepEqual(fs.readdirSync(dir), []);
  // replacing a block does not leak its old size
  const before = store.memoryUsed();
  await store.put('rdd_6_0', block(100, 'd'), 'MEMORY_AND_DISK');
  assert.equal(store.memoryUsed(), before);
  await store.close();
  await assert.rejects(store.put('rdd_7_0', [], 'MEMORY_ONLY'), /closed/);
});
