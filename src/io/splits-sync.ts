/**
 * Synchronous split planning for the driver: RDD transformations such as textFile() are synchronous
 * (as in PySpark), so their partitions are planned at call time. Same rules as splits.ts.
 */
import { listInputFilesSync } from './paths.js';
import { type TextSplit, textSplitsOf, type WholeFilesSplit, wholeFilesSplitsOf } from './splits.js';

export function planTextSplitsSync(paths: string, minPartitions: number): TextSplit[] {
  return textSplitsOf(listInputFilesSync(paths), minPartitions);
}

export function planWholeFilesSync(paths: string, minPartitions: number): WholeFilesSplit[] {
  return wholeFilesSplitsOf(listInputFilesSync(paths), minPartitions);
}
