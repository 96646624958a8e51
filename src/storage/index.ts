/** Public surface of storage: the executor's block store and the shared batch-file format. */

export { BatchFileReader, BatchFileWriter, encodeFramed, parseFramed, readBatches } from './batch-file.js';
export { BlockStore, type BlockStoreOptions, type StorageLevel } from './block-store.js';
export { estimateRecordsSize, estimateSize, SizeTracker } from './size-estimator.js';
