/**
 * Turns the driver's scheduler callbacks into Spark-shaped listener events (./spark-events.ts) and
 * hands each to its sinks: the live status store (./app-store.ts) and the event log
 * (./event-log.ts). One event object per job, stage and task start/end: no per-record cost.
 */

import type { EventEmitter } from 'node:events';
import os from 'node:os';
import type { TaskStatus } from '../protocol/executor.js';
import type { JobLineage } from '../scheduler/dag-scheduler.js';
import type { StageDescription } from '../scheduler/stage-info.js';
import type { TaskEvents, TaskScheduler } from '../scheduler/task-scheduler.js';
import type { Topology } from './app-store.js';
import { type SparkEvent, stageInfoJson, taskEndReason, taskMetricsJson } from './spark-events.js';

export type EventSink = (e: SparkEvent) => void;

export interface AppStartInfo {
  appId: string;
  appName: string;
  startTime: number;
  attemptId?: string | undefined;
  sparkVersion: string;
  topology: Topology;
  /** configuration, already redacted */
  properties: Record<string, string>;
}

const SECRET_KEY = /secret|password|token|credential|private|(^|\.)key($|\.)|keystore|auth/i;

/** Spark's spark.redaction.regex applied to configuration values. */
export function redact(conf: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(conf))
    if (v !== undefined) out[k] = SECRET_KEY.test(k) ? '*********(redacted)' : v;
  return out;
}

/** The user the app runs as; an isolated container's uid may have no passwd entry (os.userInfo throws). */
function userName(): string {
  if (process.env.CINDER_USER) return process.env.CINDER_USER; // the app's user on a cluster (set by the RM)
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER || process.env.LOGNAME || `uid ${process.getuid?.() ?? '?'}`;
  }
}

export class EventRecorder {
  private readonly sinks: EventSink[] = [];
  private readonly lineage = new Map<number, JobLineage>();
  /** stage id -> description from its latest job (for stage submitted/completed) */
  private readonly stageDesc = new Map<number, StageDescription>();
  private readonly stageJobs = new Map<number, number[]>();
  private readonly stageSubmitted = new Map<string, number>();
  private readonly taskInfo = new Map<number, Record<string, unknown>>();
  private ended = false;

  constructor(
    dag: EventEmitter,
    ts: TaskScheduler,
    private readonly clock: () => number = Date.now,
  ) {
    dag.on('jobLineage', (l: JobLineage) => {
      this.lineage.set(l.jobId, l);
      for (const s of l.stages) this.stageDesc.set(s.stageId, s);
    });
    dag.on('jobStart', (e: { jobId: number; description: string; stageId: number }) => {
      const l = this.lineage.get(e.jobId);
      this.lineage.delete(e.jobId);
      const stages = l?.stages ?? [];
      for (const s of stages) {
        const jobs = this.stageJobs.get(s.stageId) ?? [];
        if (!jobs.includes(e.jobId)) jobs.push(e.jobId);
        this.stageJobs.set(s.stageId, jobs);
      }
      const callSite = l?.callSite ? `${e.description} at ${l.callSite}` : e.description;
      this.emit({
        Event: 'SparkListenerJobStart',
        'Job ID': e.jobId,
        'Submission Time': this.clock(),
        'Stage Infos': stages.map((s) => stageInfoJson(s, 0, {}, callSite)),
        'Stage IDs': stages.map((s) => s.stageId),
        Properties: { 'callSite.short': callSite },
      });
    });
    dag.on('jobEnd', (e: { jobId: number; ok: boolean; error?: string }) =>
      this.emit({
        Event: 'SparkListenerJobEnd',
        'Job ID': e.jobId,
        'Completion Time': this.clock(),
        'Job Result': e.ok
          ? { Result: 'JobSucceeded' }
          : { Result: 'JobFailed', Exception: { Message: e.error ?? 'job failed' } },
      }),
    );
    dag.on('stageSubmitted', (e: { stageId: number; attempt: number; numTasks: number; jobId: number }) => {
      const now = this.clock();
      this.stageSubmitted.set(`${e.stageId}.${e.attempt}`, now);
      this.emit({
        Event: 'SparkListenerStageSubmitted',
        'Stage Info': this.stageInfo(e.stageId, e.attempt, e.numTasks, { 'Submission Time': now }),
        Properties: { 'Cinder Job IDs': [...(this.stageJobs.get(e.stageId) ?? [e.jobId])] },
      });
    });
    dag.on('stageCompleted', (e: { stageId: number; attempt: number }) => {
      const key = `${e.stageId}.${e.attempt}`;
      const submitted = this.stageSubmitted.get(key);
      this.stageSubmitted.delete(key);
      this.emit({
        Event: 'SparkListenerStageCompleted',
        'Stage Info': this.stageInfo(e.stageId, e.attempt, undefined, {
          'Submission Time': submitted,
          'Completion Time': this.clock(),
        }),
      });
    });
    const taskEvents: TaskEvents = {
      taskStart: (t) => {
        const info = {
          'Task ID': t.taskId,
          Index: t.index,
          Attempt: t.attempt,
          'Partition ID': t.partition,
          'Launch Time': this.clock(),
          'Executor ID': t.executorId,
          Host: t.host,
          Locality: 'PROCESS_LOCAL',
          Speculative: false,
          'Getting Result Time': 0,
          'Finish Time': 0,
          Failed: false,
          Killed: false,
          Accumulables: [],
        };
        this.taskInfo.set(t.taskId, info);
        this.emit({
          Event: 'SparkListenerTaskStart',
          'Stage ID': t.stageId,
          'Stage Attempt ID': t.stageAttempt,
          'Task Info': info,
        });
      },
      taskEnd: (stageId, stageAttempt, u: TaskStatus) => {
        const info = this.taskInfo.get(u.taskId);
        if (!info) return;
        this.taskInfo.delete(u.taskId);
        const reason = taskEndReason(u);
        this.emit({
          Event: 'SparkListenerTaskEnd',
          'Stage ID': stageId,
          'Stage Attempt ID': stageAttempt,
          'Task Type': this.stageDesc.get(stageId)?.shuffleId !== undefined ? 'ShuffleMapTask' : 'ResultTask',
          'Task End Reason': reason,
          'Task Info': {
            ...info,
            'Finish Time': this.clock(),
            Failed: reason.Reason !== 'Success' && reason.Reason !== 'TaskKilled',
            Killed: reason.Reason === 'TaskKilled',
          },
          'Task Metrics': taskMetricsJson(u.metrics, u.blocksAdded),
          'Cinder Heap Used': u.metrics?.heapUsedBytes,
        });
      },
    };
    ts.taskEvents = taskEvents;
  }

  addSink(s: EventSink): void {
    this.sinks.push(s);
  }

  emit(e: SparkEvent): void {
    if (this.ended) return;
    for (const s of this.sinks) s(e);
  }

  applicationStart(a: AppStartInfo): void {
    this.emit({ Event: 'SparkListenerLogStart', 'Spark Version': a.sparkVersion });
    this.emit({
      Event: 'SparkListenerResourceProfileAdded',
      'Resource Profile Id': 0,
      'Executor Resource Requests': {},
      'Task Resource Requests': {},
    });
    this.emit({
      Event: 'SparkListenerEnvironmentUpdate',
      'JVM Information': {
        'Node Version': process.version,
        'V8 Version': process.versions.v8,
        Platform: `${os.platform()} ${os.arch()}`,
      },
      'Spark Properties': a.properties,
      'Hadoop Properties': {},
      'System Properties': {
        'os.name': os.type(),
        'os.arch': os.arch(),
        'user.name': userName(),
        'node.execPath': process.execPath,
      },
      'Metrics Properties': {},
      'Classpath Entries': {},
    });
    this.emit({
      Event: 'SparkListenerApplicationStart',
      'App Name': a.appName,
      'App ID': a.appId,
      Timestamp: a.startTime,
      User: userName(),
      ...(a.attemptId ? { 'App Attempt ID': a.attemptId } : {}),
      'Cinder Topology': a.topology,
    });
  }

  executorAdded(e: {
    id: string;
    host: string;
    cores: number;
    blockPort: number;
    pid: number;
    containerId?: string | undefined;
    logUrls?: Record<string, string> | undefined;
    launchToRegisterMs?: number | undefined;
  }): void {
    this.emit({
      Event: 'SparkListenerExecutorAdded',
      Timestamp: this.clock(),
      'Executor ID': e.id,
      'Executor Info': {
        Host: e.host,
        'Total Cores': e.cores,
        'Log Urls': e.logUrls ?? {},
        Attributes: {
          hostPort: `${e.host}:${e.blockPort}`,
          pid: String(e.pid),
          ...(e.containerId ? { containerId: e.containerId } : {}),
          ...(e.launchToRegisterMs !== undefined ? { launchToRegisterMs: String(e.launchToRegisterMs) } : {}),
        },
        Resources: {},
        'Resource Profile Id': 0,
      },
    });
  }

  executorRemoved(id: string, reason: string): void {
    this.emit({
      Event: 'SparkListenerExecutorRemoved',
      Timestamp: this.clock(),
      'Executor ID': id,
      'Removed Reason': reason,
    });
  }

  /** Client mode: where the AM attempt runs (Cinder's own event). */
  amRegistered(host: string, attemptId: string): void {
    this.emit({ Event: 'CinderAmRegistered', Timestamp: this.clock(), Host: host, 'Attempt ID': attemptId });
  }

  unpersistRdd(rddId: number): void {
    this.emit({ Event: 'SparkListenerUnpersistRDD', 'RDD ID': rddId });
  }

  applicationEnd(): void {
    this.emit({ Event: 'SparkListenerApplicationEnd', Timestamp: this.clock() });
    this.ended = true;
  }

  private stageInfo(stageId: number, attempt: number, numTasks: number | undefined, extra: Record<string, unknown>) {
    const d = this.stageDesc.get(stageId) ?? {
      stageId,
      name: `stage ${stageId}`,
      numTasks: numTasks ?? 0,
      parentIds: [],
      rddInfos: [],
    };
    return stageInfoJson({ ...d, numTasks: numTasks ?? d.numTasks }, attempt, extra);
  }
}
