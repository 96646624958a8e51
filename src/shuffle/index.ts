/** Public surface of the shuffle (map-side writer, reduce-side reader, block server/fetcher, partitioners). */
export type { Aggregator } from './aggregator.js';
export { BlockFetchError, BlockFetcher, type BlockFetcherOptions } from './block-fetcher.js';
export { type BlockServer, type BlockServerOptions, startBlockServer } from './block-server.js';
export { ExternalAppendOnlyMap } from './external-map.js';
export { ExternalSorter } from './external-sorter.js';
export {
  type Compare,
  compareKeys,
  type PartitionerSpec,
  partitionFn,
  portableHash,
  rangeBounds,
} from './partitioner.js';
export {
  FetchFailedError,
  type MapLocation,
  newReadMetrics,
  type ReadMetrics,
  type ReadShuffleOptions,
  readShuffle,
} from './reader.js';
export {
  type MapOutputInfo,
  removeShuffleFiles,
  shuffleDataPath,
  shuffleIndexPath,
  type WriteShuffleOptions,
  writeShuffleOutput,
} from './writer.js';
