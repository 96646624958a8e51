/**
 * reduceByKey's typed map-side table (src/shuffle/combine-table.ts) against a plain Map fold, and the
 * shuffle writer's use of it: records that do not fit (a non-string key, a non-number value, a reduce
 * result that is not a number) hand the table's content to the general map mid-task with the same
 * result; tiny memory limits drain it into spills.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Aggregator } from '../../src/shuffle/aggregator.js';
import { StringNumberCombineTable } from '../../src/shuffle/combine-table.js';
import { partitionFn } from '../../src/shuffle/partitioner.js';
import { writeShuffleOutput } from '../../src/shuffle/writer.js';
import { BatchFileReader } from '../../src/storage/batch-file.js';

function mapFold(records: [string, number][], f: (a: number, b: number) => number): Map<string, number> {
  const m = new Map<string, number>();
  for (const [k, v] of records) m.set(k, m.has(k) ? f(m.get(k)!, v) : v);
  return m;
}

function tableFold(records: [string, number][], f: (a: number, b: number) => unknown, rows?: number) {
  const t = new StringNumberCombineTable(f, rows);
  for (const [k, v] of records) assert.ok(t.merge(k, v));
  const out = new Map<string, number>();
  t.visit((k, v) => {
    assert.ok(!out.has(k), `key ${JSON.stringify(k)} drained once`);
    out.set(k, v);
  });
  assert.equal(t.size, out.size);
  return out;
}

const SPECIAL = ['', 'a', 'é', 'ü日本', '😀', '\ud800', '\udfff', 'x\u0000y', ' ', 'A'.repeat(300)];

test('folds like a Map: random keys, multibyte, emoji, lone surrogates, empty, growth from a tiny table', () => {
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const records: [string, number][] = [];
  for (let i = 0; i < 50_000; i++) {
    const k = rnd() < 0.1 ? SPECIAL[Math.floor(rnd() * SPECIAL.length)]! : `k${Math.floor(rnd() * rnd() * 20_000)}`;
    records.push([k, Math.floor(rnd() * 100) - 50]);
  }
  records.push(['neg0', -0], ['nan', Number.NaN], ['nan', 1]);
  const add = (a: number, b: number) => a + b;
  assert.deepEqual(tableFold(records, add, 2), mapFold(records, add));
  const max = (a: number, b: number) => Math.max(a, b);
  assert.deepEqual(tableFold(records, max), mapFold(records, max));
});

test('keys longer than the inline length field round-trip', () => {
  const long1 = 'é'.repeat(70_000); // > 0xffff units
  const long2 = `${'z'.repeat(5000)}!`; // > 4096 units
  const t = new StringNumberCombineTable((a, b) => a + b);
  for (const k of [long1, long2, long1, 'short', long2, long1]) t.merge(k, 1);
  const out = new Map<string, number>();
  t.visit((k, v) => out.set(k, v));
  assert.deepEqual(
    out,
    new Map([
      [long1, 3],
      [long2, 2],
      ['short', 1],
    ]),
  );
});

test('a reduce result that is not a number is refused and changes nothing; clear() empties', () => {
  const t = new StringNumberCombineTable((a, b) => (a + b > 10 ? `big:${a + b}` : a + b));
  assert.ok(t.merge('k', 6));
  assert.equal(t.merge('k', 6), false);
  const out: [string, number][] = [];
  t.visit((k, v) => out.push([k, v]));
  assert.deepEqual(out, [['k', 6]]);
  t.clear();
  assert.equal(t.size, 0);
  t.visit(() => assert.fail('empty after clear'));
  assert.ok(t.merge('k', 1));
  assert.equal(t.size, 1);
});

const reduceAgg = (f: (a: unknown, b: unknown) => unknown): Aggregator => ({
  createCombiner: (v) => v,
  mergeValue: f,
  mergeCombiners: f,
  reduce: f,
});

async function writeAndRead(records: unknown[][], agg: Aggregator, memoryLimitBytes = 64 << 20) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-combine-'));
  try {
    async function* input() {
      for (let i = 0; i < records.length; i += 1000) yield records.slice(i, i + 1000);
    }
    const info = await writeShuffleOutput({
      dir,
      shuffleId: 0,
      mapIndex: 0,
      numPartitions: 3,
      partition: partitionFn({ kind: 'hash', numPartitions: 3 }),
      aggregator: agg,
      input: input(),
      memoryLimitBytes,
      partialAggregate: { minRecords: 1e12, skipRatio: 2 }, // always combine
    });
    const data = fs.readdirSync(dir).find((f) => f.endsWith('.data'))!;
    const r = await BatchFileReader.open(path.join(dir, data));
    const out: unknown[][] = [];
    try {
      for (let b = await r.next(); b; b = await r.next()) out.push(...(b as unknown[][]));
    } finally {
      await r.close();
    }
    return { out, info };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Merges map output (a key may appear once per spill) with f. */
function merged(out: unknown[][], f: (a: unknown, b: unknown) => unknown): Map<unknown, unknown> {
  const m = new Map<unknown, unknown>();
  for (const [k, v] of out) m.set(k, m.has(k) ? f(m.get(k), v) : v);
  return m;
}

test('the writer: typed table, then records that do not fit move it to the general map mid-task', async () => {
  const add = (a: unknown, b: unknown) => (a as number) + (b as number);
  const words = Array.from({ length: 30_000 }, (_, i) => [`w${(i * 7) % 1000}`, 1]);
  const plain = await writeAndRead(words, reduceAgg(add));
  assert.equal(plain.out.length, 1000, 'one record per key');
  assert.deepEqual(merged(plain.out, add), merged(words, add));
  // a number key half-way, then a string value: same answer as folding everything in a Map
  const mixed = [...words.slice(0, 15_000), [42, 5], ...words.slice(15_000), ['w1', 'x'], [42, 1]];
  const concat = (a: unknown, b: unknown) =>
    typeof a === 'number' && typeof b === 'number' ? a + b : `${String(a)}+${String(b)}`;
  const m = await writeAndRead(mixed, reduceAgg(concat));
  assert.deepEqual(merged(m.out, concat), merged(mixed, concat));
  // a reduce that stops returning numbers part-way (and stays 'many' once it is)
  const capped = (a: unknown, b: unknown) =>
    typeof a !== 'number' || typeof b !== 'number' || a + b > 20 ? 'many' : a + b;
  const c = await writeAndRead(words, reduceAgg(capped));
  assert.deepEqual(merged(c.out, capped), merged(words, capped));
  assert.equal(merged(c.out, capped).get('w0'), 'many');
  // a tiny memory limit drains the table into spills: keys repeat across spills, sums are exact
  const big = Array.from({ length: 200_000 }, (_, i) => [`key-${(i * 7919) % 50_000}`, 2]);
  const s = await writeAndRead(big, reduceAgg(add), 256 * 1024);
  assert.ok(s.info.spilledBytes > 0, 'it spilled');
  assert.deepEqual(merged(s.out, add), merged(big, add));
});
