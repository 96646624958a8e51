/**
 * The names of the engine's own partition functions that a plan may name ({ op: 'builtin' }, a shuffle's
 * builtinAggregator): the vocabulary the driver and the executors share. The functions themselves are in
 * src/executor/builtins.ts, whose tables must have exactly these keys (checked at compile time).
 */

export const BUILTIN_OPS = [
  'sample',
  'sampleRange',
  'sampleByKey',
  'hllRegisters',
  'countByValue',
  'stats',
  'glom',
  'zipWithIndex',
  'zipWithUniqueId',
  'histogram',
  'identity',
] as const;
export type BuiltinOpName = (typeof BUILTIN_OPS)[number];

/** builtins fed batch by batch (they read their partition once, front to back) */
export const STREAMING_BUILTIN_OPS = ['sampleKeys'] as const;
export type StreamingBuiltinOpName = (typeof STREAMING_BUILTIN_OPS)[number];

export const BUILTIN_AGGREGATOR_NAMES = ['groupByKey'] as const;
export type BuiltinAggregatorName = (typeof BUILTIN_AGGREGATOR_NAMES)[number];

const ALL: ReadonlySet<string> = new Set<string>([...BUILTIN_OPS, ...STREAMING_BUILTIN_OPS]);

/** Whether a plan may name this partition function. */
export function isBuiltinOp(name: string): name is BuiltinOpName | StreamingBuiltinOpName {
  return ALL.has(name);
}
