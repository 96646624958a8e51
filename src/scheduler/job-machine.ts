/**
 * The job lifecycle (src/common/machine.ts). A job collects one encoded result per partition of its
 * result stage; it ends exactly once, with all of them or with one error, and then tells every stage it
 * submitted (JobEnded) so that stages no other job needs stop running.
 *
 *              Start                  ResultTask                    Fail
 *   NEW        →RUNNING (submit result stage; no partitions: →SUCCEEDED)
 *   RUNNING    ✗                      store; all in →SUCCEEDED;     →FAILED
 *                                     over maxResultSize →FAILED
 *   SUCCEEDED  ✗                      ·                             ·
 *   FAILED     ✗                      ·                             ·
 *
 * (✗ = InvalidTransition, · = IGNORE.) An ended job is removed from the DAG state.
 */
import { CinderError } from '../common/errors.js';
import { defineMachine, IGNORE, type Transition } from '../common/machine.js';
import { type DagFx, type DagState, type Job, type JobEvent, type JobStatus, toStage } from './dag-state.js';

export interface JobCursor {
  readonly dag: DagState;
  readonly job: Job;
}

type T = Transition<JobCursor, DagFx>;

function end(c: JobCursor, ok: boolean, effects: DagFx[], error?: Error): T {
  const { dag, job } = c;
  job.status = ok ? 'SUCCEEDED' : 'FAILED';
  if (ok) {
    const results: Uint8Array[] = new Array(job.partitions.length);
    for (let i = 0; i < job.partitions.length; i++) results[i] = job.results.get(job.partitions[i]!)!;
    effects.push({ kind: 'JobSucceeded', jobId: job.id, results });
  } else effects.push({ kind: 'JobFailed', jobId: job.id, error: error! });
  effects.push({ kind: 'Emit', event: 'jobEnd', payload: { jobId: job.id, ok } });
  for (const s of job.stages) effects.push(toStage(s, { type: 'JobEnded', jobId: job.id }));
  dag.jobs.delete(job.id);
  return { state: c, effects };
}

const start = (c: JobCursor): T => {
  const { job } = c;
  job.status = 'RUNNING';
  const effects: DagFx[] = [
    {
      kind: 'Emit',
      event: 'jobStart',
      payload: { jobId: job.id, description: job.description, stageId: job.stageId, numTasks: job.partitions.length },
    },
  ];
  job.stages.add(job.stageId);
  if (job.partitions.length === 0) return end(c, true, effects);
  effects.push(toStage(job.stageId, { type: 'Submit', jobId: job.id }));
  return { state: c, effects };
};

const resultTask = (c: JobCursor, e: { partition: number; result: Uint8Array }): T => {
  const { dag, job } = c;
  if (job.results.has(e.partition)) return { state: c, effects: [] };
  job.resultBytes += e.result.length;
  if (job.resultBytes > dag.conf.maxResultSize) {
    const err = new CinderError(
      'RESULT_TOO_LARGE',
      `${job.description}: total size of results (${job.resultBytes} bytes) exceeds cinder.driver.maxResultSize (${dag.conf.maxResultSize})`,
      'reduce the data on the executors first (take, reduce, saveAsTextFile) or raise cinder.driver.maxResultSize',
    );
    return end(c, false, [], err);
  }
  job.results.set(e.partition, e.result);
  if (job.results.size === job.partitions.length) return end(c, true, []);
  return { state: c, effects: [] };
};

export const jobMachine = defineMachine<JobStatus, JobCursor, JobEvent, DagFx>({
  name: 'job',
  statuses: ['NEW', 'RUNNING', 'SUCCEEDED', 'FAILED'],
  status: (c) => c.job.status,
  moveTo: (c, k) => {
    c.job.status = k;
    return c;
  },
  subject: (c) => String(c.job.id),
  table: {
    NEW: { Start: start },
    RUNNING: { ResultTask: resultTask, Fail: (c, e) => end(c, false, [], e.error) },
    SUCCEEDED: { ResultTask: IGNORE, Fail: IGNORE },
    FAILED: { ResultTask: IGNORE, Fail: IGNORE },
  },
});
