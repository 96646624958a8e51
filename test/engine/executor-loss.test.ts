// Fault tolerance end to end on local[2]: an executor SIGKILLed mid-stage, map outputs lost with their
// executor (recomputed from lineage), and shuffle files gone from a live executor (fetch failure ->
// the parent stage is resubmitted). Every case must still yield the exact result.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { LocalBackend } from '../../src/scheduler/local-backend.js';
import { sharedContext, tempDir } from '../api/ctx.js';

const ctx = sharedContext();

function backend(): LocalBackend {
  return ctx()._backend as LocalBackend;
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function executorCount(): number {
  return (ctx() as any).driver.ts.executors.size as number;
}

test('an executor SIGKILLed mid-stage still yields the exact result', async () => {
  const sc = ctx();
  const dir = tempDir('kill');
  const before = backend().pids();
  assert.equal(before.length, 2);
  const job = sc
    .range(0, 4000, 1, 16)
    .mapPartitionsWithIndex(
      (i, it) => {
        fs.writeFileSync(path.join(dir, `started-${i}`), '');
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60); // a slow task
        return [...it].map((x) => x * 3);
      },
      { dir },
    )
    .collect();
  await waitFor(() => fs.readdirSync(dir).length >= 2, 'tasks to start');
  process.kill(before[0]!, 'SIGKILL');
  const out = await job;
  assert.deepEqual(
    out,
    Array.from({ length: 4000 }, (_, i) => i * 3),
  );
  // the lost executor is replaced
  await waitFor(() => backend().pids().length === 2 && executorCount() === 2, 'a replacement executor');
  assert.ok(!backend().pids().includes(before[0]!));
});

test("a lost executor's map outputs are recomputed from lineage", async () => {
  const sc = ctx();
  const counts = sc
    .range(0, 6000, 1, 6)
    .map((x) => [x % 50, x] as [number, number])
    .reduceByKey((a, b) => a + b, 4);
  const expected = new Map<number, number>();
  for (let x = 0; x < 6000; x++) expected.set(x % 50, (expected.get(x % 50) ?? 0) + x);
  assert.deepEqual(new Map(await counts.collect()), expected);
  // both executors hold map outputs of the finished shuffle; kill one, run again on the same RDD
  const victim = backend().pids()[1]!;
  process.kill(victim, 'SIGKILL');
  await waitFor(() => executorCount() === 1 || !backend().pids().includes(victim), 'the loss to be noticed');
  assert.deepEqual(new Map(await counts.collect()), expected);
  await waitFor(() => executorCount() === 2, 'a replacement executor');
});

test('an executor SIGKILLed during a reduce stage: its map outputs are refetched or recomputed', async () => {
  const sc = ctx();
  const dir = tempDir('kill-reduce');
  const job = sc
    .range(0, 8000, 1, 8)
    .map((x) => [x % 40, 1] as [number, number])
    .reduceByKey((a, b) => a + b, 12)
    .mapPartitionsWithIndex(
      (i, it) => {
        fs.writeFileSync(path.join(dir, `reduce-${i}`), '');
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 80);
        return [...it];
      },
      { dir },
    )
    .collectAsMap();
  await waitFor(() => fs.readdirSync(dir).length >= 2, 'reduce tasks to start');
  process.kill(backend().pids()[0]!, 'SIGKILL');
  const counts = await job;
  assert.equal(counts.size, 40);
  for (const c of counts.values()) assert.equal(c, 200);
  await waitFor(() => executorCount() === 2, 'a replacement executor');
});

test('missing shuffle files on a live executor: fetch failure resubmits the parent stage', async () => {
  const sc = ctx();
  const words = sc
    .range(0, 3000, 1, 4)
    .map((x) => [`w${x % 30}`, 1] as [string, number])
    .groupByKey(3)
    .mapValues((vs) => vs.length);
  const first = new Map(await words.collect());
  assert.equal(first.size, 30);
  // delete every shuffle file of every executor: all map outputs are now unreadable
  const workDir = (sc as any).driver.workDir as string;
  let removed = 0;
  for (const e of fs.readdirSync(workDir)) {
    const shuffleDir = path.join(workDir, e, 'shuffle');
    if (!fs.existsSync(shuffleDir)) continue;
    for (const f of fs.readdirSync(shuffleDir)) {
      fs.rmSync(path.join(shuffleDir, f), { recursive: true, force: true });
      removed++;
    }
  }
  assert.ok(removed > 0, 'found shuffle files to remove');
  const again = new Map(await words.collect());
  assert.deepEqual(again, first);
  for (const c of again.values()) assert.equal(c, 100);
});
