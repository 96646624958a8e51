import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Aggregator } from '../../src/shuffle/aggregator.js';
import { BlockFetcher } from '../../src/shuffle/block-fetcher.js';
import { type BlockServer, startBlockServer } from '../../src/shuffle/block-server.js';
import { compareKeys, partitionFn, rangeBounds } from '../../src/shuffle/partitioner.js';
import { FetchFailedError, type MapLocation, newReadMetrics, readShuffle } from '../../src/shuffle/reader.js';
import {
  type MapOutputInfo,
  removeShuffleFiles,
  shuffleDataPath,
  shuffleIndexPath,
  writeShuffleOutput,
} from '../../src/shuffle/writer.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-shuffle-'));
const APP = 'app-test';
const SECRET = 'block-secret';
const secretFor = (p: string) => (p === APP ? SECRET : undefined);

interface Exec {
  id: string;
  dir: string;
  server: BlockServer;
  fetcher: BlockFetcher;
}
const execs: Exec[] = [];

before(async () => {
  for (const id of ['exec-1', 'exec-2']) {
    const dir = path.join(root, id);
    fs.mkdirSync(dir, { recursive: true });
    const server = await startBlockServer({ dir, host: '127.0.0.1', secretFor });
    execs.push({ id, dir, server, fetcher: new BlockFetcher({ principal: APP, secret: SECRET }) });
  }
});
after(async () => {
  for (const e of execs) {
    e.fetcher.close();
    await e.server.close();
  }
  fs.rmSync(root, { recursive: true, force: true });
});

const NUM_MAPS = 4;
const words = (m: number, n: number): unknown[][] =>
  Array.from({ length: n }, (_, i) => [`w${(i * 7 + m * 13) % 997}`, 1]);

async function* batches(records: unknown[][], size = 500): AsyncGenerator<unknown[][]> {
  for (let i = 0; i < records.length; i += size) yield records.slice(i, i + size);
}

/** Maps 0,1 write on exec-1 and 2,3 on exec-2. */
async function writeMaps(
  shuffleId: number,
  numPartitions: number,
  partition: (k: unknown) => number,
  input: (m: number) => unknown[][],
  aggregator?: Aggregator,
  memoryLimitBytes = 64 << 20,
): Promise<{ locs: MapLocation[]; infos: MapOutputInfo[] }> {
  const locs: MapLocation[] = [];
  const infos: MapOutputInfo[] = [];
  for (let m = 0; m < NUM_MAPS; m++) {
    const e = execs[m < 2 ? 0 : 1]!;
    infos.push(
      await writeShuffleOutput({
        dir: e.dir,
        shuffleId,
        mapIndex: m,
        numPartitions,
        partition,
        aggregator,
        input: batches(input(m)),
        memoryLimitBytes,
      }),
    );
    locs.push({ mapIndex: m, executorId: e.id, host: '127.0.0.1', port: e.server.port });
  }
  return { locs, infos };
}

async function collect(it: AsyncIterable<unknown[][]>): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for await (const b of it) for (const r of b) out.push(r);
  return out;
}

const sumAgg: Aggregator<number, number> = {
  createCombiner: (v) => v,
  mergeValue: (c, v) => c + v,
  mergeCombiners: (a, b) => a + b,
};

function expectedCounts(input: (m: number) => unknown[][]): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < NUM_MAPS; i++)
    for (const [k, v] of input(i)) m.set(k as string, (m.get(k as string) ?? 0) + (v as number));
  return m;
}

test('write + read round trip across two block servers (local and remote reads), with map-side spills', async () => {
  const n = 3;
  const part = partitionFn({ kind: 'hash', numPartitions: n });
  const input = (m: number) => words(m, 20_000);
  // a tiny limit forces map-side spills
  const { locs, infos } = await writeMaps(1, n, part, input, undefined, 128 * 1024);
  assert.ok(infos.every((i) => i.spilledBytes > 0 && i.records === 20_000));
  for (let m = 0; m < NUM_MAPS; m++) {
    const dir = execs[m < 2 ? 0 : 1]!.dir;
    const info = infos[m]!;
    assert.equal(
      info.sizes.reduce((a, b) => a + b, 0),
      fs.statSync(shuffleDataPath(dir, 1, m)).size,
    );
    assert.equal(fs.statSync(shuffleIndexPath(dir, 1, m)).size, 8 * (n + 1));
  }
  for (const e of execs)
    assert.deepEqual(
      fs.readdirSync(e.dir).filter((f) => !/^shuffle_\d+_\d+\.(data|index)$/.test(f)),
      [],
    );

  const all: unknown[][] = [];
  for (let r = 0; r < n; r++) {
    // reduce runs on exec-1: maps 0,1 from its disk, maps 2,3 through exec-2's block server
    const out = await collect(
      readShuffle({
        shuffleId: 1,
        reduceId: r,
        locations: locs,
        fetcher: execs[0]!.fetcher,
        local: { executorId: 'exec-1', dir: execs[0]!.dir },
        mapSideCombined: false,
        memoryLimitBytes: 1 << 20,
        spillDir: path.join(root, 'spill'),
      }),
    );
    for (const rec of out) assert.equal(part(rec[0]), r);
    for (const rec of out) all.push(rec);
  }
  const expectedAll: unknown[][] = [];
  for (let m = 0; m < NUM_MAPS; m++) for (const r of input(m)) expectedAll.push(r);
  const key = (r: unknown[]) => `${r[0]}|${r[1]}`;
  assert.deepEqual(all.map(key).sort(), expectedAll.map(key).sort());
});

test('map-side combine (reduceByKey) and a split reply from a server with a tiny reply cap', async () => {
  const n = 4;
  const part = partitionFn({ kind: 'hash', numPartitions: n });
  const input = (m: number) => words(m, 10_000);
  const { locs, infos } = await writeMaps(2, n, part, input, sumAgg);
  assert.ok(
    infos.every((i) => i.records <= 997),
    'combined to at most one record per key per map',
  );
  const tiny = await startBlockServer({ dir: execs[1]!.dir, host: '127.0.0.1', secretFor, maxReplyBytes: 1 });
  try {
    const viaTiny = locs.map((l) => (l.executorId === 'exec-2' ? { ...l, port: tiny.port } : l));
    const got = new Map<string, number>();
    for (let r = 0; r < n; r++) {
      const out = await collect(
        readShuffle({
          shuffleId: 2,
          reduceId: r,
          locations: viaTiny,
          fetcher: execs[0]!.fetcher,
          aggregator: sumAgg,
          mapSideCombined: true,
          memoryLimitBytes: 1 << 20,
          spillDir: path.join(root, 'spill'),
        }),
      );
      for (const [k, v] of out) {
        assert.ok(!got.has(k as string), 'one entry per key');
        got.set(k as string, v as number);
      }
    }
    assert.deepEqual(got, expectedCounts(input));
  } finally {
    await tiny.close();
  }
});

/** Sums per key of map output 0 (written on exec-1) of a map-side-combined shuffle, read from exec-2. */
async function readSums(shuffleId: number, numPartitions: number): Promise<Map<string, number>> {
  const e = execs[0]!;
  const got = new Map<string, number>();
  for (let r = 0; r < numPartitions; r++)
    for (const [k, v] of await collect(
      readShuffle({
        shuffleId,
        reduceId: r,
        locations: [{ mapIndex: 0, executorId: e.id, host: '127.0.0.1', port: e.server.port }],
        fetcher: execs[1]!.fetcher,
        aggregator: sumAgg,
        mapSideCombined: true,
        memoryLimitBytes: 64 << 20,
        spillDir: path.join(root, 'spill'),
      }),
    ))
      got.set(k as string, (got.get(k as string) ?? 0) + (v as number));
  return got;
}

test('a pushed source whose one batch expands past the budget spills mid-batch (map-side combine)', async () => {
  const n = 2;
  const part = partitionFn({ kind: 'hash', numPartitions: n });
  const e = execs[0]!;
  const keys = 300_000; // distinct keys, all pushed inside ONE input batch (as a flatMap of one line would)
  let afterBatches = 0;
  const info = await writeShuffleOutput({
    dir: e.dir,
    shuffleId: 9,
    mapIndex: 0,
    numPartitions: n,
    partition: part,
    aggregator: sumAgg,
    input: async (push, afterBatch) => {
      for (let i = 0; i < keys; i++) push([`k${i % 150_000}`, 1]);
      await afterBatch();
      afterBatches++;
    },
    memoryLimitBytes: 1 << 20,
    partialAggregate: { minRecords: Number.POSITIVE_INFINITY, skipRatio: 1 },
  });
  assert.equal(afterBatches, 1);
  assert.ok(info.spilledBytes > 0);
  // the combine map was flushed inside the batch, so keys were written more than once
  assert.ok(info.records > 150_000, `records written ${info.records}: the map was only flushed after the batch`);
  const got = await readSums(9, n);
  assert.equal(got.size, 150_000);
  for (const v of got.values()) assert.equal(v, 2);
});

test('map-side combining stops when nearly every key is distinct, and the reducers still merge exactly', async () => {
  const n = 2;
  const part = partitionFn({ kind: 'hash', numPartitions: n });
  const e = execs[0]!;
  const write = (shuffleId: number, distinct: number) =>
    writeShuffleOutput({
      dir: e.dir,
      shuffleId,
      mapIndex: 0,
      numPartitions: n,
      partition: part,
      aggregator: sumAgg,
      input: async (push, afterBatch) => {
        for (let b = 0; b < 10; b++) {
          for (let i = b * 30_000; i < (b + 1) * 30_000; i++) push([`k${i % distinct}`, 1]);
          await afterBatch();
        }
      },
      memoryLimitBytes: 256 << 20,
      partialAggregate: { minRecords: 100_000, skipRatio: 0.9 },
    });
  const read = (shuffleId: number) => readSums(shuffleId, n);
  // 300,000 records over 200,000 keys: the first 100,000+ are all distinct, so combining stops there
  const high = await write(10, 200_000);
  assert.ok(high.records > 250_000, `records ${high.records}: combining should have stopped`);
  const gotHigh = await read(10);
  assert.equal(gotHigh.size, 200_000);
  assert.equal(
    [...gotHigh.values()].reduce((a, b) => a + b, 0),
    300_000,
  );
  assert.equal(gotHigh.get('k5'), 2);
  assert.equal(gotHigh.get('k150000'), 1);
  // 300,000 records over 1,000 keys: combining pays and continues
  const low = await write(11, 1_000);
  assert.equal(low.records, 1_000);
  const gotLow = await read(11);
  assert.equal(gotLow.size, 1_000);
  for (const v of gotLow.values()) assert.equal(v, 300);
});

test('groupByKey + sortByKey through readShuffle with reduce-side spills and a range partitioner', async () => {
  const n = 3;
  const input = (m: number) => Array.from({ length: 30_000 }, (_, i) => [(i * 31 + m) % 5000, m * 100_000 + i]);
  const sample = input(0)
    .filter((_, i) => i % 50 === 0)
    .map((r) => r[0]);
  const part = partitionFn({ kind: 'range', numPartitions: n, bounds: rangeBounds(sample, n), ascending: true });
  const { locs } = await writeMaps(3, n, part, input);
  const groupAgg: Aggregator<number, number[]> = {
    createCombiner: (v) => [v],
    mergeValue: (c, v) => {
      c.push(v);
      return c;
    },
    mergeCombiners: (a, b) => {
      for (const x of b) a.push(x);
      return a;
    },
  };
  const spillDir = path.join(root, 'spill-group');
  const expected = new Map<number, number[]>();
  for (let m = 0; m < NUM_MAPS; m++)
    for (const [k, v] of input(m) as [number, number][]) {
      let l = expected.get(k);
      if (!l) expected.set(k, (l = []));
      l.push(v);
    }
  for (const l of expected.values()) l.sort((a, b) => a - b);
  const keys: unknown[] = [];
  let values = 0;
  const metrics = newReadMetrics();
  for (let r = 0; r < n; r++) {
    const out = await collect(
      readShuffle({
        shuffleId: 3,
        reduceId: r,
        locations: locs,
        fetcher: execs[1]!.fetcher,
        local: { executorId: 'exec-2', dir: execs[1]!.dir },
        aggregator: groupAgg,
        mapSideCombined: false,
        sort: { ascending: true },
        memoryLimitBytes: 256 * 1024,
        spillDir,
        metrics,
      }),
    );
    for (const [k, c] of out as [number, number[]][]) {
      keys.push(k);
      values += c.length;
      assert.deepEqual(
        c.sort((a, b) => a - b),
        expected.get(k),
      );
    }
  }
  assert.equal(values, NUM_MAPS * 30_000);
  assert.equal(metrics.recordsRead, NUM_MAPS * 30_000);
  assert.equal(metrics.localBlocks, 2 * n);
  assert.equal(metrics.remoteBlocks, 2 * n);
  assert.ok(metrics.spilledBytes > 0, 'the reduce side spilled');
  assert.equal(keys.length, 5000);
  for (let i = 1; i < keys.length; i++) assert.ok(compareKeys(keys[i - 1], keys[i]) < 0, 'globally sorted');
  assert.deepEqual(fs.existsSync(spillDir) ? fs.readdirSync(spillDir) : [], [], 'reduce-side spills removed');
});

test('FetchFailedError names the map output and executor: missing files, peer down', async () => {
  const n = 2;
  const part = partitionFn({ kind: 'hash', numPartitions: n });
  const { locs } = await writeMaps(4, n, part, (m) => words(m, 100));
  const read = (locations: MapLocation[], local?: { executorId: string; dir: string }) =>
    collect(
      readShuffle({
        shuffleId: 4,
        reduceId: 0,
        locations,
        fetcher: execs[0]!.fetcher,
        local,
        mapSideCombined: false,
        memoryLimitBytes: 1 << 20,
        spillDir: path.join(root, 'spill'),
      }),
    );
  const isFetchFailed = (mapIndex: number, executorId: string) => (e: unknown) => {
    assert.ok(e instanceof FetchFailedError, String(e));
    assert.equal(e.shuffleId, 4);
    assert.equal(e.mapIndex, mapIndex);
    assert.equal(e.executorId, executorId);
    return true;
  };
  // remote file missing (map 3 on exec-2): the reply stops before it and the retry names it
  fs.rmSync(shuffleIndexPath(execs[1]!.dir, 4, 3));
  await assert.rejects(read(locs), isFetchFailed(3, 'exec-2'));
  // local file missing (map 1 on exec-1, read from disk)
  fs.rmSync(shuffleDataPath(execs[0]!.dir, 4, 1));
  await assert.rejects(
    read(locs.slice(0, 2), { executorId: 'exec-1', dir: execs[0]!.dir }),
    isFetchFailed(1, 'exec-1'),
  );
  // peer down: a server that is gone
  const gone = await startBlockServer({ dir: execs[1]!.dir, host: '127.0.0.1', secretFor });
  const port = gone.port;
  await gone.close();
  await assert.rejects(
    read([{ mapIndex: 2, executorId: 'exec-9', host: '127.0.0.1', port }]),
    isFetchFailed(2, 'exec-9'),
  );
  await removeShuffleFiles(execs[0]!.dir, 4);
  await removeShuffleFiles(execs[1]!.dir, 4);
  for (const e of execs) assert.ok(fs.readdirSync(e.dir).every((f) => !f.startsWith('shuffle_4_')));
});
