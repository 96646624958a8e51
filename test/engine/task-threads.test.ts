/**
 * Executor task threads: short tasks are handed to a thread ahead of time (to hide the main-thread round
 * trip), but a thread still runs its tasks one at a time, each with the thread's whole memory budget.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CinderContext } from '../../src/index.js';

let sc: CinderContext;
before(async () => {
  sc = await CinderContext.getOrCreate({ master: 'local[2]', appName: 'task-threads-test' });
});
after(async () => {
  await sc?.stop();
});

test('short tasks handed to a thread ahead of time never run concurrently in it', async () => {
  // each task counts itself in while its generator is open (across several output batches, with
  // event-loop turns between them) and reports the most tasks it ever saw open in its thread
  const seen = await sc
    .range(0, 300, 1, 300)
    .mapPartitions(function* () {
      const g = globalThis as { __open?: number; __maxOpen?: number };
      g.__open = (g.__open ?? 0) + 1;
      g.__maxOpen = Math.max(g.__maxOpen ?? 0, g.__open);
      for (let i = 0; i < 12_000; i++) yield i;
      g.__open--;
      yield -g.__maxOpen;
    })
    .map((x) => x)
    .filter((x) => x < 0)
    .collect();
  assert.equal(seen.length, 300);
  assert.deepEqual([...new Set(seen)], [-1]);
});
