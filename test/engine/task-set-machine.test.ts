// Stories for the task-set machine (one stage attempt's tasks) driven by events and a manual clock,
// no processes: offers, results, failures against maxFailures, executor loss, fetch failure, kill,
// locality waits. The last stories wire it to the DAG machine the way the two shells do.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidTransition } from '../../src/common/machine.js';
import type { TaskFailure } from '../../src/protocol/executor.js';
import {
  newTaskSetState,
  type TaskSetEffect,
  type TaskSetEvent,
  type TaskSetState,
  type TaskSpec,
  taskSetMachine,
} from '../../src/scheduler/task-set-machine.js';
import { assertInvariants, DagDriver, submits } from './dag-harness.js';

class Clock {
  now = 1_000;
  advance(ms: number): void {
    this.now += ms;
  }
}

const noBody = new Uint8Array(0);
function tasks(n: number, preferred: string[][] = []): TaskSpec[] {
  return Array.from({ length: n }, (_, p) => ({ partition: p, body: noBody, preferred: preferred[p] ?? [] }));
}

/** A task set plus a shell's bookkeeping: task ids, live executors, every effect. */
class SetDriver {
  readonly clock = new Clock();
  readonly alive = new Map<string, true>([
    ['e1', true],
    ['e2', true],
  ]);
  readonly s: TaskSetState;
  nextTaskId = 0;
  constructor(specs: TaskSpec[], conf = { maxFailures: 4, localityWaitMs: 3000 }) {
    this.s = newTaskSetState({ jobId: 0, stageId: 3, stageAttempt: 0 }, specs, conf, this.clock.now);
  }
  step(e: TaskSetEvent): TaskSetEffect[] {
    return taskSetMachine.step(this.s, e).effects;
  }
  /** one offer; returns [taskId, partition] when a task was launched */
  offer(executorId: string): [number, number] | undefined {
    const fx = this.step({
      type: 'Offer',
      executorId,
      taskId: this.nextTaskId,
      now: this.clock.now,
      alive: this.alive,
    });
    const f = fx[0];
    if (f?.kind !== 'Launch') return undefined;
    this.nextTaskId++;
    return [f.taskId, f.partition];
  }
  fail(taskId: number, failure?: TaskFailure): TaskSetEffect[] {
    return this.step({ type: 'Failed', taskId, failure });
  }
}

const userError = (counts = true): TaskFailure => ({
  kind: 'Exception',
  error: { name: 'TypeError', message: 'x is undefined', stack: 'TypeError: x is undefined\n    at app.ts:3:7' },
  countsTowardFailures: counts,
});

test('offers launch pending tasks in order; each partition is accepted once; the set then SUCCEEDED', () => {
  const d = new SetDriver(tasks(3));
  assert.deepEqual(d.offer('e1'), [0, 0]);
  assert.deepEqual(d.offer('e2'), [1, 1]);
  assert.deepEqual(d.step({ type: 'Running', taskId: 0 }), []);
  assert.equal(d.s.running.get(0)?.state, 'RUNNING');
  assert.deepEqual(d.step({ type: 'Finished', taskId: 0, runMs: 5 }), [
    { kind: 'Succeeded', taskId: 0, partition: 0, executorId: 'e1' },
  ]);
  assert.deepEqual(d.offer('e1'), [2, 2]);
  assert.equal(d.offer('e1'), undefined, 'nothing pending');
  d.step({ type: 'Finished', taskId: 2, runMs: 5 });
  assert.equal(d.s.shortTasks, true, 'two tasks under 20 ms: launches may be prefetched');
  assert.equal(d.s.status, 'ACTIVE');
  d.step({ type: 'Finished', taskId: 1, runMs: 5 });
  assert.equal(d.s.status, 'SUCCEEDED');
  assert.equal(d.s.numDone, 3);
  // a report for an attempt the set does not know (already ended) changes nothing
  assert.deepEqual(d.step({ type: 'Finished', taskId: 1, runMs: 5 }), []);
});

test('a task failing maxFailures times aborts the set with the user error; failures that do not count are retried freely', () => {
  const d = new SetDriver(tasks(2), { maxFailures: 3, localityWaitMs: 0 });
  d.offer('e1'); // task 0 -> p0
  d.offer('e2'); // task 1 -> p1
  assert.deepEqual(d.fail(1, userError()), [
    { kind: 'Ended', taskId: 1, executorId: 'e2' },
    { kind: 'Retry', partition: 1, attempt: 0, failures: 1, message: 'x is undefined' },
  ]);
  assert.deepEqual(d.s.pending, [1], 'retried at the back of the queue');
  assert.deepEqual(d.offer('e2'), [2, 1]);
  d.fail(2, userError(false)); // e.g. an OOM-killed worker thread: not the task's fault
  assert.equal(d.s.failures[1], 1);
  assert.deepEqual(d.offer('e2'), [3, 1]);
  d.fail(3, userError());
  assert.deepEqual(d.offer('e2'), [4, 1]);
  assert.equal(d.s.running.get(4)?.attempt, 3, 'the fourth attempt of partition 1');
  const fx = d.fail(4, userError());
  assert.equal(d.s.status, 'ABORTED');
  assert.deepEqual(
    fx.map((f) => f.kind),
    ['Ended', 'Aborted'],
  );
  const abort = fx[1];
  assert.ok(abort?.kind === 'Aborted');
  assert.equal(
    abort.error.message,
    'Job aborted: task 1 in stage 3 failed 3 times; most recent failure on executor e2: TypeError: x is undefined',
  );
  assert.equal((abort.error.cause as Error).name, 'TypeError');
  assert.equal((abort.error as { remoteStack?: string }).remoteStack, 'TypeError: x is undefined\n    at app.ts:3:7');
  // partition 0's attempt still runs: its result is drained, not forwarded
  assert.deepEqual(d.step({ type: 'Finished', taskId: 0, runMs: 1 }), [{ kind: 'Ended', taskId: 0, executorId: 'e1' }]);
  assert.equal(d.s.running.size, 0);
});

test('an executor lost mid-stage: its running tasks go back to the front, not counted as failures', () => {
  const d = new SetDriver(tasks(4));
  d.offer('e1'); // 0 -> p0
  d.offer('e2'); // 1 -> p1
  d.offer('e1'); // 2 -> p2
  d.step({ type: 'Finished', taskId: 1, runMs: 50 });
  const fx = d.step({ type: 'ExecutorLost', executorId: 'e1' });
  assert.deepEqual(fx, [
    { kind: 'Ended', taskId: 0, executorId: 'e1' },
    { kind: 'Ended', taskId: 2, executorId: 'e1' },
  ]);
  assert.deepEqual(d.s.pending, [2, 0, 3]);
  assert.deepEqual(d.s.failures, [0, 0, 0, 0]);
  d.alive.delete('e1');
  assert.deepEqual(d.offer('e2'), [3, 2]);
  assert.equal(d.s.running.get(3)?.attempt, 1, 'a second attempt of partition 2');
  // the lost executor's late report of task 0 is not known any more
  assert.deepEqual(d.step({ type: 'Finished', taskId: 0, runMs: 1 }), []);
  assert.equal(d.s.done[0], 0);
});

test('a fetch failure ends the attempt of the whole set (ZOMBIE); its other results are ignored, a kill changes nothing', () => {
  const d = new SetDriver(tasks(3));
  d.offer('e1');
  d.offer('e2');
  const fx = d.fail(0, {
    kind: 'FetchFailed',
    shuffleId: 4,
    mapIndex: 2,
    executorId: 'e9',
    error: { name: 'Error', message: 'ECONNREFUSED' },
  });
  assert.deepEqual(fx, [
    { kind: 'Ended', taskId: 0, executorId: 'e1' },
    {
      kind: 'FetchFailed',
      shuffleId: 4,
      mapIndex: 2,
      executorId: 'e9',
      error: { name: 'Error', message: 'ECONNREFUSED' },
    },
  ]);
  assert.equal(d.s.status, 'ZOMBIE');
  assert.deepEqual(d.s.pending, []);
  assert.deepEqual(d.step({ type: 'Finished', taskId: 1, runMs: 1 }), [{ kind: 'Ended', taskId: 1, executorId: 'e2' }]);
  assert.equal(d.s.numDone, 0, 'a zombie result is not accepted');
  assert.deepEqual(d.step({ type: 'Kill', reason: 'stage resubmitted' }), []);
});

test('kill: no more launches, running attempts are asked to stop per executor, their late results ignored', () => {
  const d = new SetDriver(tasks(5));
  d.offer('e1');
  d.offer('e2');
  d.offer('e1');
  assert.deepEqual(d.step({ type: 'Kill', reason: 'job 0 ended' }), [
    { kind: 'KillTasks', executorId: 'e1', taskIds: [0, 2], reason: 'job 0 ended' },
    { kind: 'KillTasks', executorId: 'e2', taskIds: [1], reason: 'job 0 ended' },
  ]);
  assert.equal(d.s.status, 'ZOMBIE');
  assert.deepEqual(d.s.pending, []);
  assert.deepEqual(d.step({ type: 'Killed', taskId: 0 }), [{ kind: 'Ended', taskId: 0, executorId: 'e1' }]);
  assert.deepEqual(d.step({ type: 'Finished', taskId: 2, runMs: 1 }), [{ kind: 'Ended', taskId: 2, executorId: 'e1' }]);
  assert.deepEqual(d.step({ type: 'ExecutorLost', executorId: 'e2' }), [
    { kind: 'Ended', taskId: 1, executorId: 'e2' },
  ]);
  assert.deepEqual(d.s.pending, [], 'a zombie requeues nothing');
});

test('kill after the set is over: attempts still running (an aborted stage, a zombie) are asked to stop', () => {
  // aborted: one task used up its failures while another still runs
  const a = new SetDriver(tasks(2), { maxFailures: 1, localityWaitMs: 3000 });
  a.offer('e1');
  a.offer('e2');
  a.fail(0, userError());
  assert.equal(a.s.status, 'ABORTED');
  assert.deepEqual(a.step({ type: 'Kill', reason: 'stage aborted' }), [
    { kind: 'KillTasks', executorId: 'e2', taskIds: [1], reason: 'stage aborted' },
  ]);
  assert.equal(a.s.status, 'ABORTED', 'a kill does not change how the set ended');
  assert.deepEqual(a.step({ type: 'Killed', taskId: 1 }), [{ kind: 'Ended', taskId: 1, executorId: 'e2' }]);
  assert.deepEqual(a.step({ type: 'Kill', reason: 'again' }), [], 'nothing left running: nothing to ask');
  // zombie after a fetch failure, with two attempts running on two executors
  const z = new SetDriver(tasks(3));
  z.offer('e1');
  z.offer('e2');
  z.offer('e1');
  z.fail(0, {
    kind: 'FetchFailed',
    shuffleId: 4,
    mapIndex: 2,
    executorId: 'e9',
    error: { name: 'Error', message: 'ECONNREFUSED' },
  });
  assert.equal(z.s.status, 'ZOMBIE');
  assert.deepEqual(z.step({ type: 'Kill', reason: 'job 0 cancelled' }), [
    { kind: 'KillTasks', executorId: 'e2', taskIds: [1], reason: 'job 0 cancelled' },
    { kind: 'KillTasks', executorId: 'e1', taskIds: [2], reason: 'job 0 cancelled' },
  ]);
  assert.equal(z.s.status, 'ZOMBIE');
});

test('an attempt reported killed by its executor is requeued first and not counted', () => {
  const d = new SetDriver(tasks(2));
  d.offer('e1');
  assert.deepEqual(d.step({ type: 'Killed', taskId: 0 }), [{ kind: 'Ended', taskId: 0, executorId: 'e1' }]);
  assert.deepEqual(d.s.pending, [0, 1]);
  d.offer('e1');
  d.fail(1, { kind: 'Killed', reason: 'preempted' });
  assert.deepEqual(d.s.pending, [0, 1]);
  assert.deepEqual(d.s.failures, [0, 0]);
});

test('locality: a task waits for an executor holding its cached input until the wait is over (manual clock)', () => {
  const d = new SetDriver(tasks(2, [['e2'], []]), { maxFailures: 4, localityWaitMs: 3000 });
  // e1 gets the task without a preference; the cached one waits for e2
  assert.deepEqual(d.offer('e1'), [0, 1]);
  assert.deepEqual(d.step({ type: 'Offer', executorId: 'e1', taskId: 1, now: d.clock.now, alive: d.alive }), [
    { kind: 'WaitForLocality' },
  ]);
  d.clock.advance(2999);
  assert.equal(d.offer('e1'), undefined);
  d.clock.advance(1);
  assert.deepEqual(d.offer('e1'), [1, 0], 'the wait is over: any executor');
  // a preferred executor that is gone does not make a task wait
  const g = new SetDriver(tasks(1, [['e7']]));
  assert.deepEqual(g.offer('e1'), [0, 0]);
  // a local launch restarts the wait
  const l = new SetDriver(tasks(3, [['e2'], ['e2'], ['e2']]));
  l.clock.advance(5000);
  assert.deepEqual(l.offer('e2'), [0, 0]);
  assert.equal(l.s.lastLocalLaunch, l.clock.now);
  assert.equal(l.offer('e1'), undefined);
});

test('locality: a task whose input is only cached (localCheckpoint) runs where it is, however long the wait, while that executor lives', () => {
  const only: TaskSpec[] = [{ partition: 0, body: noBody, preferred: ['e2'], localOnly: true }];
  const d = new SetDriver(only, { maxFailures: 4, localityWaitMs: 3000 });
  assert.equal(d.offer('e1'), undefined);
  d.clock.advance(60_000);
  assert.equal(d.offer('e1'), undefined, 'the locality wait does not send it elsewhere');
  assert.deepEqual(d.offer('e2'), [0, 0]);
  // its executor gone: it runs anywhere (and fails there saying the block is lost)
  const g = new SetDriver(only);
  g.alive.delete('e2');
  assert.deepEqual(g.offer('e1'), [0, 0]);
});

test('illegal: a set that is not ACTIVE takes no offer (InvalidTransition, state unchanged)', () => {
  for (const end of ['ZOMBIE', 'SUCCEEDED', 'ABORTED'] as const) {
    const d = new SetDriver(tasks(2));
    d.s.status = end;
    const before = JSON.stringify({ p: d.s.pending, a: d.s.attempts, r: [...d.s.running.keys()] });
    assert.throws(
      () => d.offer('e1'),
      (e: Error) =>
        e instanceof InvalidTransition &&
        e.message.startsWith(`task set 3.0: event Offer is not valid in state ${end}`),
    );
    assert.equal(JSON.stringify({ p: d.s.pending, a: d.s.attempts, r: [...d.s.running.keys()] }), before);
    assert.equal(d.s.status, end);
  }
});

// ------------------------------------------------------------------ both machines, as the shells wire them

test('story: a user function failing maxFailures times fails the job with the user error', () => {
  const dag = new DagDriver();
  const fx = dag.submitJob({ jobId: 0, stageId: 0, partitions: [0, 1] });
  const [sub] = submits(fx);
  assert.ok(sub);
  const set = new SetDriver(tasks(2), { maxFailures: 4, localityWaitMs: 0 });
  set.offer('e1');
  let fwd: TaskSetEffect[] = [];
  for (let i = 0; i < 4; i++) {
    const t = set.offer('e2');
    assert.ok(t && t[1] === 1);
    fwd = set.fail(t[0], userError());
  }
  const abort = fwd.find((f) => f.kind === 'Aborted');
  assert.ok(abort?.kind === 'Aborted');
  dag.step({ type: 'TaskSetFailed', stageId: 0, attempt: sub.attempt, error: abort.error });
  const o = dag.outcomes.get(0);
  assert.ok(o && !o.ok);
  assert.match(o.error.message, /failed 4 times; most recent failure on executor e2: TypeError: x is undefined/);
  assert.equal((o.error.cause as Error).name, 'TypeError');
  assert.equal(dag.taskSets.size, 0);
  assertInvariants(dag);
});

test('story: executor lost mid map stage: its tasks rerun without counting, its finished outputs are recomputed', () => {
  const dag = new DagDriver();
  dag.submitJob({
    jobId: 0,
    stageId: 1,
    partitions: [0],
    parents: [0],
    stages: [{ stageId: 0, shuffleId: 2, numMaps: 3, parents: [] }],
  });
  const set = new SetDriver(tasks(3));
  const forward = (fx: TaskSetEffect[]) => {
    for (const f of fx) if (f.kind === 'Succeeded') dag.mapDone(0, f.partition, f.executorId, 0);
  };
  set.offer('e1'); // p0
  set.offer('e2'); // p1
  forward(set.step({ type: 'Finished', taskId: 0, runMs: 30 })); // map 0 on e1 registered
  set.offer('e1'); // p2 on e1
  // e1 dies: the shell tells the task set (p2 requeued) and the DAG (map 0's output dropped)
  set.alive.delete('e1');
  assert.deepEqual(set.step({ type: 'ExecutorLost', executorId: 'e1' }), [
    { kind: 'Ended', taskId: 2, executorId: 'e1' },
  ]);
  dag.step({ type: 'ExecutorLost', executorId: 'e1' });
  assert.deepEqual(dag.dag.outputs.missing(2), [0, 1, 2]);
  assert.deepEqual(set.offer('e2'), [3, 2]);
  forward(set.step({ type: 'Finished', taskId: 1, runMs: 30 }));
  forward(set.step({ type: 'Finished', taskId: 3, runMs: 30 }));
  assert.equal(set.s.status, 'SUCCEEDED');
  assert.deepEqual(set.s.failures, [0, 0, 0]);
  // the set is done but map 0 is missing: a second attempt for it alone, not a failed attempt
  assert.deepEqual(dag.dag.outputs.missing(2), [0]);
  assert.equal(dag.attempt(0), 1);
  assert.deepEqual(dag.taskSets.get(0)?.partitions, [0]);
  assert.equal(dag.dag.stages.get(0)?.failedAttempts, 0);
  assertInvariants(dag);
});
