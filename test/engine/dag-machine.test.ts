// Stories for the DAG machine (jobs, stages, map-output registry) driven by events, no processes:
// what the shell is told to do after each event, written out by hand. Every story ends with the
// invariants of dag-harness.ts (no stage runs with a missing parent output, one result per partition,
// no task set left after its job).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidTransition } from '../../src/common/machine.js';
import { stepDag } from '../../src/scheduler/dag-machine.js';
import type { StageEvent, StageSpec } from '../../src/scheduler/dag-state.js';
import { jobMachine } from '../../src/scheduler/job-machine.js';
import { stageMachine } from '../../src/scheduler/stage-machine.js';
import { assertInvariants, bytes, DagDriver, emitted, kills, mapStatus, submits, text } from './dag-harness.js';

// A join: map stages A (stage 0, shuffle 10) and B (stage 1, shuffle 11), two maps each; result stage R (2).
const A = 0;
const B = 1;
const R = 2;
const joinStages: StageSpec[] = [
  { stageId: A, shuffleId: 10, numMaps: 2, parents: [] },
  { stageId: B, shuffleId: 11, numMaps: 2, parents: [] },
];
function submitJoin(d: DagDriver, jobId = 0) {
  return d.submitJob({
    jobId,
    stageId: R,
    partitions: [0, 1],
    parents: [A, B],
    stages: joinStages,
    description: 'join',
  });
}
/** the join with both map stages done (A and B map 0 on e1, map 1 on e2) and R running attempt 0 */
function joinRunning(): DagDriver {
  const d = new DagDriver();
  submitJoin(d);
  d.mapDone(A, 0, 'e1');
  d.mapDone(A, 1, 'e2');
  d.mapDone(B, 0, 'e1');
  d.mapDone(B, 1, 'e2');
  assert.equal(d.status(R), 'RUNNING');
  return d;
}

test('a job runs its parent stages first (in parallel), then its result stage; results come in partition order', () => {
  const d = new DagDriver();
  const fx = submitJoin(d);
  assert.deepEqual(emitted(fx), [
    'jobStart {"jobId":0,"description":"join","stageId":2,"numTasks":2}',
    'stageSubmitted {"stageId":0,"attempt":0,"numTasks":2,"jobId":0}',
    'stageSubmitted {"stageId":1,"attempt":0,"numTasks":2,"jobId":0}',
  ]);
  assert.deepEqual(submits(fx), [
    { stageId: 0, attempt: 0, partitions: [0, 1] },
    { stageId: 1, attempt: 0, partitions: [0, 1] },
  ]);
  assert.equal(d.status(R), 'WAITING');
  d.mapDone(A, 0, 'e1');
  assert.deepEqual(emitted(d.mapDone(A, 1, 'e2')), ['stageCompleted {"stageId":0,"attempt":0}']);
  assert.equal(d.status(A), 'AVAILABLE');
  assert.equal(d.status(R), 'WAITING', 'B is still missing');
  d.mapDone(B, 0, 'e2');
  const launch = d.mapDone(B, 1, 'e1');
  assert.deepEqual(submits(launch), [{ stageId: 2, attempt: 0, partitions: [0, 1] }]);
  const set = launch.find((f) => f.kind === 'SubmitTaskSet');
  assert.deepEqual(set?.kind === 'SubmitTaskSet' && set.mapLocations, {
    10: [
      { mapIndex: 0, executorId: 'e1', host: 'host-e1', port: 7000 },
      { mapIndex: 1, executorId: 'e2', host: 'host-e2', port: 7000 },
    ],
    11: [
      { mapIndex: 0, executorId: 'e2', host: 'host-e2', port: 7000 },
      { mapIndex: 1, executorId: 'e1', host: 'host-e1', port: 7000 },
    ],
  });
  d.resultDone(R, 1, 'one');
  const end = d.resultDone(R, 0, 'zero');
  assert.deepEqual(
    end.map((f) => f.kind),
    ['TaskDone', 'Emit', 'JobSucceeded', 'Emit'],
  );
  assert.deepEqual(emitted(end), ['stageCompleted {"stageId":2,"attempt":0}', 'jobEnd {"jobId":0,"ok":true}']);
  const o = d.outcomes.get(0);
  assert.ok(o?.ok);
  assert.deepEqual(o.results.map(text), ['zero', 'one']);
  assert.equal(d.dag.stages.has(R), false, 'a result stage ends with its job');
  assert.equal(d.status(A), 'AVAILABLE');
  assertInvariants(d);
});

test('join: a parent whose fresh output is lost while the other parent recomputes is recomputed before the reduce side relaunches', () => {
  // The reproduced failure: "internal: map output 0 of shuffle 11 missing at stage launch". The old
  // scheduler waited for both parents once and launched the reduce stage when the last of them finished,
  // without looking again at the one that had finished earlier and lost its output since.
  const d = joinRunning();
  // a reduce task cannot fetch A's map 0 from e1: e1's outputs (A 0 and B 0) are presumed lost
  const ff = d.fetchFailed(R, 10, 0, 'e1');
  assert.deepEqual(kills(ff), [{ stageId: R, attempt: 0 }]);
  assert.deepEqual(submits(ff), [
    { stageId: A, attempt: 1, partitions: [0] },
    { stageId: B, attempt: 1, partitions: [0] },
  ]);
  assert.equal(d.status(R), 'WAITING');
  // B recomputes first (on e3) ...
  assert.deepEqual(submits(d.mapDone(B, 0, 'e3')), [], 'A is still missing');
  assert.equal(d.status(B), 'AVAILABLE');
  // ... then e3 dies while A is still recomputing: B's fresh output is gone again
  const lost = d.step({ type: 'ExecutorLost', executorId: 'e3' });
  assert.deepEqual(submits(lost), [{ stageId: B, attempt: 2, partitions: [0] }]);
  assert.equal(d.status(B), 'RUNNING');
  // A finishes: the old logic launched R here, with B's map 0 missing
  const aDone = d.mapDone(A, 0, 'e2');
  assert.deepEqual(submits(aDone), [], 'R must not launch while B map 0 is missing');
  assert.equal(d.status(R), 'WAITING');
  assert.deepEqual(d.dag.outputs.missing(11), [0]);
  assertInvariants(d);
  // B's recompute finishes: now R launches its second attempt with every location present
  const bDone = d.mapDone(B, 0, 'e2');
  assert.deepEqual(submits(bDone), [{ stageId: R, attempt: 1, partitions: [0, 1] }]);
  const set = bDone.find((f) => f.kind === 'SubmitTaskSet');
  assert.deepEqual(
    set?.kind === 'SubmitTaskSet' && Object.values(set.mapLocations).map((ls) => ls.map((l) => l.executorId)),
    [
      ['e2', 'e2'],
      ['e2', 'e2'],
    ],
  );
  d.resultDone(R, 0, 'a');
  d.resultDone(R, 1, 'b');
  const o = d.outcomes.get(0);
  assert.ok(o?.ok);
  assert.deepEqual(o.results.map(text), ['a', 'b']);
  assert.equal(d.dag.stages.get(A)?.failedAttempts, 0);
  assertInvariants(d);
});

test('an executor lost while the reduce side runs: the reduce attempt stops, both parents recompute what it held, late results of the old attempt are ignored', () => {
  const d = joinRunning();
  d.resultDone(R, 1, 'old-1'); // partition 1 of attempt 0 finished before the loss: kept
  const fx = d.step({ type: 'ExecutorLost', executorId: 'e1' });
  assert.deepEqual(kills(fx), [{ stageId: R, attempt: 0 }]);
  assert.deepEqual(submits(fx), [
    { stageId: A, attempt: 1, partitions: [0] },
    { stageId: B, attempt: 1, partitions: [0] },
  ]);
  assert.equal(d.dag.stages.get(R)?.failedAttempts, 0, 'an executor loss is not a failed attempt');
  // a zombie task of R's attempt 0 reports: ignored, no TaskDone, no result
  assert.deepEqual(d.resultDone(R, 0, 'zombie', 0), []);
  d.mapDone(A, 0, 'e2');
  const relaunch = d.mapDone(B, 0, 'e2');
  assert.deepEqual(submits(relaunch), [{ stageId: R, attempt: 1, partitions: [0] }], 'only the missing partition');
  d.resultDone(R, 0, 'new-0');
  const o = d.outcomes.get(0);
  assert.ok(o?.ok);
  assert.deepEqual(o.results.map(text), ['new-0', 'old-1']);
  assertInvariants(d);
});

test('a fetch failure is retried by recomputing the map output; after maxStageAttempts the job aborts naming the stage', () => {
  const d = new DagDriver({ maxStageAttempts: 4 });
  d.submitJob({
    jobId: 0,
    stageId: 1,
    partitions: [0],
    parents: [0],
    stages: [{ stageId: 0, shuffleId: 5, numMaps: 1, parents: [] }],
  });
  d.mapDone(0, 0, 'e1');
  for (let attempt = 0; attempt < 3; attempt++) {
    assert.equal(d.attempt(1), attempt);
    const fx = d.fetchFailed(1, 5, 0, 'e1');
    assert.deepEqual(submits(fx), [{ stageId: 0, attempt: attempt + 1, partitions: [0] }]);
    assert.equal(d.dag.stages.get(1)?.failedAttempts, attempt + 1);
    assertInvariants(d);
    d.mapDone(0, 0, 'e1'); // recomputed on the same (flaky) executor
  }
  const last = d.fetchFailed(1, 5, 0, 'e1');
  assert.deepEqual(kills(last), [{ stageId: 1, attempt: 3 }]);
  assert.deepEqual(submits(last), [], 'no fifth attempt');
  const o = d.outcomes.get(0);
  assert.ok(o && !o.ok);
  assert.equal((o.error as { code?: string }).code, 'JOB_ABORTED');
  assert.match(
    o.error.message,
    /^Job aborted: stage 1 could not fetch shuffle data after 4 attempts: fetch failed: shuffle 5 map 0 on executor e1: connection refused/,
  );
  assert.deepEqual(emitted(last), ['jobEnd {"jobId":0,"ok":false}']);
  assert.equal(d.status(0), 'IDLE', 'the parent keeps no job and no task set');
  assertInvariants(d);
});

test('a task set aborted after maxFailures fails its job with that error; other stages of the job stop', () => {
  const d = new DagDriver();
  submitJoin(d);
  d.mapDone(A, 0, 'e1');
  const userError = new Error(
    'Job aborted: task 1 in stage 1 failed 4 times; most recent failure: TypeError: x is undefined',
  );
  const fx = d.step({ type: 'TaskSetFailed', stageId: B, attempt: 0, error: userError });
  assert.deepEqual(kills(fx), [
    { stageId: B, attempt: 0 },
    { stageId: A, attempt: 0 },
  ]);
  const o = d.outcomes.get(0);
  assert.ok(o && !o.ok);
  assert.equal(o.error, userError, 'the very error of the task set');
  assert.equal(d.status(A), 'IDLE');
  assert.equal(d.status(B), 'IDLE');
  assertInvariants(d);
  // the shuffle stages are reused by a later job: A keeps its finished map 0
  const again = submitJoin(d, 1);
  assert.deepEqual(submits(again), [
    { stageId: A, attempt: 1, partitions: [1] },
    { stageId: B, attempt: 1, partitions: [0, 1] },
  ]);
  assertInvariants(d);
});

test('outputs lost while their own stage runs are recomputed in a new attempt when it ends (not a failure)', () => {
  const d = new DagDriver();
  d.submitJob({
    jobId: 0,
    stageId: 1,
    partitions: [0],
    parents: [0],
    stages: [{ stageId: 0, shuffleId: 3, numMaps: 3, parents: [] }],
  });
  d.mapDone(0, 0, 'e1');
  d.mapDone(0, 1, 'e2');
  d.step({ type: 'ExecutorLost', executorId: 'e1' });
  assert.equal(d.status(0), 'RUNNING', 'its attempt goes on');
  const end = d.mapDone(0, 2, 'e2');
  assert.deepEqual(emitted(end), [
    'stageCompleted {"stageId":0,"attempt":0}',
    'stageSubmitted {"stageId":0,"attempt":1,"numTasks":1,"jobId":0}',
  ]);
  assert.deepEqual(submits(end), [{ stageId: 0, attempt: 1, partitions: [0] }]);
  assert.equal(d.dag.stages.get(0)?.failedAttempts, 0);
  assert.deepEqual(submits(d.mapDone(0, 0, 'e2')), [{ stageId: 1, attempt: 0, partitions: [0] }]);
  // a map output reported by an executor already gone is not registered (undefined map status)
  assertInvariants(d);
});

test('a map task whose executor died right after finishing leaves its output missing: recomputed', () => {
  const d = new DagDriver();
  d.submitJob({
    jobId: 0,
    stageId: 1,
    partitions: [0],
    parents: [0],
    stages: [{ stageId: 0, shuffleId: 3, numMaps: 1, parents: [] }],
  });
  const fx = d.step({ type: 'TaskSucceeded', stageId: 0, attempt: 0, partition: 0, executorId: 'gone' });
  assert.deepEqual(submits(fx), [{ stageId: 0, attempt: 1, partitions: [0] }]);
  assertInvariants(d);
});

test('cancelling a job stops the stages only it needs; a stage shared with another job keeps running', () => {
  const d = new DagDriver();
  const shared: StageSpec[] = [{ stageId: 0, shuffleId: 1, numMaps: 2, parents: [] }];
  d.submitJob({ jobId: 0, stageId: 1, partitions: [0], parents: [0], stages: shared });
  d.submitJob({ jobId: 1, stageId: 2, partitions: [0, 1], parents: [0], stages: shared });
  assert.deepEqual([...d.dag.stages.get(0)!.jobs], [0, 1]);
  const cancel = d.step({ type: 'JobCancelled', jobId: 0, error: new Error('cancelled by the user') });
  assert.deepEqual(kills(cancel), []);
  assert.deepEqual(emitted(cancel), ['jobEnd {"jobId":0,"ok":false}']);
  assert.equal(d.outcomes.get(0)?.ok, false);
  assert.equal(d.status(0), 'RUNNING');
  assert.equal(d.dag.stages.has(1), false);
  assertInvariants(d);
  const cancel2 = d.step({ type: 'JobCancelled', jobId: 1, error: new Error('cancelled too') });
  assert.deepEqual(kills(cancel2), [{ stageId: 0, attempt: 0 }]);
  assert.equal(d.status(0), 'IDLE');
  assertInvariants(d);
  // cancelling an ended job changes nothing
  assert.deepEqual(d.step({ type: 'JobCancelled', jobId: 1, error: new Error('again') }), []);
});

test('a job whose results exceed maxResultSize fails with RESULT_TOO_LARGE and stops its result stage', () => {
  const d = new DagDriver({ maxResultSize: 10 });
  d.submitJob({ jobId: 0, stageId: 0, partitions: [0, 1, 2], description: 'collect' });
  d.resultDone(0, 0, '123456');
  const fx = d.resultDone(0, 1, '123456');
  assert.deepEqual(kills(fx), [{ stageId: 0, attempt: 0 }]);
  const o = d.outcomes.get(0);
  assert.ok(o && !o.ok);
  assert.equal((o.error as { code?: string }).code, 'RESULT_TOO_LARGE');
  assert.match(
    o.error.message,
    /^collect: total size of results \(12 bytes\) exceeds cinder.driver.maxResultSize \(10\)/,
  );
  assertInvariants(d);
});

test('a finished shuffle is reused by the next job; the cleaner forgets it only when no job needs it', () => {
  const d = new DagDriver();
  const spec: StageSpec[] = [{ stageId: 0, shuffleId: 4, numMaps: 1, parents: [] }];
  d.submitJob({ jobId: 0, stageId: 1, partitions: [0], parents: [0], stages: spec });
  assert.deepEqual(d.step({ type: 'ShuffleUnreachable', shuffleId: 4 }), [], 'in use: kept');
  d.mapDone(0, 0, 'e1');
  d.resultDone(1, 0, 'x');
  const second = d.submitJob({ jobId: 1, stageId: 2, partitions: [0], parents: [0], stages: spec });
  assert.deepEqual(submits(second), [{ stageId: 2, attempt: 0, partitions: [0] }], 'the map stage is not rerun');
  d.resultDone(2, 0, 'y');
  assert.deepEqual(d.step({ type: 'ShuffleUnreachable', shuffleId: 4 }), [{ kind: 'RemoveShuffle', shuffleId: 4 }]);
  assert.equal(d.dag.stages.has(0), false);
  assert.equal(d.dag.outputs.has(4), false);
  assertInvariants(d);
});

test('a job over no partitions ends at once; a shuffle with no maps is available from the start', () => {
  const d = new DagDriver();
  const fx = d.submitJob({
    jobId: 0,
    stageId: 1,
    partitions: [],
    parents: [0],
    stages: [{ stageId: 0, shuffleId: 9, numMaps: 0, parents: [] }],
  });
  assert.deepEqual(emitted(fx), [
    'jobStart {"jobId":0,"description":"job 0","stageId":1,"numTasks":0}',
    'jobEnd {"jobId":0,"ok":true}',
  ]);
  assert.equal(d.status(0), 'AVAILABLE');
  const fx2 = d.submitJob({ jobId: 1, stageId: 2, partitions: [0], parents: [0] });
  assert.deepEqual(submits(fx2), [{ stageId: 2, attempt: 0, partitions: [0] }]);
  assertInvariants(d);
});

test('a three-level lineage: losing a grandparent output while the middle stage waits recomputes it first', () => {
  const d = new DagDriver();
  const stages: StageSpec[] = [
    { stageId: 0, shuffleId: 0, numMaps: 1, parents: [] },
    { stageId: 1, shuffleId: 1, numMaps: 2, parents: [0] },
  ];
  assert.deepEqual(submits(d.submitJob({ jobId: 0, stageId: 2, partitions: [0], parents: [1], stages })), [
    { stageId: 0, attempt: 0, partitions: [0] },
  ]);
  assert.deepEqual(submits(d.mapDone(0, 0, 'e1')), [{ stageId: 1, attempt: 0, partitions: [0, 1] }]);
  d.mapDone(1, 0, 'e2');
  // the middle stage's task for map 1 cannot read stage 0's output on e1
  const ff = d.fetchFailed(1, 0, 0, 'e1');
  assert.deepEqual(submits(ff), [{ stageId: 0, attempt: 1, partitions: [0] }]);
  assert.deepEqual(submits(d.mapDone(0, 0, 'e2')), [{ stageId: 1, attempt: 1, partitions: [1] }]);
  assert.deepEqual(submits(d.mapDone(1, 1, 'e2')), [{ stageId: 2, attempt: 0, partitions: [0] }]);
  d.resultDone(2, 0, 'ok');
  assert.ok(d.outcomes.get(0)?.ok);
  assertInvariants(d);
});

test('stop fails every running job and stops its task sets; later events change nothing', () => {
  const d = joinRunning();
  const err = new Error('the context was stopped');
  const fx = d.step({ type: 'Stop', error: err });
  assert.deepEqual(kills(fx), [{ stageId: R, attempt: 0 }]);
  const o = d.outcomes.get(0);
  assert.ok(o && !o.ok && o.error === err);
  assert.equal(d.dag.status, 'STOPPED');
  assert.deepEqual(d.step({ type: 'ExecutorLost', executorId: 'e1' }), []);
  assert.deepEqual(d.step({ type: 'Stop', error: err }), []);
  assertInvariants(d);
});

test('illegal events throw InvalidTransition and leave the state as it was', () => {
  const d = joinRunning();
  const before = JSON.stringify([...d.dag.stages.values()].map((s) => [s.id, s.status, s.attempt, [...s.jobs]]));
  // a job id or stage id the scheduler already knows
  assert.throws(() => submitJoin(d, 0), InvalidTransition);
  assert.throws(
    () => d.submitJob({ jobId: 7, stageId: R, partitions: [0] }),
    (e: Error) => e instanceof InvalidTransition && /dag job 7 \/ stage 2 \(already known\)/.test(e.message),
  );
  assert.equal(JSON.stringify([...d.dag.stages.values()].map((s) => [s.id, s.status, s.attempt, [...s.jobs]])), before);
  assert.equal(d.dag.jobs.size, 1);
  // a stopped scheduler takes no job
  d.step({ type: 'Stop', error: new Error('stopped') });
  assert.throws(
    () =>
      stepDag(d.dag, {
        type: 'JobSubmitted',
        jobId: 9,
        description: 'x',
        partitions: [],
        stageId: 9,
        parents: [],
        stages: [],
      }),
    (e: Error) => e instanceof InvalidTransition && /event JobSubmitted is not valid in state STOPPED/.test(e.message),
  );
  assert.equal(d.dag.jobs.size, 0);
  assert.equal(d.dag.stages.has(9), false);
});

test('job table: results only while RUNNING, a job starts once; ended jobs ignore late news', () => {
  const d = new DagDriver();
  const dag = d.dag;
  const job = {
    id: 5,
    description: 'j',
    stageId: 50,
    partitions: [0],
    status: 'NEW' as const,
    results: new Map<number, Uint8Array>(),
    resultBytes: 0,
    stages: new Set<number>(),
  };
  const c = { dag, job: { ...job } };
  assert.throws(() => jobMachine.step(c, { type: 'ResultTask', partition: 0, result: bytes('x') }), InvalidTransition);
  assert.throws(() => jobMachine.step(c, { type: 'Fail', error: new Error('x') }), InvalidTransition);
  assert.equal(c.job.status, 'NEW');
  assert.equal(c.job.results.size, 0);
  const started = jobMachine.step(c, { type: 'Start' });
  assert.equal(c.job.status, 'RUNNING');
  assert.deepEqual(
    started.effects.map((f) => f.kind),
    ['Emit', 'ToStage'],
  );
  assert.throws(() => jobMachine.step(c, { type: 'Start' }), /job 5: event Start is not valid in state RUNNING/);
  const failed = { dag, job: { ...job, status: 'FAILED' as const } };
  assert.deepEqual(jobMachine.step(failed, { type: 'ResultTask', partition: 0, result: bytes('x') }).effects, []);
  assert.deepEqual(jobMachine.step(failed, { type: 'Fail', error: new Error('x') }).effects, []);
  assert.throws(() => jobMachine.step(failed, { type: 'Start' }), InvalidTransition);
  const succeeded = { dag, job: { ...job, status: 'SUCCEEDED' as const } };
  assert.deepEqual(jobMachine.step(succeeded, { type: 'Fail', error: new Error('late') }).effects, []);
  assert.equal(succeeded.job.status, 'SUCCEEDED');
});

test('stage table: news that does not concern a stage in its status changes nothing', () => {
  const late = { stageId: A, attempt: 0 };
  const news = {
    ParentAvailable: { type: 'ParentAvailable' },
    ParentLost: { type: 'ParentLost' },
    OutputsLost: { type: 'OutputsLost' },
    Submit: { type: 'Submit', jobId: 0 },
    TaskSucceeded: { type: 'TaskSucceeded', ...late, partition: 0, executorId: 'e9', mapStatus: mapStatus('e9') },
    FetchFailed: { type: 'FetchFailed', ...late, shuffleId: 11, mapIndex: 0, executorId: 'e9', message: 'x' },
    TaskSetFailed: { type: 'TaskSetFailed', ...late, error: new Error('x') },
  } as const;
  const ignored: Record<string, Array<keyof typeof news>> = {
    IDLE: ['ParentAvailable', 'ParentLost', 'OutputsLost', 'TaskSucceeded', 'FetchFailed', 'TaskSetFailed'],
    WAITING: ['OutputsLost', 'TaskSucceeded', 'FetchFailed', 'TaskSetFailed'],
    AVAILABLE: ['Submit', 'ParentAvailable', 'ParentLost', 'TaskSucceeded', 'FetchFailed', 'TaskSetFailed'],
  };
  const snapshot = (d: DagDriver) =>
    JSON.stringify({
      stages: [...d.dag.stages.values()].map((s) => [
        s.id,
        s.status,
        s.attempt,
        s.failedAttempts,
        [...s.jobs],
        [...s.pending],
      ]),
      missing: [d.dag.outputs.missing(10), d.dag.outputs.missing(11)],
    });
  for (const [status, events] of Object.entries(ignored)) {
    for (const name of events) {
      // A in the wanted status: AVAILABLE (joinRunning), IDLE (after its job failed), WAITING (a parent missing)
      const d = joinRunning();
      if (status === 'IDLE') {
        d.step({ type: 'JobCancelled', jobId: 0, error: new Error('x') });
        d.step({ type: 'ExecutorLost', executorId: 'e1' });
      }
      const stage = d.dag.stages.get(status === 'WAITING' ? R : A)!;
      if (status === 'WAITING') d.step({ type: 'ExecutorLost', executorId: 'e1' });
      assert.equal(stage.status, status);
      const before = snapshot(d);
      const r = stageMachine.step({ dag: d.dag, stage }, news[name] as StageEvent);
      assert.deepEqual(r.effects, [], `${status} + ${name}`);
      assert.equal(snapshot(d), before, `${status} + ${name} changed the state`);
    }
  }
  // RUNNING: a parent becoming available again, its own outputs lost (checked at the attempt's end), an old attempt
  const d = joinRunning();
  const r = d.dag.stages.get(R)!;
  d.step({ type: 'TaskSetFailed', stageId: R, attempt: 7, error: new Error('not the running attempt') });
  for (const e of [{ type: 'ParentAvailable' }, { type: 'OutputsLost' }] as StageEvent[])
    assert.deepEqual(stageMachine.step({ dag: d.dag, stage: r }, e).effects, []);
  assert.equal(r.status, 'RUNNING');
  assert.equal(d.outcomes.size, 0);
  assertInvariants(d);
});
