/**
 * Reduce side of the shuffle: gathers one reduce partition from every map output (own outputs straight
 * from disk, remote ones through BlockFetcher, one request per peer for all its map outputs, a bounded
 * number in flight), then optionally aggregates (ExternalAppendOnlyMap) and sorts (ExternalSorter), both
 * memory-bounded with spills removed at the end, on early exit and on error.
 * Any failure to get a map output becomes a FetchFailedError naming the map index and executor, so the
 * scheduler can resubmit the parent stage. Must not talk to the scheduler itself.
 */
import { CinderError } from '../common/errors.js';
import { BatchFileReader, framedBodies } from '../storage/batch-file.js';
import {
  decodeBatch,
  type StringKeyColumns,
  type StringNumberColumns,
  stringKeyColumns,
  stringNumberColumns,
} from '../storage/record-codec.js';
import type { Aggregator } from './aggregator.js';
import { BlockFetchError, type BlockFetcher } from './block-fetcher.js';
import { ExternalAppendOnlyMap } from './external-map.js';
import { ExternalSorter } from './external-sorter.js';
import { compareKeys } from './partitioner.js';
import { ReduceByKeyMap } from './reduce-table.js';
import { blockRange } from './shuffle-files.js';

export interface MapLocation {
  mapIndex: number;
  executorId: string;
  host: string;
  port: number;
}

export class FetchFailedError extends CinderError {
  readonly shuffleId: number;
  readonly mapIndex: number;
  readonly executorId: string;
  constructor(shuffleId: number, mapIndex: number, executorId: string, cause: unknown) {
    super(
      'FETCH_FAILED',
      `could not fetch shuffle ${shuffleId} map output ${mapIndex} from executor ${executorId}: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      'the map stage will be resubmitted to recompute the lost output',
    );
    this.name = 'FetchFailedError';
    this.shuffleId = shuffleId;
    this.mapIndex = mapIndex;
    this.executorId = executorId;
    this.cause = cause;
  }
}

export interface ReadShuffleOptions {
  shuffleId: number;
  reduceId: number;
  /** one per map task */
  locations: MapLocation[];
  fetcher: BlockFetcher;
  /** this executor: its map outputs are read straight from disk */
  local?: { executorId: string; dir: string } | undefined;
  aggregator?: Aggregator | undefined;
  /** values are combiners (merge with mergeCombiners) when true, raw values otherwise */
  mapSideCombined: boolean;
  /** sort the output by key */
  sort?: { ascending: boolean; compare?: ((a: unknown, b: unknown) => number) | undefined } | undefined;
  memoryLimitBytes: number;
  spillDir: string;
  /** requests in flight from this reader (default 4) */
  maxRequestsInFlight?: number | undefined;
  /** map outputs per request (default 256) */
  maxMapsPerRequest?: number | undefined;
  /** filled in while reading (for task metrics) */
  metrics?: ReadMetrics | undefined;
}

export interface ReadMetrics {
  remoteBytes: number;
  localBlocks: number;
  remoteBlocks: number;
  recordsRead: number;
  spilledBytes: number;
}

export function newReadMetrics(): ReadMetrics {
  return { remoteBytes: 0, localBlocks: 0, remoteBlocks: 0, recordsRead: 0, spilledBytes: 0 };
}

/** Batches of [k, v] (or [k, c] with an aggregator: one entry per key), sorted if asked. */
export async function* readShuffle(o: ReadShuffleOptions): AsyncGenerator<unknown[][]> {
  const input = fetchBatches(o);
  const sortCmp = o.sort ? sortComparator(o.sort) : undefined;
  if (!o.aggregator) {
    if (!sortCmp) {
      yield* input;
      return;
    }
    const nat = natural(o.sort);
    const sorter = new ExternalSorter({
      compare: sortCmp,
      natural: nat,
      memoryLimitBytes: o.memoryLimitBytes,
      spillDir: o.spillDir,
    });
    try {
      // natural order: string-key column batches go to the sorter undecoded (src/shuffle/string-key-run.ts)
      const batches = nat ? fetchBatches(o, stringKeyColumns) : input;
      for await (const b of batches) {
        if (Array.isArray(b)) await sorter.insertAll(b);
        else await sorter.insertColumns(b);
      }
      if (o.metrics) o.metrics.spilledBytes += sorter.spilledBytes;
      yield* sorter.batches();
    } finally {
      await sorter.cleanup();
    }
    return;
  }
  const agg = o.aggregator;
  const aggregator: Aggregator = o.mapSideCombined
    ? { createCombiner: (c) => c, mergeValue: agg.mergeCombiners, mergeCombiners: agg.mergeCombiners }
    : agg;
  const limit = sortCmp ? o.memoryLimitBytes / 2 : o.memoryLimitBytes;
  // reduceByKey: string/number column batches are folded from their bytes (src/shuffle/reduce-table.ts)
  const typed = agg.reduce
    ? new ReduceByKeyMap({ reduce: agg.reduce, memoryLimitBytes: limit, spillDir: o.spillDir })
    : undefined;
  const map = typed ?? new ExternalAppendOnlyMap({ aggregator, memoryLimitBytes: limit, spillDir: o.spillDir });
  const batches = typed
    ? fetchBatches(o, (body) => (typed.wantsColumns ? stringNumberColumns(body) : undefined))
    : input;
  try {
    for await (const b of batches) {
      if (Array.isArray(b)) await map.insertAll(b);
      else await typed!.insertColumns(b);
    }
    if (o.metrics) o.metrics.spilledBytes += map.spilledBytes;
    if (!sortCmp) {
      yield* map.batches();
      return;
    }
    const sorter = new ExternalSorter({
      compare: sortCmp,
      natural: natural(o.sort),
      memoryLimitBytes: limit,
      spillDir: o.spillDir,
    });
    try {
      for await (const b of map.batches()) await sorter.insertAll(b);
      if (o.metrics) o.metrics.spilledBytes += sorter.spilledBytes;
      yield* sorter.batches();
    } finally {
      await sorter.cleanup();
    }
  } finally {
    await map.cleanup();
  }
}

/** Natural key order (no custom comparator) lets the sorter use its radix path. */
function natural(s: { ascending: boolean; compare?: unknown } | undefined): { ascending: boolean } | undefined {
  return s && !s.compare ? { ascending: s.ascending } : undefined;
}

function sortComparator(s: { ascending: boolean; compare?: ((a: unknown, b: unknown) => number) | undefined }) {
  const c = s.compare ?? compareKeys;
  return s.ascending ? c : (a: unknown, b: unknown) => c(b, a);
}

interface Req {
  executorId: string;
  host: string;
  port: number;
  mapIndexes: number[];
}

/** a batch kept as its columns (both kinds have their row count as n) */
type Cols = StringNumberColumns | StringKeyColumns;

type Done = { req: Req; blocks?: Uint8Array[]; err?: unknown };

/**
 * Decoded record batches of this reduce partition from every map output, in no particular order.
 * With `columns`, a batch body it accepts is yielded as its string/number columns instead, undecoded.
 */
function fetchBatches(o: ReadShuffleOptions): AsyncGenerator<unknown[][]>;
function fetchBatches<C extends Cols>(
  o: ReadShuffleOptions,
  columns: (body: Buffer) => C | undefined,
): AsyncGenerator<unknown[][] | C>;
async function* fetchBatches(
  o: ReadShuffleOptions,
  columns?: (body: Buffer) => Cols | undefined,
): AsyncGenerator<unknown[][] | Cols> {
  const parse = (body: Buffer): unknown[][] | Cols => columns?.(body) ?? (decodeBatch(body) as unknown[][]);
  const count = (b: unknown[][] | Cols): number => (Array.isArray(b) ? b.length : b.n);
  const metrics = o.metrics;
  const localLocs: MapLocation[] = [];
  const byPeer = new Map<string, Req>();
  for (const l of o.locations) {
    if (o.local && l.executorId === o.local.executorId) {
      localLocs.push(l);
      continue;
    }
    const key = `${l.executorId}@${l.host}:${l.port}`;
    let r = byPeer.get(key);
    if (!r) byPeer.set(key, (r = { executorId: l.executorId, host: l.host, port: l.port, mapIndexes: [] }));
    r.mapIndexes.push(l.mapIndex);
  }
  const perReq = o.maxMapsPerRequest ?? 256;
  const reqs: Req[] = [];
  for (const r of byPeer.values()) {
    for (let i = 0; i < r.mapIndexes.length; i += perReq)
      reqs.push({ ...r, mapIndexes: r.mapIndexes.slice(i, i + perReq) });
  }

  const maxInFlight = o.maxRequestsInFlight ?? 4;
  const inFlight = new Map<Req, Promise<Done>>();
  let next = 0;
  const startMore = (): void => {
    while (inFlight.size < maxInFlight && next < reqs.length) {
      const req = reqs[next++]!;
      inFlight.set(
        req,
        o.fetcher.fetch(req, o.shuffleId, req.mapIndexes, o.reduceId).then(
          (blocks) => ({ req, blocks }),
          (err) => ({ req, err }),
        ),
      );
    }
  };
  startMore();

  for (const l of localLocs) {
    let reader: BatchFileReader | undefined;
    try {
      const r = await blockRange(o.local!.dir, o.shuffleId, l.mapIndex, o.reduceId);
      reader = await BatchFileReader.open(r.dataPath, r.start, r.end);
    } catch (e) {
      throw new FetchFailedError(o.shuffleId, l.mapIndex, l.executorId, e);
    }
    try {
      for (;;) {
        let b: unknown[][] | Cols | undefined;
        try {
          const body = await reader.nextBody();
          b = body === undefined ? undefined : parse(body);
        } catch (e) {
          throw new FetchFailedError(o.shuffleId, l.mapIndex, l.executorId, e);
        }
        if (b === undefined) break;
        if (metrics) metrics.recordsRead += count(b);
        yield b;
      }
    } finally {
      await reader.close();
    }
    if (metrics) metrics.localBlocks++;
  }

  while (inFlight.size > 0) {
    const done = await Promise.race(inFlight.values());
    inFlight.delete(done.req);
    const { req } = done;
    if (done.err !== undefined || !done.blocks) {
      const e = done.err;
      const mapIndex = e instanceof BlockFetchError ? e.mapIndex : req.mapIndexes[0]!;
      throw new FetchFailedError(o.shuffleId, mapIndex, req.executorId, e instanceof BlockFetchError ? e.cause : e);
    }
    const blocks = done.blocks;
    startMore();
    if (metrics) {
      metrics.remoteBlocks += blocks.length;
      for (const b of blocks) metrics.remoteBytes += b.length;
    }
    for (let i = 0; i < blocks.length; i++) {
      const mapIndex = req.mapIndexes[i]!;
      const bodies = framedBodies(blocks[i]!, `shuffle ${o.shuffleId} map ${mapIndex} reduce ${o.reduceId}`);
      for (;;) {
        let b: unknown[][] | Cols;
        try {
          const r = bodies.next();
          if (r.done) break;
          b = parse(r.value);
        } catch (e) {
          throw new FetchFailedError(o.shuffleId, mapIndex, req.executorId, e);
        }
        if (metrics) metrics.recordsRead += count(b);
        yield b;
      }
      blocks[i] = new Uint8Array(0); // let the fetched bytes go
    }
  }
}
