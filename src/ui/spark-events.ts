/**
 * The application's events as Spark's listener events (the JSON Spark's JsonProtocol writes to event
 * logs: "Event": "SparkListenerJobStart", "Job ID", "Stage Infos", ...), so one stream feeds the live
 * status store, the event log and the history server's replay. Only the keys Cinder fills are typed;
 * Cinder's own additions are prefixed "Cinder ".
 */
import type { TaskStatus } from '../protocol/executor.js';
import type { StageDescription } from '../scheduler/stage-info.js';

export type SparkEvent = { Event: string } & Record<string, unknown>;

export interface SparkRddInfo {
  'RDD ID': number;
  Name: string;
  'Parent IDs': number[];
  'Number of Partitions': number;
  'Number of Cached Partitions': number;
  'Memory Size': number;
  'Disk Size': number;
  'Storage Level': { 'Use Disk': boolean; 'Use Memory': boolean; Deserialized: boolean; Replication: number };
  Callsite?: string;
}

export interface SparkStageInfo {
  'Stage ID': number;
  'Stage Attempt ID': number;
  'Stage Name': string;
  'Number of Tasks': number;
  'RDD Info': SparkRddInfo[];
  'Parent IDs': number[];
  Details: string;
  'Submission Time'?: number;
  'Completion Time'?: number;
  'Failure Reason'?: string;
  Accumulables: unknown[];
}

export interface SparkTaskMetrics {
  'Executor Deserialize Time': number;
  'Executor Deserialize CPU Time': number;
  'Executor Run Time': number;
  'Executor CPU Time': number;
  'Peak Execution Memory': number;
  'Result Size': number;
  'JVM GC Time': number;
  'Result Serialization Time': number;
  'Memory Bytes Spilled': number;
  'Disk Bytes Spilled': number;
  'Shuffle Read Metrics': {
    'Remote Blocks Fetched': number;
    'Local Blocks Fetched': number;
    'Fetch Wait Time': number;
    'Remote Bytes Read': number;
    'Remote Bytes Read To Disk': number;
    'Local Bytes Read': number;
    'Total Records Read': number;
  };
  'Shuffle Write Metrics': {
    'Shuffle Bytes Written': number;
    'Shuffle Write Time': number;
    'Shuffle Records Written': number;
  };
  'Input Metrics': { 'Bytes Read': number; 'Records Read': number };
  'Output Metrics': { 'Bytes Written': number; 'Records Written': number };
  'Updated Blocks': unknown[];
}

export function storageLevelJson(level: string | undefined): SparkRddInfo['Storage Level'] {
  const l = (level ?? 'NONE').toUpperCase();
  return {
    'Use Disk': l.includes('DISK'),
    'Use Memory': l.includes('MEMORY'),
    Deserialized: l.includes('MEMORY') && !l.includes('SER'),
    Replication: /_2$/.test(l) ? 2 : 1,
  };
}

export function stageInfoJson(
  s: StageDescription,
  attempt: number,
  extra: Partial<SparkStageInfo> = {},
  callSite = '',
): SparkStageInfo {
  return {
    'Stage ID': s.stageId,
    'Stage Attempt ID': attempt,
    'Stage Name': s.name,
    'Number of Tasks': s.numTasks,
    'RDD Info': s.rddInfos.map((r) => ({
      'RDD ID': r.id,
      Name: r.name,
      'Parent IDs': r.parentIds,
      'Number of Partitions': r.numPartitions,
      'Number of Cached Partitions': 0,
      'Memory Size': 0,
      'Disk Size': 0,
      'Storage Level': storageLevelJson(r.storageLevel),
    })),
    'Parent IDs': s.parentIds,
    Details: callSite,
    Accumulables: [],
    ...extra,
  };
}

/** Spark's task metrics JSON from the executor's measured metrics (times in ms; CPU times in ns). */
export function taskMetricsJson(m: TaskStatus['metrics'], blocks: string[] | undefined): SparkTaskMetrics {
  const n = (v: number | undefined) => Math.round(v ?? 0);
  return {
    'Executor Deserialize Time': 0,
    'Executor Deserialize CPU Time': 0,
    'Executor Run Time': n(m?.runMs),
    'Executor CPU Time': 0,
    'Peak Execution Memory': 0,
    'Result Size': n(m?.resultBytes),
    'JVM GC Time': n(m?.gcMs),
    'Result Serialization Time': 0,
    'Memory Bytes Spilled': 0,
    'Disk Bytes Spilled': n(m?.spilledBytes),
    'Shuffle Read Metrics': {
      'Remote Blocks Fetched': n(m?.shuffleReadRemoteBlocks),
      'Local Blocks Fetched': n(m?.shuffleReadLocalBlocks),
      'Fetch Wait Time': 0,
      'Remote Bytes Read': n(m?.shuffleReadRemoteBytes),
      'Remote Bytes Read To Disk': 0,
      'Local Bytes Read': 0,
      'Total Records Read': n(m?.shuffleReadRecords),
    },
    'Shuffle Write Metrics': {
      'Shuffle Bytes Written': n(m?.shuffleWriteBytes),
      'Shuffle Write Time': n((m?.shuffleWriteMs ?? 0) * 1e6),
      'Shuffle Records Written': n(m?.shuffleWriteRecords),
    },
    'Input Metrics': { 'Bytes Read': n(m?.inputBytes), 'Records Read': n(m?.inputRecords) },
    'Output Metrics': { 'Bytes Written': 0, 'Records Written': 0 },
    'Updated Blocks': (blocks ?? []).map((b, i) => {
      const [mem, disk] = m?.blockSizes?.[i] ?? [0, 0];
      return {
        'Block ID': b,
        Status: {
          'Storage Level': storageLevelJson(disk > 0 ? (mem > 0 ? 'MEMORY_AND_DISK' : 'DISK_ONLY') : 'MEMORY_ONLY'),
          'Memory Size': mem,
          'Disk Size': disk,
        },
      };
    }),
  };
}

/** Spark's "Task End Reason" for a final task status. */
export function taskEndReason(u: TaskStatus): Record<string, unknown> {
  if (u.state === 'FINISHED') return { Reason: 'Success' };
  const f = u.failure;
  if (u.state === 'KILLED' || f?.kind === 'Killed')
    return { Reason: 'TaskKilled', 'Kill Reason': f && 'reason' in f ? String(f.reason) : 'killed' };
  if (f?.kind === 'FetchFailed')
    return {
      Reason: 'FetchFailed',
      'Block Manager Address': { 'Executor ID': f.executorId },
      'Shuffle ID': f.shuffleId,
      'Map Index': f.mapIndex,
      Message: f.error.message,
    };
  const err = f && 'error' in f ? (f.error as { name?: string; message: string; stack?: string }) : undefined;
  return {
    Reason: 'ExceptionFailure',
    'Class Name': err?.name ?? 'Error',
    Description: err?.message ?? 'task failed',
    'Stack Trace': [],
    'Full Stack Trace': err?.stack ?? err?.message ?? '',
    Accumulables: [],
  };
}
