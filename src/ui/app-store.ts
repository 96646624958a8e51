/**
 * One application's status (Spark's AppStatusStore, small), built only from Spark-shaped listener
 * events (./spark-events.ts): the live driver applies them as they happen, the history server replays
 * them from the event log, so both serve the same pages and REST from the same model. Bounded: the
 * most recent jobs and stages and, per stage, the most recent tasks are kept (cinder.ui.retainedJobs,
 * cinder.ui.retainedStages, cinder.ui.retainedTasks, like Spark's spark.ui.retained*).
 */
import type { SparkEvent, SparkRddInfo, SparkStageInfo, SparkTaskMetrics } from './spark-events.js';

export type JobStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'UNKNOWN';
export type StageStatus = 'ACTIVE' | 'COMPLETE' | 'PENDING' | 'SKIPPED' | 'FAILED';
export type TaskRestStatus = 'RUNNING' | 'SUCCESS' | 'FAILED' | 'KILLED' | 'UNKNOWN';

export interface TaskRec {
  taskId: number;
  index: number;
  attempt: number;
  partitionId: number;
  launchTime: number;
  finishTime: number | undefined;
  executorId: string;
  host: string;
  status: TaskRestStatus;
  errorMessage: string | undefined;
  metrics: SparkTaskMetrics | undefined;
}

export interface StageRec {
  stageId: number;
  attemptId: number;
  name: string;
  details: string;
  numTasks: number;
  parentIds: number[];
  rddInfos: SparkRddInfo[];
  status: StageStatus;
  jobIds: number[];
  submissionTime: number | undefined;
  firstTaskLaunchedTime: number | undefined;
  completionTime: number | undefined;
  failureReason: string | undefined;
  numActiveTasks: number;
  numCompleteTasks: number;
  numFailedTasks: number;
  numKilledTasks: number;
  completedIndices: Set<number>;
  tasks: Map<number, TaskRec>;
  /** sums over finished tasks' metrics */
  sums: Sums;
}

export interface Sums {
  runTime: number;
  gcTime: number;
  resultSize: number;
  diskSpilled: number;
  memSpilled: number;
  inputBytes: number;
  inputRecords: number;
  shuffleRemoteBlocks: number;
  shuffleLocalBlocks: number;
  shuffleRemoteBytes: number;
  shuffleLocalBytes: number;
  shuffleReadRecords: number;
  shuffleWriteBytes: number;
  shuffleWriteTime: number;
  shuffleWriteRecords: number;
}

export interface JobRec {
  jobId: number;
  name: string;
  description: string | undefined;
  callSite: string | undefined;
  submissionTime: number | undefined;
  completionTime: number | undefined;
  stageIds: number[];
  /** stage infos announced with the job (for the DAG picture and pending/skipped stages) */
  stageInfos: SparkStageInfo[];
  status: JobStatus;
  error: string | undefined;
  numTasks: number;
}

export interface ExecutorRec {
  id: string;
  host: string;
  hostPort: string;
  totalCores: number;
  addTime: number;
  removeTime: number | undefined;
  removeReason: string | undefined;
  logUrls: Record<string, string>;
  /** where the process runs: container id, pid (Cinder's own attributes) */
  attributes: Record<string, string>;
  activeTasks: number;
  failedTasks: number;
  completedTasks: number;
  totalDuration: number;
  totalGcTime: number;
  totalInputBytes: number;
  totalShuffleRead: number;
  totalShuffleWrite: number;
  /** heap used by a task thread at the end of its last task */
  lastTaskHeapBytes: number;
}

export interface RddBlocks {
  rddId: number;
  name: string;
  numPartitions: number;
  storageLevel: SparkRddInfo['Storage Level'];
  /** block id -> executors holding it */
  blocks: Map<string, Set<string>>;
  /** block id -> [memory, disk] bytes (last report) */
  sizes: Map<string, [number, number]>;
}

export interface AppInfo {
  id: string;
  name: string;
  user: string;
  attemptId: string | undefined;
  startTime: number;
  endTime: number | undefined;
  lastUpdated: number;
  sparkVersion: string;
  /** Cinder's topology additions (from SparkListenerApplicationStart "Cinder Topology") */
  topology: Topology | undefined;
}

export interface Topology {
  master: string;
  deployMode: 'local' | 'client' | 'cluster';
  client?: { host: string } | undefined;
  driver: { host: string; pid: number; containerId?: string | undefined };
  am?: { host?: string | undefined; containerId?: string | undefined; attemptId?: string | undefined } | undefined;
}

const zeroSums = (): Sums => ({
  runTime: 0,
  gcTime: 0,
  resultSize: 0,
  diskSpilled: 0,
  memSpilled: 0,
  inputBytes: 0,
  inputRecords: 0,
  shuffleRemoteBlocks: 0,
  shuffleLocalBlocks: 0,
  shuffleRemoteBytes: 0,
  shuffleLocalBytes: 0,
  shuffleReadRecords: 0,
  shuffleWriteBytes: 0,
  shuffleWriteTime: 0,
  shuffleWriteRecords: 0,
});

export function addMetrics(s: Sums, m: SparkTaskMetrics): void {
  s.runTime += m['Executor Run Time'];
  s.gcTime += m['JVM GC Time'];
  s.resultSize += m['Result Size'];
  s.diskSpilled += m['Disk Bytes Spilled'];
  s.memSpilled += m['Memory Bytes Spilled'];
  s.inputBytes += m['Input Metrics']['Bytes Read'];
  s.inputRecords += m['Input Metrics']['Records Read'];
  const r = m['Shuffle Read Metrics'];
  s.shuffleRemoteBlocks += r['Remote Blocks Fetched'];
  s.shuffleLocalBlocks += r['Local Blocks Fetched'];
  s.shuffleRemoteBytes += r['Remote Bytes Read'];
  s.shuffleLocalBytes += r['Local Bytes Read'];
  s.shuffleReadRecords += r['Total Records Read'];
  const w = m['Shuffle Write Metrics'];
  s.shuffleWriteBytes += w['Shuffle Bytes Written'];
  s.shuffleWriteTime += w['Shuffle Write Time'];
  s.shuffleWriteRecords += w['Shuffle Records Written'];
}

export interface StoreLimits {
  jobs: number;
  stages: number;
  tasksPerStage: number;
}

const DEFAULT_LIMITS: StoreLimits = { jobs: 1000, stages: 1000, tasksPerStage: 100_000 };

export class AppStore {
  app: AppInfo = {
    id: '',
    name: '',
    user: '',
    attemptId: undefined,
    startTime: 0,
    endTime: undefined,
    lastUpdated: 0,
    sparkVersion: '',
    topology: undefined,
  };
  /** Spark Properties / System Properties / runtime, as [key, value] pairs */
  env: { spark: Array<[string, string]>; system: Array<[string, string]>; runtime: Record<string, string> } = {
    spark: [],
    system: [],
    runtime: {},
  };
  readonly jobs = new Map<number, JobRec>();
  /** key `${stageId}.${attemptId}` */
  readonly stages = new Map<string, StageRec>();
  readonly executors = new Map<string, ExecutorRec>();
  readonly rdds = new Map<number, RddBlocks>();
  /** counters for /metrics (never reset) */
  readonly totals = { tasksSucceeded: 0, tasksFailed: 0, tasksKilled: 0, jobsSucceeded: 0, jobsFailed: 0 };
  /** task id -> stage key, for tasks still running */
  private readonly running = new Map<number, string>();
  /** stage id -> its description from the job that announced it */
  private readonly stageInfo = new Map<number, SparkStageInfo>();
  private readonly limits: StoreLimits;

  constructor(limits: Partial<StoreLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  get completed(): boolean {
    return this.app.endTime !== undefined;
  }

  stage(stageId: number, attemptId?: number): StageRec | undefined {
    if (attemptId !== undefined) return this.stages.get(`${stageId}.${attemptId}`);
    let best: StageRec | undefined;
    for (const s of this.stages.values())
      if (s.stageId === stageId && (!best || s.attemptId > best.attemptId)) best = s;
    return best;
  }

  apply(e: SparkEvent): void {
    const t = (e.Timestamp ?? e['Submission Time'] ?? e['Completion Time']) as number | undefined;
    if (typeof t === 'number') this.app.lastUpdated = Math.max(this.app.lastUpdated, t);
    switch (e.Event) {
      case 'SparkListenerLogStart':
        this.app.sparkVersion = String(e['Spark Version'] ?? '');
        return;
      case 'SparkListenerApplicationStart':
        this.app.id = String(e['App ID']);
        this.app.name = String(e['App Name']);
        this.app.user = String(e.User ?? '');
        this.app.attemptId = e['App Attempt ID'] as string | undefined;
        this.app.startTime = e.Timestamp as number;
        this.app.topology = e['Cinder Topology'] as Topology | undefined;
        return;
      case 'SparkListenerApplicationEnd':
        this.app.endTime = e.Timestamp as number;
        for (const s of this.stages.values()) if (s.status === 'ACTIVE') s.status = 'FAILED';
        for (const j of this.jobs.values()) if (j.status === 'RUNNING') j.status = 'UNKNOWN';
        return;
      case 'SparkListenerEnvironmentUpdate': {
        // by code point, as Spark sorts them (localeCompare's first call loads ICU's collator: ~13 ms of start-up)
        const pairs = (o: unknown) =>
          Object.entries((o ?? {}) as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) as Array<
            [string, string]
          >;
        this.env = {
          spark: pairs(e['Spark Properties']),
          system: pairs(e['System Properties']),
          runtime: (e['JVM Information'] ?? {}) as Record<string, string>,
        };
        return;
      }
      case 'SparkListenerExecutorAdded': {
        const info = e['Executor Info'] as {
          Host: string;
          'Total Cores': number;
          'Log Urls'?: Record<string, string>;
          Attributes?: Record<string, string>;
        };
        const id = String(e['Executor ID']);
        this.executors.set(id, {
          id,
          host: info.Host,
          hostPort: info.Attributes?.hostPort ?? info.Host,
          totalCores: info['Total Cores'],
          addTime: e.Timestamp as number,
          removeTime: undefined,
          removeReason: undefined,
          logUrls: info['Log Urls'] ?? {},
          attributes: info.Attributes ?? {},
          activeTasks: 0,
          failedTasks: 0,
          completedTasks: 0,
          totalDuration: 0,
          totalGcTime: 0,
          totalInputBytes: 0,
          totalShuffleRead: 0,
          totalShuffleWrite: 0,
          lastTaskHeapBytes: 0,
        });
        return;
      }
      case 'SparkListenerExecutorRemoved': {
        const ex = this.executors.get(String(e['Executor ID']));
        if (!ex) return;
        ex.removeTime = e.Timestamp as number;
        ex.removeReason = String(e['Removed Reason'] ?? '');
        // its running tasks end with it (they are rescheduled elsewhere)
        for (const [taskId, key] of this.running) {
          const task = this.stages.get(key)?.tasks.get(taskId);
          if (task?.executorId !== ex.id) continue;
          this.endTask(key, task, 'FAILED', ex.removeTime, `executor ${ex.id} lost: ${ex.removeReason}`);
        }
        ex.activeTasks = 0;
        for (const r of this.rdds.values())
          for (const [b, on] of r.blocks)
            if (on.delete(ex.id) && on.size === 0) {
              r.blocks.delete(b);
              r.sizes.delete(b);
            }
        return;
      }
      case 'SparkListenerJobStart': {
        const infos = (e['Stage Infos'] ?? []) as SparkStageInfo[];
        for (const i of infos) this.stageInfo.set(i['Stage ID'], i);
        const props = (e.Properties ?? {}) as Record<string, string>;
        const jobId = e['Job ID'] as number;
        const last = infos.find((i) => i['Stage ID'] === Math.max(...infos.map((x) => x['Stage ID'])));
        // stages not seen before wait as PENDING until submitted (SKIPPED if the job ends without them)
        for (const i of infos) {
          const known = this.stage(i['Stage ID']);
          if (!known) this.stages.set(`${i['Stage ID']}.0`, this.newStage(i, 'PENDING', [jobId], undefined));
          else if (known.status === 'PENDING' && !known.jobIds.includes(jobId)) known.jobIds.push(jobId);
        }
        this.jobs.set(jobId, {
          jobId,
          name: props['callSite.short'] ?? last?.Details ?? `job ${jobId}`,
          description: props['spark.job.description'],
          callSite: props['callSite.short'],
          submissionTime: e['Submission Time'] as number,
          completionTime: undefined,
          stageIds: (e['Stage IDs'] as number[]) ?? [],
          stageInfos: infos,
          status: 'RUNNING',
          error: undefined,
          numTasks: infos.reduce((n, i) => n + i['Number of Tasks'], 0),
        });
        trim(this.jobs, this.limits.jobs);
        return;
      }
      case 'SparkListenerJobEnd': {
        const j = this.jobs.get(e['Job ID'] as number);
        const r = e['Job Result'] as { Result: string; Exception?: { Message?: string } };
        const ok = r?.Result === 'JobSucceeded';
        if (ok) this.totals.jobsSucceeded++;
        else this.totals.jobsFailed++;
        if (!j) return;
        j.status = ok ? 'SUCCEEDED' : 'FAILED';
        j.completionTime = e['Completion Time'] as number;
        j.error = r?.Exception?.Message;
        for (const s of this.stages.values())
          if (s.status === 'PENDING' && s.jobIds.includes(j.jobId) && !this.runningJobNeeds(s, j.jobId))
            s.status = 'SKIPPED';
        if (!ok)
          for (const s of this.stages.values())
            if (s.jobIds.includes(j.jobId) && s.status === 'ACTIVE') {
              s.status = 'FAILED';
              s.failureReason ??= j.error;
              s.completionTime = j.completionTime;
            }
        return;
      }
      case 'SparkListenerStageSubmitted': {
        const i = e['Stage Info'] as SparkStageInfo;
        const known = this.stageInfo.get(i['Stage ID']);
        const jobIds = ((e.Properties as Record<string, unknown> | undefined)?.['Cinder Job IDs'] as number[]) ?? [];
        // an earlier attempt still shown as running was given up (fetch failure)
        for (const s of this.stages.values())
          if (s.stageId === i['Stage ID'] && s.status === 'ACTIVE') {
            s.status = 'FAILED';
            s.failureReason ??= 'resubmitted (a map output was lost)';
            s.completionTime = i['Submission Time'];
          }
        const key = `${i['Stage ID']}.${i['Stage Attempt ID']}`;
        const merged: SparkStageInfo = {
          ...i,
          'Stage Name': i['Stage Name'] || known?.['Stage Name'] || '',
          Details: i.Details || known?.Details || '',
          'Parent IDs': i['Parent IDs'].length ? i['Parent IDs'] : (known?.['Parent IDs'] ?? []),
          'RDD Info': i['RDD Info'].length ? i['RDD Info'] : (known?.['RDD Info'] ?? []),
        };
        this.stages.delete(key); // a PENDING record moves to the end (most recent)
        this.stages.set(key, this.newStage(merged, 'ACTIVE', jobIds, i['Submission Time']));
        for (const r of i['RDD Info'].length ? i['RDD Info'] : (known?.['RDD Info'] ?? []))
          if (r['Storage Level']['Use Memory'] || r['Storage Level']['Use Disk'])
            if (!this.rdds.has(r['RDD ID']))
              this.rdds.set(r['RDD ID'], {
                rddId: r['RDD ID'],
                name: r.Name,
                numPartitions: r['Number of Partitions'],
                storageLevel: r['Storage Level'],
                blocks: new Map(),
                sizes: new Map(),
              });
        trim(this.stages, this.limits.stages);
        return;
      }
      case 'SparkListenerStageCompleted': {
        const i = e['Stage Info'] as SparkStageInfo;
        const s = this.stages.get(`${i['Stage ID']}.${i['Stage Attempt ID']}`);
        if (!s) return;
        s.status = i['Failure Reason'] ? 'FAILED' : 'COMPLETE';
        s.failureReason = i['Failure Reason'];
        s.completionTime = i['Completion Time'];
        return;
      }
      case 'SparkListenerTaskStart': {
        const key = `${e['Stage ID']}.${e['Stage Attempt ID']}`;
        const s = this.stages.get(key);
        const ti = e['Task Info'] as Record<string, unknown>;
        if (!s) return;
        const task: TaskRec = {
          taskId: ti['Task ID'] as number,
          index: ti.Index as number,
          attempt: ti.Attempt as number,
          partitionId: (ti['Partition ID'] ?? ti.Index) as number,
          launchTime: ti['Launch Time'] as number,
          finishTime: undefined,
          executorId: String(ti['Executor ID']),
          host: String(ti.Host),
          status: 'RUNNING',
          errorMessage: undefined,
          metrics: undefined,
        };
        s.tasks.set(task.taskId, task);
        if (s.tasks.size > this.limits.tasksPerStage) s.tasks.delete(s.tasks.keys().next().value as number);
        s.numActiveTasks++;
        s.firstTaskLaunchedTime ??= task.launchTime;
        this.running.set(task.taskId, key);
        const ex = this.executors.get(task.executorId);
        if (ex) ex.activeTasks++;
        return;
      }
      case 'SparkListenerTaskEnd': {
        const key = `${e['Stage ID']}.${e['Stage Attempt ID']}`;
        const ti = e['Task Info'] as Record<string, unknown>;
        const task = this.stages.get(key)?.tasks.get(ti['Task ID'] as number);
        if (task?.status !== 'RUNNING') return;
        const reason = e['Task End Reason'] as Record<string, unknown>;
        const status: TaskRestStatus =
          reason.Reason === 'Success' ? 'SUCCESS' : reason.Reason === 'TaskKilled' ? 'KILLED' : 'FAILED';
        task.metrics = e['Task Metrics'] as SparkTaskMetrics | undefined;
        const heap = e['Cinder Heap Used'];
        const ex = this.executors.get(task.executorId);
        if (ex && typeof heap === 'number') ex.lastTaskHeapBytes = heap;
        const msg =
          status === 'SUCCESS'
            ? undefined
            : String(
                reason['Full Stack Trace'] ||
                  reason.Description ||
                  reason.Message ||
                  reason['Kill Reason'] ||
                  reason.Reason,
              );
        this.endTask(key, task, status, (ti['Finish Time'] as number) || (e.Timestamp as number) || Date.now(), msg);
        for (const b of (task.metrics?.['Updated Blocks'] ?? []) as Array<{
          'Block ID': string;
          Status?: { 'Memory Size'?: number; 'Disk Size'?: number };
        }>) {
          const m = /^rdd_(\d+)_\d+$/.exec(b['Block ID']);
          const r = m ? this.rdds.get(Number(m[1])) : undefined;
          if (!r) continue;
          let on = r.blocks.get(b['Block ID']);
          if (!on) r.blocks.set(b['Block ID'], (on = new Set()));
          on.add(task.executorId);
          r.sizes.set(b['Block ID'], [b.Status?.['Memory Size'] ?? 0, b.Status?.['Disk Size'] ?? 0]);
        }
        return;
      }
      case 'CinderAmRegistered':
        if (this.app.topology)
          this.app.topology.am = { ...this.app.topology.am, host: String(e.Host), attemptId: String(e['Attempt ID']) };
        return;
      case 'SparkListenerUnpersistRDD':
        this.rdds.delete(e['RDD ID'] as number);
        return;
      default:
        return;
    }
  }

  private newStage(i: SparkStageInfo, status: StageStatus, jobIds: number[], submitted: number | undefined): StageRec {
    return {
      stageId: i['Stage ID'],
      attemptId: i['Stage Attempt ID'],
      name: i['Stage Name'],
      details: i.Details,
      numTasks: i['Number of Tasks'],
      parentIds: i['Parent IDs'],
      rddInfos: i['RDD Info'],
      status,
      jobIds,
      submissionTime: submitted,
      firstTaskLaunchedTime: undefined,
      completionTime: undefined,
      failureReason: undefined,
      numActiveTasks: 0,
      numCompleteTasks: 0,
      numFailedTasks: 0,
      numKilledTasks: 0,
      completedIndices: new Set(),
      tasks: new Map(),
      sums: zeroSums(),
    };
  }

  /** Whether another running job still waits for this pending stage. */
  private runningJobNeeds(s: StageRec, endingJob: number): boolean {
    return s.jobIds.some((id) => id !== endingJob && this.jobs.get(id)?.status === 'RUNNING');
  }

  private endTask(key: string, task: TaskRec, status: TaskRestStatus, at: number, error: string | undefined): void {
    const s = this.stages.get(key)!;
    task.status = status;
    task.finishTime = at;
    task.errorMessage = error;
    this.running.delete(task.taskId);
    s.numActiveTasks = Math.max(0, s.numActiveTasks - 1);
    const ex = this.executors.get(task.executorId);
    if (ex) ex.activeTasks = Math.max(0, ex.activeTasks - 1);
    if (status === 'SUCCESS') {
      s.numCompleteTasks++;
      s.completedIndices.add(task.index);
      this.totals.tasksSucceeded++;
    } else if (status === 'KILLED') {
      s.numKilledTasks++;
      this.totals.tasksKilled++;
    } else {
      s.numFailedTasks++;
      this.totals.tasksFailed++;
    }
    if (task.metrics) addMetrics(s.sums, task.metrics);
    if (!ex) return;
    if (status === 'SUCCESS') ex.completedTasks++;
    else if (status === 'FAILED') ex.failedTasks++;
    ex.totalDuration += at - task.launchTime;
    if (task.metrics) {
      const m = task.metrics;
      ex.totalGcTime += m['JVM GC Time'];
      ex.totalInputBytes += m['Input Metrics']['Bytes Read'];
      ex.totalShuffleRead +=
        m['Shuffle Read Metrics']['Remote Bytes Read'] + m['Shuffle Read Metrics']['Local Bytes Read'];
      ex.totalShuffleWrite += m['Shuffle Write Metrics']['Shuffle Bytes Written'];
    }
  }
}

function trim<K, V>(m: Map<K, V>, max: number): void {
  while (m.size > max) m.delete(m.keys().next().value as K);
}
