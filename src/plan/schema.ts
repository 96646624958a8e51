/**
 * The plan's wire contract: a zod schema for the stage body (the part of a task that is the same for
 * every partition of a stage) and its version. The driver encodes a stage body once per stage
 * (src/scheduler/stage-tasks.ts); an executor checks it once per stage (src/executor/task-runner.ts)
 * before compiling any function from it, so a driver and an executor of different plan versions, or a
 * corrupt body, fail with a message that says so instead of somewhere inside compute. Records and
 * captured values stay opaque (z.unknown()): checking them would cost per record.
 */

import { z } from '../common/zod.js';
import type { TextSplit, WholeFilesSplit } from '../io/splits.js';
import type { PartitionerSpec } from '../shuffle/partitioner.js';
import type { CapRef, FnRef } from './fn-ref.js';
import type { NodeSpec, OpSpec, PlanNode, ResultOp, ShuffleDepSpec, StageBody } from './plan.js';

import { PLAN_VERSION } from './plan-version.js';

export { PLAN_VERSION };

const int = z.number().int();
const count = int.nonnegative();

export const CapRefSchema: z.ZodType<CapRef> = z.lazy(() =>
  z.discriminatedUnion('t', [
    z.object({ t: z.literal('v'), v: z.unknown() }),
    z.object({ t: z.literal('f'), f: FnRefSchema }),
    z.object({ t: z.literal('b'), id: int }),
    z.object({ t: z.literal('a'), id: int, terms: z.literal(true).optional() }),
    z.object({ t: z.literal('r'), rid: int }),
  ]),
) as z.ZodType<CapRef>;

export const FnRefSchema: z.ZodType<FnRef> = z.lazy(() =>
  z.object({
    hash: z.string().min(1),
    src: z.string(),
    caps: z.record(z.string(), CapRefSchema),
    imports: z.object({ id: z.string(), names: z.array(z.string()) }).optional(),
    origin: z.object({ file: z.string(), line: int, column: int }).optional(),
    rid: int.optional(),
  }),
) as z.ZodType<FnRef>;

const OpSpecSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('map'), f: FnRefSchema }),
  z.object({ op: z.literal('flatMap'), f: FnRefSchema }),
  z.object({ op: z.literal('filter'), f: FnRefSchema }),
  z.object({ op: z.literal('mapValues'), f: FnRefSchema }),
  z.object({ op: z.literal('flatMapValues'), f: FnRefSchema }),
  z.object({ op: z.literal('keyBy'), f: FnRefSchema }),
  z.object({ op: z.literal('mapPartitions'), f: FnRefSchema, withIndex: z.boolean() }),
  z.object({ op: z.literal('builtin'), name: z.string(), args: z.unknown() }),
]);

const PartitionerSchema: z.ZodType<PartitionerSpec> = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('hash'), numPartitions: count }),
  z.object({ kind: z.literal('range'), numPartitions: count, bounds: z.array(z.unknown()), ascending: z.boolean() }),
]) as z.ZodType<PartitionerSpec>;

export const ShuffleDepSchema: z.ZodType<ShuffleDepSpec> = z.object({
  shuffleId: count,
  parent: int,
  numMaps: count,
  partitioner: PartitionerSchema,
  aggregator: z
    .object({
      createCombiner: FnRefSchema,
      mergeValue: FnRefSchema,
      mergeCombiners: FnRefSchema,
      reduce: z.literal(true).optional(),
    })
    .optional(),
  mapSideCombine: z.boolean(),
  builtinAggregator: z.string().optional(),
  keyFunc: FnRefSchema.optional(),
  partitionFunc: FnRefSchema.optional(),
}) as z.ZodType<ShuffleDepSpec>;

const TextSplitSchema: z.ZodType<TextSplit> = z.object({
  file: z.string(),
  start: count,
  end: count,
  gzip: z.boolean(),
});
const WholeFilesSplitSchema: z.ZodType<WholeFilesSplit> = z.object({ files: z.array(z.string()) });

const NodeSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('parallel'), numSlices: count }),
  z.object({ kind: z.literal('range'), start: z.number(), end: z.number(), step: z.number(), numSlices: count }),
  z.object({ kind: z.literal('text'), splits: z.array(TextSplitSchema) }),
  z.object({ kind: z.literal('wholeText'), splits: z.array(WholeFilesSplitSchema) }),
  z.object({
    kind: z.literal('binaryFiles'),
    splits: z.array(WholeFilesSplitSchema),
    recordLength: z.number().int().positive().optional(),
  }),
  z.object({ kind: z.literal('empty') }),
  z.object({ kind: z.literal('narrow'), parent: int, ops: z.array(OpSpecSchema) }),
  z.object({ kind: z.literal('union'), parents: z.array(int), counts: z.array(count) }),
  z.object({ kind: z.literal('coalesce'), parent: int, groups: z.array(z.array(count)) }),
  z.object({ kind: z.literal('cartesian'), a: int, b: int, nb: count }),
  z.object({ kind: z.literal('zip'), a: int, b: int }),
  z.object({
    kind: z.literal('shuffled'),
    dep: ShuffleDepSchema,
    sort: z.object({ ascending: z.boolean() }).optional(),
  }),
  z.object({ kind: z.literal('cogroup'), deps: z.array(ShuffleDepSchema) }),
  z.object({
    kind: z.literal('pipe'),
    parent: int,
    command: z.array(z.string()),
    env: z.record(z.string(), z.string()),
    checkCode: z.boolean().optional(),
  }),
  z.object({ kind: z.literal('checkpointed'), dir: z.string() }),
  z.object({ kind: z.literal('localCheckpointed') }),
]);

// the schema and the plan's types must describe the same shapes: a node kind added to one only fails here
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const matches: [
  Same<z.infer<typeof NodeSpecSchema>, NodeSpec>,
  Same<z.infer<typeof OpSpecSchema>, OpSpec>,
  Same<z.infer<typeof ResultOpSchema>, ResultOp>,
] = [true, true, true];
void matches;

const PlanNodeSchema: z.ZodType<PlanNode> = z.intersection(
  NodeSpecSchema,
  z.object({
    id: int,
    numPartitions: count,
    storageLevel: z.enum(['MEMORY_ONLY', 'MEMORY_AND_DISK', 'DISK_ONLY']).optional(),
  }),
) as z.ZodType<PlanNode>;

export const ResultOpSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('collect') }),
  z.object({ op: z.literal('count') }),
  z.object({ op: z.literal('fold'), f: FnRefSchema, zero: z.unknown().optional(), noZero: z.boolean().optional() }),
  z.object({ op: z.literal('aggregate'), zero: z.unknown(), seqOp: FnRefSchema }),
  z.object({ op: z.literal('take'), n: count }),
  z.object({ op: z.literal('foreach'), f: FnRefSchema }),
  z.object({ op: z.literal('foreachPartition'), f: FnRefSchema }),
  z.object({
    op: z.literal('save'),
    dir: z.string(),
    compress: z.literal('gzip').optional(),
    format: z.literal('text'),
  }),
  z.object({ op: z.literal('checkpoint'), dir: z.string() }),
  z.object({ op: z.literal('none') }),
]);

const MapLocationSchema = z.object({ mapIndex: count, executorId: z.string(), host: z.string(), port: int });

export const StageBodySchema: z.ZodType<StageBody> = z.object({
  planVersion: z.literal(PLAN_VERSION),
  appId: z.string(),
  stageId: count,
  stageAttempt: count,
  jobId: count,
  nodes: z.array(PlanNodeSchema).min(1),
  rootId: int,
  shuffleDep: ShuffleDepSchema.optional(),
  resultOp: ResultOpSchema.optional(),
  mapLocations: z.record(z.string(), z.array(MapLocationSchema)),
  classBundles: z.array(z.string().regex(/^[0-9a-f]{64}$/)).optional(),
}) as unknown as z.ZodType<StageBody>;

/**
 * A decoded stage body checked against the schema; throws a message naming the first problem. Returns
 * the body as decoded (zod's copy would drop fields the schema does not name; records and captured
 * values are not copied either).
 */
export function parseStageBody(v: unknown): StageBody {
  const version = (v as { planVersion?: unknown } | null)?.planVersion;
  if (version !== PLAN_VERSION)
    throw new Error(
      `the driver sent plan version ${String(version)}, this executor reads version ${PLAN_VERSION}: run the driver and the executors from the same Cinder release`,
    );
  const r = StageBodySchema.safeParse(v);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`invalid stage plan: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`);
  }
  return v as StageBody;
}
