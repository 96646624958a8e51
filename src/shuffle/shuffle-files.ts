/**
 * Naming and lookup of committed shuffle files: `shuffle_<shuffleId>_<mapIndex>.data` with all reduce
 * partitions contiguous, and `.index` with numPartitions+1 little-endian u64 offsets.
 * blockRange() validates the pair (index present, offsets in order, last offset = data size) so a torn or
 * stale output is reported as missing, never served. Must not write files (the writer commits them).
 */
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CinderError } from '../common/errors.js';

export function shuffleDataPath(dir: string, shuffleId: number, mapIndex: number): string {
  return path.join(dir, `shuffle_${shuffleId}_${mapIndex}.data`);
}

export function shuffleIndexPath(dir: string, shuffleId: number, mapIndex: number): string {
  return path.join(dir, `shuffle_${shuffleId}_${mapIndex}.index`);
}

/** Removes every data, index, spill and temp file of a shuffle in dir. */
export async function removeShuffleFiles(dir: string, shuffleId: number): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const prefix = `shuffle_${shuffleId}_`;
  await Promise.all(names.filter((n) => n.startsWith(prefix)).map((n) => fs.rm(path.join(dir, n), { force: true })));
}

export interface BlockRange {
  dataPath: string;
  start: number;
  end: number;
}

function missing(shuffleId: number, mapIndex: number, reduceId: number, why: string): CinderError {
  return new CinderError(
    'SHUFFLE_BLOCK_MISSING',
    `shuffle ${shuffleId} map ${mapIndex} reduce ${reduceId}: ${why}`,
    'the map output was lost (executor restarted or files removed); the parent stage must be recomputed',
  );
}

/** Where one reduce partition of one map output lies in its data file. */
export async function blockRange(
  dir: string,
  shuffleId: number,
  mapIndex: number,
  reduceId: number,
): Promise<BlockRange> {
  const indexPath = shuffleIndexPath(dir, shuffleId, mapIndex);
  const dataPath = shuffleDataPath(dir, shuffleId, mapIndex);
  // the index is a few bytes per reduce partition: read with sync calls (each async one is a round trip
  // through libuv's thread pool, ~0.1-1 ms on a busy machine, and a short job makes many of them)
  let fd: number;
  try {
    fd = fsSync.openSync(indexPath, 'r');
  } catch (e) {
    throw missing(shuffleId, mapIndex, reduceId, `index file missing (${(e as NodeJS.ErrnoException).code})`);
  }
  try {
    const size = fsSync.fstatSync(fd).size;
    const count = size / 8;
    if (!Number.isInteger(count) || count < 2) throw missing(shuffleId, mapIndex, reduceId, 'index file is malformed');
    if (!Number.isInteger(reduceId) || reduceId < 0 || reduceId + 1 >= count)
      throw missing(shuffleId, mapIndex, reduceId, `no such reduce partition (map output has ${count - 1})`);
    const b = Buffer.alloc(16);
    fsSync.readSync(fd, b, 0, 16, reduceId * 8);
    const start = Number(b.readBigUInt64LE(0));
    const end = Number(b.readBigUInt64LE(8));
    fsSync.readSync(fd, b, 0, 8, size - 8);
    const total = Number(b.readBigUInt64LE(0));
    let dataSize: number;
    try {
      dataSize = fsSync.statSync(dataPath).size;
    } catch (e) {
      throw missing(shuffleId, mapIndex, reduceId, `data file missing (${(e as NodeJS.ErrnoException).code})`);
    }
    if (start > end || end > total || total !== dataSize)
      throw missing(shuffleId, mapIndex, reduceId, 'index does not match the data file');
    return { dataPath, start, end };
  } finally {
    fsSync.closeSync(fd);
  }
}

/** Blocks up to this size are read with sync calls (see blockRange); bigger ones stay off the thread. */
const SYNC_READ_MAX = 256 << 10;

/** The bytes of one reduce partition of one map output (framed batches). */
export async function readBlock(dir: string, shuffleId: number, mapIndex: number, reduceId: number): Promise<Buffer> {
  return readRange(await blockRange(dir, shuffleId, mapIndex, reduceId));
}

/** Reads a block range found by blockRange(). */
export async function readRange(r: BlockRange): Promise<Buffer> {
  const len = r.end - r.start;
  const b = Buffer.allocUnsafe(len);
  if (len === 0) return b;
  if (len <= SYNC_READ_MAX) {
    const fd = fsSync.openSync(r.dataPath, 'r');
    try {
      let got = 0;
      while (got < len) {
        const n = fsSync.readSync(fd, b, got, len - got, r.start + got);
        if (n === 0) throw new CinderError('SHUFFLE_BLOCK_MISSING', `${r.dataPath} is shorter than its index says`);
        got += n;
      }
    } finally {
      fsSync.closeSync(fd);
    }
    return b;
  }
  const fh = await fs.open(r.dataPath, 'r');
  try {
    let got = 0;
    while (got < len) {
      const { bytesRead } = await fh.read(b, got, len - got, r.start + got);
      if (bytesRead === 0)
        throw new CinderError('SHUFFLE_BLOCK_MISSING', `${r.dataPath} is shorter than its index says`);
      got += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return b;
}
