/**
 * A task thread that dies (here: a task calls process.exit in it) takes with it the tasks handed to it
 * ahead of time and the statuses it had not sent yet. Only the task it was running is blamed: the others
 * run again without counting toward cinder.task.maxFailures.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { CinderContext } from '../../src/index.js';
import { tempDir } from '../api/ctx.js';
import { exitThreadOnce } from './thread-death-fns.js';

let sc: CinderContext;
before(async () => {
  // one executor with one task thread: the stage's short tasks queue up in that thread
  sc = await CinderContext.getOrCreate({
    master: 'local[1]',
    appName: 'thread-death-test',
    conf: { 'cinder.task.maxFailures': '2' },
  });
});
after(async () => {
  await sc?.stop();
});

test('a dying task thread blames only the task it ran; the tasks queued in it rerun without counting', async () => {
  const dir = tempDir('thread-death');
  // partitions 20 and 21 each end their thread once. When 20 does, 21 is queued in the same thread
  // (short tasks are handed ahead): were 21 counted as failed then, its own death would be its second
  // failure and the job would fail at maxFailures = 2
  const rows = await sc
    .range(0, 400, 1, 40)
    .mapPartitionsWithIndex((i, it) => exitThreadOnce(dir, i, [20, 21], [...it]), { dir })
    .collect();
  assert.deepEqual(
    rows,
    Array.from({ length: 400 }, (_, i) => i),
  );
  assert.deepEqual(fs.readdirSync(dir).sort(), ['died-20', 'died-21']);
});
