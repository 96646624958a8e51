/**
 * Micro-benchmark (not a test): write + read of 1M [string, number] pairs through the shuffle.
 * Writes one map output with 8 reduce partitions, then reads every partition back (a) straight from disk
 * and (b) through a block server on loopback. Prints MB/s of shuffle bytes and M records/s.
 * Usage: node scripts/build.mjs && node build/bench/micro/shuffle.js [records=1000000] [mapSideCombine=0]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BlockFetcher } from '../../src/shuffle/block-fetcher.js';
import { startBlockServer } from '../../src/shuffle/block-server.js';
import { partitionFn } from '../../src/shuffle/partitioner.js';
import { readShuffle } from '../../src/shuffle/reader.js';
import { writeShuffleOutput } from '../../src/shuffle/writer.js';

const N = Number(process.argv[2] ?? 1_000_000);
const combine = process.argv[3] === '1';
const P = 8;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-bench-shuffle-'));

const input: unknown[][][] = [];
for (let i = 0; i < N; i += 4096) {
  const b: unknown[][] = [];
  for (let j = i; j < Math.min(N, i + 4096); j++) b.push([`word-${(j * 2654435761) % 100_000}`, j]);
  input.push(b);
}
async function* gen() {
  yield* input;
}
const sum = {
  createCombiner: (v: number) => v,
  mergeValue: (c: number, v: number) => c + v,
  mergeCombiners: (a: number, b: number) => a + b,
};

const server = await startBlockServer({ dir, host: '127.0.0.1', secretFor: () => 's' });
const fetcher = new BlockFetcher({ principal: 'bench', secret: 's' });
try {
  let t = performance.now();
  const info = await writeShuffleOutput({
    dir,
    shuffleId: 0,
    mapIndex: 0,
    numPartitions: P,
    partition: partitionFn({ kind: 'hash', numPartitions: P }),
    aggregator: combine ? sum : undefined,
    input: gen(),
    memoryLimitBytes: 256 << 20,
  });
  const writeMs = performance.now() - t;
  const bytes = info.sizes.reduce((a, b) => a + b, 0);
  const report = (what: string, ms: number, records: number) =>
    console.log(
      `${what.padEnd(22)} ${(ms / 1000).toFixed(3)} s  ${(bytes / 1e6 / (ms / 1000)).toFixed(1).padStart(7)} MB/s  ${(records / 1e6 / (ms / 1000)).toFixed(2)} Mrec/s`,
    );
  console.log(`${N} pairs -> ${(bytes / 1e6).toFixed(1)} MB in ${P} partitions (${info.records} records written)`);
  report('write', writeMs, N);
  for (const mode of ['read local disk', 'read via block server'] as const) {
    t = performance.now();
    let records = 0;
    for (let r = 0; r < P; r++) {
      for await (const b of readShuffle({
        shuffleId: 0,
        reduceId: r,
        locations: [{ mapIndex: 0, executorId: 'e1', host: '127.0.0.1', port: server.port }],
        fetcher,
        local: mode === 'read local disk' ? { executorId: 'e1', dir } : undefined,
        mapSideCombined: combine,
        memoryLimitBytes: 256 << 20,
        spillDir: dir,
      }))
        records += b.length;
    }
    const ms = performance.now() - t;
    report(mode, ms, records);
    report(`write + ${mode.slice(5)}`, writeMs + ms, N);
  }
} finally {
  fetcher.close();
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
