// Task retries (cinder.task.maxFailures), exactly-once accumulator merging across retries, and
// broadcast values fetched once per executor, end to end on local[2].
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { sharedContext, tempDir } from '../api/ctx.js';

const ctx = sharedContext();

test('a task that throws on its first attempt succeeds on retry; accumulators count it once', async () => {
  const sc = ctx();
  const dir = tempDir('retry');
  const acc = sc.accumulator(0);
  const out = await sc
    .range(0, 40, 1, 4)
    .mapPartitionsWithIndex(
      (i, it) => {
        const marker = path.join(dir, `p${i}`);
        const rows = [...it];
        for (const x of rows) acc.add(x);
        if (!fs.existsSync(marker)) {
          fs.writeFileSync(marker, 'failed once');
          throw new Error(`first attempt of partition ${i} fails`);
        }
        return rows.map((x) => x * 2);
      },
      { dir, acc },
    )
    .collect();
  assert.deepEqual(
    out,
    Array.from({ length: 40 }, (_, i) => i * 2),
  );
  assert.equal(fs.readdirSync(dir).length, 4, 'every partition failed once');
  // the failed attempts' updates are dropped: 0 + 1 + ... + 39 once
  assert.equal(acc.value, 780);
});

test('a shuffle map task that fails once is retried and the result is exact', async () => {
  const sc = ctx();
  const dir = tempDir('retry-map');
  const counts = await sc
    .range(0, 1000, 1, 3)
    .map(
      (x) => {
        const marker = path.join(dir, `m${x}`);
        if (x % 400 === 7 && !fs.existsSync(marker)) {
          fs.writeFileSync(marker, '');
          throw new Error('transient');
        }
        return [x % 10, 1] as [number, number];
      },
      { dir },
    )
    .reduceByKey((a, b) => a + b)
    .collectAsMap();
  assert.equal(counts.size, 10);
  for (const c of counts.values()) assert.equal(c, 100);
});

test('a task failing maxFailures times fails the job with the original error', async () => {
  const sc = ctx();
  const dir = tempDir('attempts');
  const err = await sc
    .parallelize([1, 2, 3], 3)
    .map(
      (x) => {
        if (x === 3) {
          fs.appendFileSync(path.join(dir, 'attempts'), '.');
          throw new SyntaxError('always broken');
        }
        return x;
      },
      { dir },
    )
    .collect()
    .then(
      () => undefined,
      (e: Error) => e,
    );
  assert.ok(err);
  assert.match(err.message, /always broken/);
  assert.equal((err.cause as Error).name, 'SyntaxError');
  assert.match((err.cause as Error).stack ?? '', /retry\.test\.ts:\d+/);
  assert.equal(fs.readFileSync(path.join(dir, 'attempts'), 'utf8'), '....', 'cinder.task.maxFailures defaults to 4');
});

test('broadcast values are fetched once per executor, not once per task', async () => {
  const sc = ctx();
  const endpoint = (sc as any).driver.endpoint;
  const hooks = endpoint.hooks as { getBroadcast(id: number): Uint8Array | undefined };
  const orig = hooks.getBroadcast;
  const fetched = new Map<number, number>();
  hooks.getBroadcast = (id: number) => {
    fetched.set(id, (fetched.get(id) ?? 0) + 1);
    return orig(id);
  };
  try {
    const table = sc.broadcast(Array.from({ length: 1000 }, (_, i) => i * i));
    const sum = await sc
      .range(0, 1000, 1, 20)
      .map((i) => table.value[i]!, { table })
      .sum();
    assert.equal(sum, 332_833_500);
    assert.equal(
      await sc
        .range(0, 10, 1, 10)
        .map((i) => table.value[i]!, { table })
        .count(),
      10,
    );
    const n = fetched.get(table.id) ?? 0;
    assert.ok(n >= 1 && n <= 2, `broadcast fetched ${n} times for 30 tasks on 2 executors`);
  } finally {
    hooks.getBroadcast = orig;
  }
});
