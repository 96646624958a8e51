/**
 * Spark's /api/v1 objects (status/api/v1/api.scala: ApplicationInfo, JobData, StageData, TaskData,
 * TaskMetricDistributions, ExecutorSummary, RDDStorageInfo, ApplicationEnvironmentInfo) from an
 * AppStore, with Spark's field names, enum strings and date strings ("2026-12-04T23:50:00.000GMT").
 * Keys whose value is absent are left out, as Spark's Jackson setup (NON_ABSENT) does.
 */
import type { AppStore, ExecutorRec, JobRec, StageRec, TaskRec } from './app-store.js';
import type { SparkTaskMetrics } from './spark-events.js';

/** Spark's date format: yyyy-MM-dd'T'HH:mm:ss.SSS'GMT'. */
export function sparkDate(ms: number | undefined): string | undefined {
  if (ms === undefined) return undefined;
  return `${new Date(ms).toISOString().slice(0, 23)}GMT`;
}

export interface LiveExecutor {
  rssBytes: number;
  heapUsedBytes?: number | undefined;
  maxMemory: number;
}

export function applicationInfo(s: AppStore) {
  const a = s.app;
  const end = a.endTime ?? -1;
  return {
    id: a.id,
    name: a.name,
    attempts: [
      {
        ...(a.attemptId ? { attemptId: a.attemptId } : {}),
        startTime: sparkDate(a.startTime),
        endTime: sparkDate(end),
        lastUpdated: sparkDate(a.lastUpdated || a.startTime),
        duration: a.endTime !== undefined ? a.endTime - a.startTime : 0,
        sparkUser: a.user,
        completed: a.endTime !== undefined,
        appSparkVersion: a.sparkVersion,
        startTimeEpoch: a.startTime,
        endTimeEpoch: end,
        lastUpdatedEpoch: a.lastUpdated || a.startTime,
      },
    ],
  };
}

/** The stage attempts that ran (or run) for a job: not the ones still pending or skipped. */
export function stagesOf(s: AppStore, j: JobRec): StageRec[] {
  const out: StageRec[] = [];
  for (const st of s.stages.values())
    if (st.jobIds.includes(j.jobId) && st.status !== 'PENDING' && st.status !== 'SKIPPED') out.push(st);
  return out;
}

export function jobData(s: AppStore, j: JobRec) {
  const stages = stagesOf(s, j);
  const latest = new Map<number, StageRec>();
  for (const st of stages) {
    const l = latest.get(st.stageId);
    if (!l || st.attemptId > l.attemptId) latest.set(st.stageId, st);
  }
  const ran = new Set(stages.map((st) => st.stageId));
  // stages of the job that never ran: skipped once the job ended (their output was reused), else pending
  const skipped = j.stageInfos.filter((i) => !ran.has(i['Stage ID']) && j.status !== 'RUNNING');
  let numActiveTasks = 0;
  let numCompletedTasks = 0;
  let numFailedTasks = 0;
  let numKilledTasks = 0;
  let numCompletedIndices = 0;
  for (const st of stages) {
    numActiveTasks += st.numActiveTasks;
    numCompletedTasks += st.numCompleteTasks;
    numFailedTasks += st.numFailedTasks;
    numKilledTasks += st.numKilledTasks;
  }
  for (const st of latest.values()) numCompletedIndices += st.completedIndices.size;
  const status = (x: StageRec['status']) => [...latest.values()].filter((st) => st.status === x).length;
  return {
    jobId: j.jobId,
    name: j.name,
    ...(j.description ? { description: j.description } : {}),
    ...(j.submissionTime !== undefined ? { submissionTime: sparkDate(j.submissionTime) } : {}),
    ...(j.completionTime !== undefined ? { completionTime: sparkDate(j.completionTime) } : {}),
    stageIds: j.stageIds,
    jobTags: [],
    status: j.status,
    numTasks: j.numTasks,
    numActiveTasks,
    numCompletedTasks,
    numSkippedTasks: skipped.reduce((n, i) => n + i['Number of Tasks'], 0),
    numFailedTasks,
    numKilledTasks,
    numCompletedIndices,
    numActiveStages: status('ACTIVE'),
    numCompletedStages: status('COMPLETE'),
    numSkippedStages: skipped.length,
    numFailedStages: status('FAILED'),
    killedTasksSummary: {},
  };
}

function metricsData(m: SparkTaskMetrics | undefined) {
  if (!m) return undefined;
  const r = m['Shuffle Read Metrics'];
  const w = m['Shuffle Write Metrics'];
  return {
    executorDeserializeTime: m['Executor Deserialize Time'],
    executorDeserializeCpuTime: m['Executor Deserialize CPU Time'],
    executorRunTime: m['Executor Run Time'],
    executorCpuTime: m['Executor CPU Time'],
    resultSize: m['Result Size'],
    jvmGcTime: m['JVM GC Time'],
    resultSerializationTime: m['Result Serialization Time'],
    memoryBytesSpilled: m['Memory Bytes Spilled'],
    diskBytesSpilled: m['Disk Bytes Spilled'],
    peakExecutionMemory: m['Peak Execution Memory'],
    inputMetrics: { bytesRead: m['Input Metrics']['Bytes Read'], recordsRead: m['Input Metrics']['Records Read'] },
    outputMetrics: {
      bytesWritten: m['Output Metrics']['Bytes Written'],
      recordsWritten: m['Output Metrics']['Records Written'],
    },
    shuffleReadMetrics: {
      remoteBlocksFetched: r['Remote Blocks Fetched'],
      localBlocksFetched: r['Local Blocks Fetched'],
      fetchWaitTime: r['Fetch Wait Time'],
      remoteBytesRead: r['Remote Bytes Read'],
      remoteBytesReadToDisk: r['Remote Bytes Read To Disk'],
      localBytesRead: r['Local Bytes Read'],
      recordsRead: r['Total Records Read'],
      remoteReqsDuration: 0,
    },
    shuffleWriteMetrics: {
      bytesWritten: w['Shuffle Bytes Written'],
      writeTime: w['Shuffle Write Time'],
      recordsWritten: w['Shuffle Records Written'],
    },
  };
}

export function taskData(t: TaskRec, now: number) {
  const end = t.finishTime ?? now;
  const m = metricsData(t.metrics);
  return {
    taskId: t.taskId,
    index: t.index,
    attempt: t.attempt,
    partitionId: t.partitionId,
    launchTime: sparkDate(t.launchTime),
    duration: end - t.launchTime,
    executorId: t.executorId,
    host: t.host,
    status: t.status,
    taskLocality: 'PROCESS_LOCAL',
    speculative: false,
    accumulatorUpdates: [],
    ...(t.errorMessage ? { errorMessage: t.errorMessage } : {}),
    ...(m ? { taskMetrics: m } : {}),
    executorLogs: {},
    schedulerDelay: 0,
    gettingResultTime: 0,
  };
}

export function stageData(s: StageRec, details: boolean, now: number) {
  const x = s.sums;
  return {
    status: s.status,
    stageId: s.stageId,
    attemptId: s.attemptId,
    numTasks: s.numTasks,
    numActiveTasks: s.numActiveTasks,
    numCompleteTasks: s.numCompleteTasks,
    numFailedTasks: s.numFailedTasks,
    numKilledTasks: s.numKilledTasks,
    numCompletedIndices: s.completedIndices.size,
    ...(s.submissionTime !== undefined ? { submissionTime: sparkDate(s.submissionTime) } : {}),
    ...(s.firstTaskLaunchedTime !== undefined ? { firstTaskLaunchedTime: sparkDate(s.firstTaskLaunchedTime) } : {}),
    ...(s.completionTime !== undefined ? { completionTime: sparkDate(s.completionTime) } : {}),
    ...(s.failureReason ? { failureReason: s.failureReason } : {}),
    executorDeserializeTime: 0,
    executorDeserializeCpuTime: 0,
    executorRunTime: x.runTime,
    executorCpuTime: 0,
    resultSize: x.resultSize,
    jvmGcTime: x.gcTime,
    resultSerializationTime: 0,
    memoryBytesSpilled: x.memSpilled,
    diskBytesSpilled: x.diskSpilled,
    peakExecutionMemory: 0,
    inputBytes: x.inputBytes,
    inputRecords: x.inputRecords,
    outputBytes: 0,
    outputRecords: 0,
    shuffleRemoteBlocksFetched: x.shuffleRemoteBlocks,
    shuffleLocalBlocksFetched: x.shuffleLocalBlocks,
    shuffleFetchWaitTime: 0,
    shuffleRemoteBytesRead: x.shuffleRemoteBytes,
    shuffleRemoteBytesReadToDisk: 0,
    shuffleLocalBytesRead: x.shuffleLocalBytes,
    shuffleReadBytes: x.shuffleRemoteBytes + x.shuffleLocalBytes,
    shuffleReadRecords: x.shuffleReadRecords,
    shuffleWriteBytes: x.shuffleWriteBytes,
    shuffleWriteTime: x.shuffleWriteTime,
    shuffleWriteRecords: x.shuffleWriteRecords,
    name: s.name,
    details: s.details,
    schedulingPool: 'default',
    rddIds: s.rddInfos.map((r) => r['RDD ID']),
    accumulatorUpdates: [],
    ...(details
      ? { tasks: Object.fromEntries([...s.tasks.values()].map((t) => [String(t.taskId), taskData(t, now)])) }
      : {}),
    killedTasksSummary: {},
    resourceProfileId: 0,
    isShufflePushEnabled: false,
    shuffleMergersCount: 0,
  };
}

/** Value at quantile q of sorted values (Spark's nearest-rank with rounding of q * (n - 1)). */
function at(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))] as number;
}

/** Spark's TaskMetricDistributions over the stage's successful tasks; undefined before any finished. */
export function taskSummary(s: StageRec, quantiles: number[]) {
  const done = [...s.tasks.values()].filter((t) => t.status === 'SUCCESS' && t.metrics);
  if (done.length === 0) return undefined;
  const dist = (f: (t: TaskRec) => number) => {
    const v = done.map(f).sort((a, b) => a - b);
    return quantiles.map((q) => at(v, q));
  };
  const m = (t: TaskRec) => t.metrics as SparkTaskMetrics;
  const sr = (t: TaskRec) => m(t)['Shuffle Read Metrics'];
  const sw = (t: TaskRec) => m(t)['Shuffle Write Metrics'];
  return {
    quantiles,
    duration: dist((t) => (t.finishTime ?? t.launchTime) - t.launchTime),
    executorDeserializeTime: dist(() => 0),
    executorDeserializeCpuTime: dist(() => 0),
    executorRunTime: dist((t) => m(t)['Executor Run Time']),
    executorCpuTime: dist(() => 0),
    resultSize: dist((t) => m(t)['Result Size']),
    jvmGcTime: dist((t) => m(t)['JVM GC Time']),
    resultSerializationTime: dist(() => 0),
    gettingResultTime: dist(() => 0),
    schedulerDelay: dist(() => 0),
    peakExecutionMemory: dist(() => 0),
    memoryBytesSpilled: dist((t) => m(t)['Memory Bytes Spilled']),
    diskBytesSpilled: dist((t) => m(t)['Disk Bytes Spilled']),
    inputMetrics: {
      bytesRead: dist((t) => m(t)['Input Metrics']['Bytes Read']),
      recordsRead: dist((t) => m(t)['Input Metrics']['Records Read']),
    },
    outputMetrics: { bytesWritten: dist(() => 0), recordsWritten: dist(() => 0) },
    shuffleReadMetrics: {
      readBytes: dist((t) => sr(t)['Remote Bytes Read'] + sr(t)['Local Bytes Read']),
      readRecords: dist((t) => sr(t)['Total Records Read']),
      remoteBlocksFetched: dist((t) => sr(t)['Remote Blocks Fetched']),
      localBlocksFetched: dist((t) => sr(t)['Local Blocks Fetched']),
      fetchWaitTime: dist((t) => sr(t)['Fetch Wait Time']),
      remoteBytesRead: dist((t) => sr(t)['Remote Bytes Read']),
      remoteBytesReadToDisk: dist((t) => sr(t)['Remote Bytes Read To Disk']),
      totalBlocksFetched: dist((t) => sr(t)['Remote Blocks Fetched'] + sr(t)['Local Blocks Fetched']),
      remoteReqsDuration: dist(() => 0),
    },
    shuffleWriteMetrics: {
      writeBytes: dist((t) => sw(t)['Shuffle Bytes Written']),
      writeRecords: dist((t) => sw(t)['Shuffle Records Written']),
      writeTime: dist((t) => sw(t)['Shuffle Write Time']),
    },
  };
}

export function executorSummary(s: AppStore, e: ExecutorRec, live: LiveExecutor | undefined) {
  // Spark's memoryUsed / diskUsed: what cached blocks take on this executor
  let rddBlocks = 0;
  let memoryUsed = 0;
  let diskUsed = 0;
  for (const r of s.rdds.values())
    for (const [b, on] of r.blocks)
      if (on.has(e.id)) {
        rddBlocks++;
        memoryUsed += r.sizes.get(b)?.[0] ?? 0;
        diskUsed += r.sizes.get(b)?.[1] ?? 0;
      }
  // the process's own memory: the last heartbeat's (live), else the heap a task thread last reported
  const heap = live?.heapUsedBytes ?? e.lastTaskHeapBytes;
  const processMemory =
    live && live.rssBytes > 0
      ? { JVMHeapMemory: heap, ProcessTreeJVMRSSMemory: live.rssBytes }
      : heap > 0
        ? { JVMHeapMemory: heap }
        : undefined;
  return {
    id: e.id,
    hostPort: e.hostPort,
    isActive: e.removeTime === undefined,
    rddBlocks,
    memoryUsed,
    diskUsed,
    totalCores: e.totalCores,
    maxTasks: e.totalCores,
    activeTasks: e.activeTasks,
    failedTasks: e.failedTasks,
    completedTasks: e.completedTasks,
    totalTasks: e.activeTasks + e.failedTasks + e.completedTasks,
    totalDuration: e.totalDuration,
    totalGCTime: e.totalGcTime,
    totalInputBytes: e.totalInputBytes,
    totalShuffleRead: e.totalShuffleRead,
    totalShuffleWrite: e.totalShuffleWrite,
    isBlacklisted: false,
    maxMemory: live?.maxMemory ?? 0,
    addTime: sparkDate(e.addTime),
    ...(e.removeTime !== undefined ? { removeTime: sparkDate(e.removeTime), removeReason: e.removeReason } : {}),
    executorLogs: e.logUrls,
    ...(live
      ? {
          memoryMetrics: {
            usedOnHeapStorageMemory: memoryUsed,
            usedOffHeapStorageMemory: 0,
            totalOnHeapStorageMemory: live.maxMemory,
            totalOffHeapStorageMemory: 0,
          },
        }
      : {}),
    blacklistedInStages: [],
    ...(processMemory ? { peakMemoryMetrics: processMemory } : {}),
    attributes: e.attributes,
    resources: {},
    resourceProfileId: 0,
    isExcluded: false,
    excludedInStages: [],
  };
}

export function rddStorageInfo(s: AppStore) {
  return [...s.rdds.values()]
    .filter((r) => r.blocks.size > 0)
    .map((r) => {
      const lvl = r.storageLevel;
      const desc = `${lvl['Use Disk'] ? 'Disk ' : ''}${lvl['Use Memory'] ? 'Memory ' : ''}${lvl.Deserialized ? 'Deserialized ' : 'Serialized '}${lvl.Replication}x Replicated`;
      const size = (b: string) => r.sizes.get(b) ?? [0, 0];
      const byExec = new Map<string, [number, number]>();
      let mem = 0;
      let disk = 0;
      for (const [b, on] of r.blocks) {
        const [m, d] = size(b);
        mem += m;
        disk += d;
        for (const ex of on) {
          const t = byExec.get(ex) ?? [0, 0];
          byExec.set(ex, [t[0] + m, t[1] + d]);
        }
      }
      return {
        id: r.rddId,
        name: r.name,
        numPartitions: r.numPartitions,
        numCachedPartitions: r.blocks.size,
        storageLevel: desc,
        memoryUsed: mem,
        diskUsed: disk,
        dataDistribution: [...byExec].map(([ex, [m, d]]) => ({
          address: s.executors.get(ex)?.hostPort ?? ex,
          memoryUsed: m,
          memoryRemaining: 0,
          diskUsed: d,
        })),
        partitions: [...r.blocks].map(([b, on]) => ({
          blockName: b,
          storageLevel: desc,
          memoryUsed: size(b)[0],
          diskUsed: size(b)[1],
          executors: [...on],
        })),
      };
    });
}

export function environmentInfo(s: AppStore) {
  return {
    runtime: { javaVersion: s.env.runtime['Node Version'] ?? '', javaHome: '', scalaVersion: '' },
    sparkProperties: s.env.spark,
    hadoopProperties: [],
    systemProperties: s.env.system,
    metricsProperties: [],
    classpathEntries: [],
    resourceProfiles: [],
  };
}
