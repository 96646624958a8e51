/**
 * Channel: executor <-> driver (executors always dial the driver, in every deploy mode).
 * Version: PROTOCOL_VERSION in src/rpc/connection.ts. Hot paths are batched: one LaunchTasks carries
 * many tasks, one StatusUpdates carries many task ends. Task bodies are opaque bytes encoded by
 * src/scheduler/task.ts so this channel never decodes user data.
 */
import { z } from '../common/zod.js';
import { bytes, parser, wireError } from './common.js';

export const TaskState = z.enum(['RUNNING', 'FINISHED', 'FAILED', 'KILLED']);

/** Why a task failed; the scheduler decides retries from this, never from message text. */
export const TaskFailure = z.discriminatedUnion('kind', [
  /** the user's function (or engine code) threw */
  z.object({ kind: z.literal('Exception'), error: wireError, countsTowardFailures: z.boolean() }),
  /** a shuffle block could not be fetched: resubmit the parent stage */
  z.object({
    kind: z.literal('FetchFailed'),
    shuffleId: z.number(),
    mapIndex: z.number(),
    executorId: z.string(),
    error: wireError,
  }),
  /** killed on request (job cancelled, executor stopping) */
  z.object({ kind: z.literal('Killed'), reason: z.string() }),
]);

export const TaskStatus = z.object({
  taskId: z.number(),
  state: TaskState,
  /** encoded result (ResultTask value or MapStatus) when FINISHED */
  result: bytes.optional(),
  failure: TaskFailure.optional(),
  /** accumulator id -> encoded partial value, merged once per successful task */
  accumUpdates: z.array(z.tuple([z.number(), z.unknown()])).optional(),
  /** blocks this task stored (cache): "rdd_<id>_<partition>" */
  blocksAdded: z.array(z.string()).optional(),
  /** measured in the executor (src/executor/task-metrics.ts); counts and bytes, times in ms */
  metrics: z
    .object({
      runMs: z.number(),
      records: z.number().optional(),
      spilledBytes: z.number().optional(),
      gcMs: z.number().optional(),
      inputBytes: z.number().optional(),
      inputRecords: z.number().optional(),
      shuffleReadRemoteBytes: z.number().optional(),
      shuffleReadLocalBlocks: z.number().optional(),
      shuffleReadRemoteBlocks: z.number().optional(),
      shuffleReadRecords: z.number().optional(),
      shuffleWriteBytes: z.number().optional(),
      shuffleWriteRecords: z.number().optional(),
      shuffleWriteMs: z.number().optional(),
      resultBytes: z.number().optional(),
      heapUsedBytes: z.number().optional(),
      /** [memory, disk] bytes of each of blocksAdded, in order */
      blockSizes: z.array(z.tuple([z.number(), z.number()])).optional(),
    })
    .optional(),
});

export const ExecutorToDriver = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('RegisterExecutor'),
    executorId: z.string(),
    host: z.string(),
    cores: z.number().int().positive(),
    /** port of this executor's block (shuffle/cache) server */
    blockPort: z.number().int(),
    pid: z.number().int(),
    containerId: z.string().optional(),
    logUrls: z.record(z.string(), z.string()).optional(),
    /** when the executor's launch was requested (epoch ms; the NM's StartContainer or the local spawn) */
    launchRequestedAt: z.number().optional(),
  }),
  z.object({ type: z.literal('StatusUpdates'), executorId: z.string(), updates: z.array(TaskStatus) }),
  z.object({
    type: z.literal('Heartbeat'),
    executorId: z.string(),
    rssBytes: z.number(),
    heapUsedBytes: z.number(),
    runningTasks: z.number(),
  }),
  /** request: the encoded value of a broadcast variable (fetched once per executor) */
  z.object({ type: z.literal('GetBroadcast'), id: z.number() }),
  /** request: the bytes of an added file or code bundle, by name */
  z.object({ type: z.literal('GetFile'), name: z.string() }),
  /** a block was dropped from this executor (eviction) */
  z.object({ type: z.literal('BlocksRemoved'), executorId: z.string(), blocks: z.array(z.string()) }),
]);
export type ExecutorToDriver = z.infer<typeof ExecutorToDriver>;
export type TaskStatus = z.infer<typeof TaskStatus>;
export type TaskFailure = z.infer<typeof TaskFailure>;

export const TaskDescription = z.object({
  taskId: z.number(),
  attempt: z.number(),
  stageId: z.number(),
  partition: z.number(),
  /** encoded task body (see src/scheduler/task.ts) */
  body: bytes,
});
export type TaskDescription = z.infer<typeof TaskDescription>;

export const DriverToExecutor = z.discriminatedUnion('type', [
  z.object({ type: z.literal('LaunchTasks'), tasks: z.array(TaskDescription) }),
  z.object({ type: z.literal('KillTasks'), taskIds: z.array(z.number()), reason: z.string() }),
  z.object({ type: z.literal('RemoveRdd'), rddId: z.number() }),
  z.object({ type: z.literal('RemoveShuffle'), shuffleId: z.number() }),
  z.object({ type: z.literal('StopExecutor'), reason: z.string() }),
  /** reply to RegisterExecutor */
  z.object({ type: z.literal('Registered'), appId: z.string() }),
  /** request: a V8 CPU profile (seconds) or heap snapshot of the executor's main thread (-1) or task thread n */
  z.object({
    type: z.literal('Profile'),
    kind: z.enum(['cpu', 'heap']),
    seconds: z.number().min(0).max(60),
    thread: z.number().int().min(-1),
  }),
]);
export type DriverToExecutor = z.infer<typeof DriverToExecutor>;

export const parseExecutorToDriver = parser(ExecutorToDriver);
export const parseDriverToExecutor = parser(DriverToExecutor);

/**
 * Channel: executor <-> executor (block server). Reducers fetch shuffle blocks from the executor
 * that wrote them; cached blocks stored on disk can be read the same way.
 */
export const BlockRequest = z.discriminatedUnion('type', [
  /** request: the bytes of one reduce partition from several map outputs of one shuffle */
  z.object({
    type: z.literal('FetchShuffleBlocks'),
    shuffleId: z.number(),
    mapIndexes: z.array(z.number()),
    reduceId: z.number(),
  }),
]);
export type BlockRequest = z.infer<typeof BlockRequest>;
export const parseBlockRequest = parser(BlockRequest);

/**
 * Reply to FetchShuffleBlocks: `count` blocks, one per requested map index from the first, in order.
 * The blocks themselves travel as the reply frame's binary parts (src/rpc/connection.ts), uncopied.
 */
export interface ShuffleBlocksReply {
  count: number;
}
