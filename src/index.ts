/**
 * Cinder's public API: `import { CinderContext } from 'cinder'`.
 * @example
 *   const sc = await CinderContext.getOrCreate({ appName: 'wordcount' });
 *   const counts = await sc.textFile('in.txt').flatMap((l) => l.split(' ')).map((w) => [w, 1] as [string, number])
 *     .reduceByKey((a, b) => a + b).collect();
 *   await sc.stop();
 */
export { CinderContext, type ContextOptions } from './api/context.js';
export { type Captures, type Pair, RDD, type SaveTextOptions, type Widen } from './api/rdd.js';
export { Accumulator, type AccumulatorParam, Broadcast } from './api/shared-vars.js';
export { StatCounter } from './api/stat-counter.js';
export type { Conf } from './common/conf.js';
export { CinderError } from './common/errors.js';
export { mapKey } from './common/map-key.js';
export { type Ctor, registerClass } from './common/serde.js';
export type { StatCounterData } from './common/stats.js';
export { VERSION as version } from './common/version.js';
export {
  type CsvOptions,
  parseCsv,
  parseCsvLine,
  parseCsvLines,
  parseJsonLine,
  toCsvLine,
  toJsonLine,
} from './io/formats.js';
export { StorageLevel, type StorageLevelName } from './plan/storage-level.js';
export { compareKeys, type PartitionerSpec, portableHash } from './shuffle/partitioner.js';
