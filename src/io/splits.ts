/**
 * Driver-side split planning for text input (Hadoop FileInputFormat.getSplits) and whole-file input
 * (Spark's WholeTextFileInputFormat / CombineFileInputFormat packing). Owns deciding byte ranges per
 * partition; it must not read file contents (executors do, in text-reader.ts).
 *
 * Text splits: goalSize = totalBytes / minPartitions; splitSize = max(minSplitSize, min(goalSize, blockSize));
 * each splittable file is cut into splitSize pieces, the last piece absorbing up to 10% slop (Hadoop's
 * SPLIT_SLOP = 1.1). `.gz` files are one unsplittable split each. Empty files give no split; if every input file
 * is empty, one empty split (of the first file) is returned so the RDD still has one (empty) partition, as
 * Spark's textFile on an empty file does. An existing but empty directory gives zero splits.
 */
import path from 'node:path';
import { CinderError } from '../common/errors.js';
import { type InputFile, listInputFiles } from './paths.js';

/** One text partition: the lines of `file` whose first byte lies in [start, end). */
export interface TextSplit {
  /** Absolute path. */
  file: string;
  /** First byte (inclusive). */
  start: number;
  /** Last byte (exclusive). A line starting before `end` is read to its end even past `end`. */
  end: number;
  /** Gzip-compressed: the split always covers the whole file (start 0). */
  gzip: boolean;
}

/** One whole-files partition: each file becomes one (path, content) record. */
export interface WholeFilesSplit {
  files: string[];
}

export interface SplitOptions {
  /** Upper bound on a split's size (Hadoop's block size). Default 32 MiB. */
  blockSize?: number;
  /** Lower bound on a split's size (mapreduce.input.fileinputformat.split.minsize). Default 1. */
  minSplitSize?: number;
}

export const DEFAULT_BLOCK_SIZE = 32 * 1024 * 1024;
const SPLIT_SLOP = 1.1;
const UNSUPPORTED_CODECS = ['.bz2', '.zst', '.xz', '.lz4', '.snappy', '.deflate', '.zip'];

export function isGzip(file: string): boolean {
  return file.endsWith('.gz');
}

function refuseUnsupportedCodec(file: string): void {
  const ext = path.extname(file).toLowerCase();
  if (UNSUPPORTED_CODECS.includes(ext)) {
    throw new CinderError(
      'UNSUPPORTED_COMPRESSION',
      `Input file ${file} is compressed with '${ext}', which Cinder cannot decompress`,
      'recompress it with gzip (.gz) or decompress it before reading',
    );
  }
}

/**
 * Plans the byte-range splits of a text input.
 * @example const splits = await planTextSplits('/data/logs/*.txt', 8); // >= 8 splits when the data allows
 */
export async function planTextSplits(
  paths: string,
  minPartitions: number,
  opts: SplitOptions = {},
): Promise<TextSplit[]> {
  return textSplitsOf(await listInputFiles(paths), minPartitions, opts);
}

/** Pure planning over already-listed files (exported for tests and for callers that listed files themselves). */
export function textSplitsOf(files: InputFile[], minPartitions: number, opts: SplitOptions = {}): TextSplit[] {
  const blockSize = opts.blockSize ?? DEFAULT_BLOCK_SIZE;
  const minSize = Math.max(1, opts.minSplitSize ?? 1);
  if (!(blockSize >= 1)) throw new CinderError('BAD_ARGUMENT', `blockSize must be >= 1, got ${blockSize}`);
  const total = files.reduce((s, f) => s + f.size, 0);
  const goal = Math.floor(total / Math.max(1, Math.floor(minPartitions) || 1));
  const splitSize = Math.max(minSize, Math.min(goal, blockSize));
  const out: TextSplit[] = [];
  for (const f of files) {
    refuseUnsupportedCodec(f.path);
    if (f.size === 0) continue;
    if (isGzip(f.path)) {
      out.push({ file: f.path, start: 0, end: f.size, gzip: true });
      continue;
    }
    let remaining = f.size;
    while (remaining / splitSize > SPLIT_SLOP) {
      const start = f.size - remaining;
      out.push({ file: f.path, start, end: start + splitSize, gzip: false });
      remaining -= splitSize;
    }
    if (remaining > 0) out.push({ file: f.path, start: f.size - remaining, end: f.size, gzip: false });
  }
  const first = files[0];
  if (out.length === 0 && first) out.push({ file: first.path, start: 0, end: 0, gzip: isGzip(first.path) });
  return out;
}

/**
 * Plans whole-file partitions: files (in listing order) are packed into splits of at most
 * ceil(totalBytes / minPartitions) bytes each (a larger file gets a split of its own), like Spark's wholeTextFiles.
 * Empty files are kept (they yield a record with empty content).
 * @example const splits = await planWholeFiles('/data/docs', 4);
 */
export async function planWholeFiles(paths: string, minPartitions: number): Promise<WholeFilesSplit[]> {
  return wholeFilesSplitsOf(await listInputFiles(paths), minPartitions);
}

export function wholeFilesSplitsOf(files: InputFile[], minPartitions: number): WholeFilesSplit[] {
  for (const f of files) refuseUnsupportedCodec(f.path);
  const total = files.reduce((s, f) => s + f.size, 0);
  const maxSplit = Math.max(1, Math.ceil(total / Math.max(1, Math.floor(minPartitions) || 1)));
  const out: WholeFilesSplit[] = [];
  let cur: string[] = [];
  let curSize = 0;
  for (const f of files) {
    if (cur.length > 0 && curSize + f.size > maxSplit) {
      out.push({ files: cur });
      cur = [];
      curSize = 0;
    }
    cur.push(f.path);
    curSize += f.size;
  }
  if (cur.length > 0) out.push({ files: cur });
  return out;
}
