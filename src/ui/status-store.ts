/**
 * The driver's job/stage/executor status for the UI and REST API (Spark's AppStatusStore, small):
 * fed by DAG scheduler events, bounded (the most recent jobs and stages only, so a long-lived app
 * does not grow), read-only to everything else.
 */
import type { EventEmitter } from 'node:events';

export interface JobInfo {
  jobId: number;
  description: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  submissionTime: number;
  completionTime: number | undefined;
  stageIds: number[];
}

export interface StageInfo {
  stageId: number;
  attemptId: number;
  jobId: number;
  status: 'ACTIVE' | 'COMPLETE';
  numTasks: number;
  numCompleteTasks: number;
  numActiveTasks: number;
  submissionTime: number;
  completionTime: number | undefined;
}

const MAX_JOBS = 500;
const MAX_STAGES = 1000;

export class StatusStore {
  readonly jobs = new Map<number, JobInfo>();
  readonly stages = new Map<number, StageInfo>();

  constructor(events: EventEmitter) {
    events.on('jobStart', (e: { jobId: number; description: string; stageId: number }) => {
      this.jobs.set(e.jobId, {
        jobId: e.jobId,
        description: e.description,
        status: 'RUNNING',
        submissionTime: Date.now(),
        completionTime: undefined,
        stageIds: [],
      });
      trim(this.jobs, MAX_JOBS);
    });
    events.on('jobEnd', (e: { jobId: number; ok: boolean }) => {
      const j = this.jobs.get(e.jobId);
      if (j) {
        j.status = e.ok ? 'SUCCEEDED' : 'FAILED';
        j.completionTime = Date.now();
      }
    });
    events.on('stageSubmitted', (e: { stageId: number; attempt: number; numTasks: number; jobId: number }) => {
      this.stages.set(e.stageId, {
        stageId: e.stageId,
        attemptId: e.attempt,
        jobId: e.jobId,
        status: 'ACTIVE',
        numTasks: e.numTasks,
        numCompleteTasks: 0,
        numActiveTasks: 0,
        submissionTime: Date.now(),
        completionTime: undefined,
      });
      const j = this.jobs.get(e.jobId);
      if (j && !j.stageIds.includes(e.stageId)) j.stageIds.push(e.stageId);
      trim(this.stages, MAX_STAGES);
    });
    events.on('taskStart', (e: { stageId: number }) => {
      const s = this.stages.get(e.stageId);
      if (s) s.numActiveTasks++;
    });
    events.on('taskEnd', (e: { stageId: number }) => {
      const s = this.stages.get(e.stageId);
      if (s) {
        s.numCompleteTasks++;
        s.numActiveTasks = Math.max(0, s.numActiveTasks - 1);
      }
    });
    events.on('stageCompleted', (e: { stageId: number }) => {
      const s = this.stages.get(e.stageId);
      if (s) {
        s.status = 'COMPLETE';
        s.completionTime = Date.now();
        s.numActiveTasks = 0;
      }
    });
  }
}

function trim<K, V>(m: Map<K, V>, max: number): void {
  while (m.size > max) m.delete(m.keys().next().value as K);
}
