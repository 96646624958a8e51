/**
 * The executor's status outbox (src/executor/status-outbox.ts): when statuses go to the driver and
 * which RUNNING statuses are dropped. Timers are injected so each case says exactly which tick sends.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coalesceStatuses, StatusOutbox } from '../../src/executor/status-outbox.js';
import type { TaskStatus } from '../../src/protocol/executor.js';

function harness(waiting: () => number) {
  const sent: TaskStatus[][] = [];
  const immediates: Array<() => void> = [];
  const timers = new Map<number, { f: () => void; ms: number }>();
  let nextTimer = 1;
  const box = new StatusOutbox({
    send: (u) => sent.push(u),
    waiting,
    holdMs: 2,
    maxBatch: 3,
    setImmediate: (f) => immediates.push(f),
    setTimeout: (f, ms) => {
      const id = nextTimer++;
      timers.set(id, { f, ms });
      return { id } as never;
    },
    clearTimeout: (t) => timers.delete((t as { id: number }).id),
  });
  const runImmediates = () => {
    for (const f of immediates.splice(0)) f();
  };
  const fireTimers = () => {
    for (const [id, t] of [...timers]) {
      timers.delete(id);
      t.f();
    }
  };
  return { box, sent, immediates, timers, runImmediates, fireTimers };
}

const fin = (taskId: number): TaskStatus => ({ taskId, state: 'FINISHED' });
const run = (taskId: number): TaskStatus => ({ taskId, state: 'RUNNING' });

test('with no task waiting, statuses of one tick go together at its end', () => {
  const h = harness(() => 0);
  h.box.report(run(1));
  h.box.report(fin(0));
  assert.equal(h.sent.length, 0, 'nothing sent inside the tick');
  h.runImmediates();
  assert.deepEqual(h.sent, [[run(1), fin(0)]]);
  assert.equal(h.timers.size, 0);
});

test('while tasks wait for a thread, statuses are held until the hold time passes', () => {
  const h = harness(() => 5);
  h.box.report(fin(1));
  h.box.report(fin(2));
  h.runImmediates();
  assert.equal(h.sent.length, 0, 'held');
  assert.deepEqual(
    [...h.timers.values()].map((t) => t.ms),
    [2],
    'one hold timer for the batch',
  );
  h.fireTimers();
  assert.deepEqual(h.sent, [[fin(1), fin(2)]]);
});

test('held statuses go at the end of the tick once the queue runs dry', () => {
  let waiting = 2;
  const h = harness(() => waiting);
  h.box.report(fin(1));
  h.runImmediates();
  assert.equal(h.sent.length, 0);
  waiting = 0;
  h.box.schedule();
  h.runImmediates();
  assert.deepEqual(h.sent, [[fin(1)]]);
  assert.equal(h.timers.size, 0, 'the hold timer is cancelled');
  h.fireTimers();
  assert.equal(h.sent.length, 1, 'nothing sent twice');
});

test('a full batch goes even while tasks wait', () => {
  const h = harness(() => 9);
  for (const id of [1, 2, 3]) h.box.report(fin(id));
  h.runImmediates();
  assert.deepEqual(h.sent, [[fin(1), fin(2), fin(3)]]);
});

test('a RUNNING status is dropped when its final status is in the same batch; others stay, in order', () => {
  const failed: TaskStatus = {
    taskId: 3,
    state: 'FAILED',
    failure: { kind: 'Killed', reason: 'job cancelled' },
  };
  assert.deepEqual(coalesceStatuses([run(1), run(2), fin(1), run(3), failed, run(4)]), [
    run(2),
    fin(1),
    failed,
    run(4),
  ]);
  const onlyRunning = [run(7), run(8)];
  assert.deepEqual(coalesceStatuses(onlyRunning), [run(7), run(8)]);
});
