// Task cancellation end to end on local[2]: cancelled jobs (job groups, tags, all jobs), an aborted
// stage and a stopped context interrupt their running tasks (a task stuck in an endless loop has its
// thread replaced), the tasks are not counted as failures, and their slots are free for the next job.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { CinderError } from '../../src/index.js';
import { sharedContext } from './ctx.js';

const ctx = sharedContext({ 'cinder.task.maxFailures': '1' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A job whose tasks never end by themselves: user code that never yields. */
function endless() {
  return ctx()
    .parallelize([1, 2], 2)
    .map((x) => {
      for (;;) if (x < 0) break;
      return x;
    })
    .collect();
}

/** A job whose tasks take minutes but yield between batches (so they stop at their next batch). */
function long() {
  return ctx().range(0, 2e9, 1, 2).count();
}

/** CPU seconds an executor process has used (/proc/PID/stat utime + stime). */
function cpuSeconds(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/**
 * Both slots are free again: the driver's REST shows no active task within a few seconds, the executor
 * processes are idle (no thread still spinning), and a small job finishes.
 */
async function slotsFree(): Promise<void> {
  const sc = ctx();
  const url = `${sc.uiWebUrl}/api/v1/applications/${sc.applicationId}/executors`;
  const deadline = Date.now() + 5000;
  for (;;) {
    const execs = (await (await fetch(url)).json()) as Array<{ activeTasks: number }>;
    if (execs.length === 2 && execs.every((e) => e.activeTasks === 0)) break;
    assert.ok(Date.now() < deadline, `tasks still active: ${JSON.stringify(execs)}`);
    await sleep(100);
  }
  const pids = (sc._backend as unknown as { pids(): number[] }).pids();
  const before = pids.map(cpuSeconds);
  await sleep(1000);
  pids.forEach((p, i) => {
    const used = cpuSeconds(p) - before[i]!;
    assert.ok(used < 0.5, `executor ${p} used ${used} s of CPU in 1 s while idle`);
  });
  const t0 = Date.now();
  assert.equal(await ctx().parallelize([1, 2, 3, 4], 2).sum(), 10);
  assert.ok(Date.now() - t0 < 10_000, `the next job took ${Date.now() - t0} ms`);
}

const cancelled = (re: RegExp) => (e: Error) =>
  e instanceof CinderError && e.code === 'JOB_CANCELLED' && re.test(e.message);

test('cancelJobGroup interrupts a task in an endless loop and frees its slot', { timeout: 60_000 }, async () => {
  const sc = ctx();
  sc.setJobGroup('g1', 'endless work');
  assert.equal(sc.getLocalProperty('spark.jobGroup.id'), 'g1');
  const job = endless();
  await sleep(1000);
  const t0 = Date.now();
  sc.cancelJobGroup('other');
  sc.cancelJobGroup('g1');
  await assert.rejects(job, cancelled(/job \d+ cancelled as part of cancelled job group 'g1'/));
  assert.ok(Date.now() - t0 < 2000, 'the job fails at once');
  sc.clearJobGroup();
  await slotsFree();
});

test('addJobTag / cancelJobsWithTag cancel only the tagged jobs; tags belong to the async flow', {
  timeout: 60_000,
}, async () => {
  const sc = ctx();
  // two flows, as two request handlers would be: each callback has its own settings
  const inFlow = <R>(f: () => Promise<R>) =>
    new Promise<{ p: Promise<R> }>((resolve) => setImmediate(() => resolve({ p: f() })));
  const { p: tagged } = await inFlow(async () => {
    sc.addJobTag('nightly');
    sc.addJobTag('report');
    assert.deepEqual([...sc.getJobTags()].sort(), ['nightly', 'report']);
    return long();
  });
  const { p: untagged } = await inFlow(async () => {
    assert.deepEqual([...sc.getJobTags()], []);
    return sc.parallelize([1, 2, 3], 2).sum();
  });
  tagged.catch(() => {});
  assert.deepEqual([...sc.getJobTags()], [], 'the test itself has no tags');
  await sleep(800);
  sc.cancelJobsWithTag('report');
  await assert.rejects(tagged, cancelled(/cancelled as part of cancelled job tag 'report'/));
  assert.equal(await untagged, 6);
  assert.throws(() => sc.addJobTag(''), /a job tag cannot be an empty string/);
  assert.throws(() => sc.addJobTag('a,b'), /a job tag cannot contain ','/);
  sc.addJobTag('x');
  sc.removeJobTag('x');
  assert.deepEqual([...sc.getJobTags()], []);
  sc.addJobTag('y');
  sc.clearJobTags();
  assert.deepEqual([...sc.getJobTags()], []);
  await slotsFree();
});

test('cancelAllJobs cancels every running job', { timeout: 60_000 }, async () => {
  const sc = ctx();
  const a = long();
  const b = endless();
  a.catch(() => {});
  b.catch(() => {});
  await sleep(1000);
  sc.cancelAllJobs();
  await assert.rejects(a, cancelled(/as part of cancellation of all jobs/));
  await assert.rejects(b, cancelled(/as part of cancellation of all jobs/));
  await slotsFree();
});

test('a stage aborted after its failure limit kills its other running task', { timeout: 60_000 }, async () => {
  const sc = ctx();
  const t0 = Date.now();
  const job = sc
    .parallelize([0, 1], 2)
    .map((x) => {
      if (x === 0) throw new Error('boom');
      for (;;) if (x < 0) break;
      return x;
    })
    .collect();
  await assert.rejects(job, /boom/);
  assert.ok(Date.now() - t0 < 10_000);
  // the endless task on the other slot was killed: the next job gets both slots
  await slotsFree();
});

test("rdd.pipe ignores the command's exit code unless checkCode is set (PySpark)", async () => {
  const sc = ctx();
  assert.deepEqual(await sc.parallelize(['a', 'b'], 1).pipe('sh -c "cat; exit 3"').collect(), ['a', 'b']);
  await assert.rejects(
    sc.parallelize(['a'], 1).pipe('sh -c "cat; exit 3"', undefined, true).collect(),
    /exited with code 3/,
  );
});

test('stop() ends a context whose task is in an endless loop, within seconds', { timeout: 60_000 }, async () => {
  const sc = ctx();
  const job = endless();
  job.catch(() => {});
  await sleep(1000);
  const t0 = Date.now();
  await sc.stop();
  assert.ok(Date.now() - t0 < 8000, `stop took ${Date.now() - t0} ms`);
  await assert.rejects(job, /the context was stopped/);
  assert.equal((sc._backend as unknown as { pids(): number[] }).pids().length, 0);
});
