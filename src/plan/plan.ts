/**
 * The serializable description of an RDD's lineage that the driver sends to executors.
 * The driver's RDD objects (src/api/rdd.ts) produce PlanNodes; executors evaluate them
 * (src/executor/compute.ts). Pure data: no functions, only FnRefs (shipped user functions)
 * and names of engine builtins.
 */

import type { TextSplit, WholeFilesSplit } from '../io/splits.js';
import type { PartitionerSpec } from '../shuffle/partitioner.js';
import type { FnRef } from './fn-ref.js';
import type { StorageLevelName } from './storage-level.js';

/** A per-partition transformation that needs no shuffle. */
export type OpSpec =
  | { op: 'map'; f: FnRef }
  | { op: 'flatMap'; f: FnRef }
  | { op: 'filter'; f: FnRef }
  | { op: 'mapValues'; f: FnRef }
  | { op: 'flatMapValues'; f: FnRef }
  | { op: 'keyBy'; f: FnRef }
  /** f(iterable) -> iterable; withIndex: f(index, iterable) */
  | { op: 'mapPartitions'; f: FnRef; withIndex: boolean }
  /** an engine function from src/executor/builtins.ts */
  | { op: 'builtin'; name: string; args: unknown };

export interface ShuffleDepSpec {
  shuffleId: number;
  /** id of the map-side RDD */
  parent: number;
  numMaps: number;
  partitioner: PartitionerSpec;
  /**
   * createCombiner / mergeValue / mergeCombiners (all three, or none); `reduce`: reduceByKey's shape
   * (createCombiner is the identity, mergeValue and mergeCombiners are one function)
   */
  aggregator?: { createCombiner: FnRef; mergeValue: FnRef; mergeCombiners: FnRef; reduce?: true } | undefined;
  mapSideCombine: boolean;
  /** a builtin aggregator (e.g. 'groupByKey') instead of user functions */
  builtinAggregator?: string | undefined;
  /** keyfunc applied to keys before comparing, for sortByKey(keyfunc) */
  keyFunc?: FnRef | undefined;
  /** partitionBy(n, partitionFunc): partition = partitionFunc(key) mod n */
  partitionFunc?: FnRef | undefined;
}

export type NodeSpec =
  | { kind: 'parallel'; numSlices: number }
  | { kind: 'range'; start: number; end: number; step: number; numSlices: number }
  | { kind: 'text'; splits: TextSplit[] }
  | { kind: 'wholeText'; splits: WholeFilesSplit[] }
  /** binaryFiles: [path, Buffer] per file; binaryRecords: the files cut into records of recordLength bytes */
  | { kind: 'binaryFiles'; splits: WholeFilesSplit[]; recordLength?: number }
  | { kind: 'empty' }
  | { kind: 'narrow'; parent: number; ops: OpSpec[] }
  | { kind: 'union'; parents: number[]; counts: number[] }
  | { kind: 'coalesce'; parent: number; groups: number[][] }
  | { kind: 'cartesian'; a: number; b: number; nb: number }
  | { kind: 'zip'; a: number; b: number }
  | { kind: 'shuffled'; dep: ShuffleDepSpec; sort?: { ascending: boolean } | undefined }
  | { kind: 'cogroup'; deps: ShuffleDepSpec[] }
  | { kind: 'pipe'; parent: number; command: string[]; env: Record<string, string>; checkCode?: boolean }
  | { kind: 'checkpointed'; dir: string }
  /** localCheckpoint() after its job: the partitions exist only as the executors' cached blocks */
  | { kind: 'localCheckpointed' };

export type PlanNode = NodeSpec & {
  id: number;
  numPartitions: number;
  storageLevel?: StorageLevelName | undefined;
};

/** What a result task does with its partition's records. */
export type ResultOp =
  | { op: 'collect' }
  | { op: 'count' }
  /** fold with a zero value (reduce uses noZero: result `{ empty: true }` for an empty partition) */
  | { op: 'fold'; f: FnRef; zero?: unknown; noZero?: boolean }
  | { op: 'aggregate'; zero: unknown; seqOp: FnRef }
  | { op: 'take'; n: number }
  | { op: 'foreach'; f: FnRef }
  | { op: 'foreachPartition'; f: FnRef }
  | { op: 'save'; dir: string; compress?: 'gzip' | undefined; format: 'text' }
  | { op: 'checkpoint'; dir: string }
  | { op: 'none' };

/** The part of a task that is the same for every partition of a stage (encoded once per stage). */
export interface StageBody {
  /** PLAN_VERSION of src/plan/plan-version.ts */
  planVersion: number;
  appId: string;
  stageId: number;
  stageAttempt: number;
  jobId: number;
  nodes: PlanNode[];
  rootId: number;
  /** present for shuffle map stages */
  shuffleDep?: ShuffleDepSpec | undefined;
  /** present for result stages */
  resultOp?: ResultOp | undefined;
  /** imports bundles of the modules that registered classes: executors load them before decoding anything */
  classBundles?: string[] | undefined;
  /** for every shuffle this stage reads: map locations (index = map index) */
  mapLocations: Record<number, { mapIndex: number; executorId: string; host: string; port: number }[]>;
}

/** Per-task part of the body. */
export interface TaskBody {
  stage: Uint8Array;
  partition: number;
  /** parallelize() data of the partitions this task reads: rddId -> partition -> records */
  slices?: Record<number, Record<number, unknown[]>> | undefined;
}
