import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { CinderError } from '../../src/common/errors.js';
import { ReduceByKeyMap } from '../../src/shuffle/reduce-table.js';
import { encodeBatch, stringNumberColumns } from '../../src/storage/record-codec.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-rtab-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

type Rec = [unknown, unknown];
const sum = (a: unknown, b: unknown) => (a as number) + (b as number);

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Feeds batches as a reader would: column batches undecoded when the map wants them, others decoded. */
async function run(
  batches: Rec[][],
  reduce: (a: unknown, b: unknown) => unknown,
  memoryLimitBytes = 64 << 20,
): Promise<{ out: Map<unknown, unknown>; spilled: number; columnar: number }> {
  const m = new ReduceByKeyMap({ reduce, memoryLimitBytes, spillDir: root });
  let columnar = 0;
  for (const b of batches) {
    const body = encodeBatch(b);
    const cols = m.wantsColumns ? stringNumberColumns(body) : undefined;
    if (cols) {
      columnar++;
      await m.insertColumns(cols);
    } else await m.insertAll(b);
  }
  const out = new Map<unknown, unknown>();
  for await (const b of m.batches())
    for (const [k, v] of b as Rec[]) {
      assert.ok(!out.has(k), `key ${String(k)} came out twice`);
      out.set(k, v);
    }
  const spilled = m.spilledBytes;
  await m.cleanup();
  return { out, spilled, columnar };
}

function reference(batches: Rec[][], reduce: (a: unknown, b: unknown) => unknown): Map<unknown, unknown> {
  const m = new Map<unknown, unknown>();
  for (const b of batches) for (const [k, v] of b) m.set(k, m.has(k) ? reduce(m.get(k), v) : v);
  return m;
}

function assertSame(got: Map<unknown, unknown>, want: Map<unknown, unknown>): void {
  assert.equal(got.size, want.size);
  for (const [k, v] of want) assert.ok(Object.is(got.get(k), v), `key ${JSON.stringify(k)}: ${got.get(k)} != ${v}`);
}

const WORDS = ['', 'a', 'é', '한국어', '😀', 'a😀b', 'k0012345', 'x'.repeat(300), 'nul\u0000'];

function randomBatches(seed: number, count: number, keys: number): Rec[][] {
  const r = lcg(seed);
  const out: Rec[][] = [];
  for (let b = 0; b < count; b++) {
    const n = r() < 0.2 ? 1 + Math.floor(r() * 15) : 16 + Math.floor(r() * 3000); // small ones are msgpack
    const batch: Rec[] = [];
    const doubles = r() < 0.3;
    for (let i = 0; i < n; i++) {
      const j = Math.floor(r() * keys);
      const k = j < WORDS.length ? WORDS[j]! : `key${j}${j % 7 === 0 ? 'ß' : ''}`;
      batch.push([k, doubles ? (r() - 0.5) * 1e6 : Math.floor(r() * 1000) - 500]);
    }
    out.push(batch);
  }
  return out;
}

test('string keys with number values fold from column bytes exactly like a Map (ASCII, multi-byte, emoji, empty, long)', async () => {
  const batches = randomBatches(7, 60, 20_000);
  const { out, columnar, spilled } = await run(batches, sum);
  assert.ok(columnar > 30, 'most batches went the column way');
  assert.equal(spilled, 0);
  assertSame(out, reference(batches, sum));
  // -0 and NaN survive as values
  const special: Rec[][] = [Array.from({ length: 32 }, (_, i) => [`s${i % 4}`, i % 2 ? -0 : Number.NaN])];
  assertSame(
    (await run(special, (a, b) => (Object.is(a, -0) ? b : a))).out,
    reference(special, (a, b) => (Object.is(a, -0) ? b : a)),
  );
});

test('a record that does not fit (number key, string value, non-number result) moves the partition to the general map, same result', async () => {
  const base = randomBatches(11, 20, 3_000);
  const cases: [string, Rec[][], (a: unknown, b: unknown) => unknown][] = [
    ['number key', [...base.slice(0, 10), Array.from({ length: 40 }, (_, i) => [i, 1] as Rec), ...base.slice(10)], sum],
    [
      'string value',
      [...base.slice(0, 5), [['key1', 'x']], ...base.slice(5)],
      (a, b) => (typeof a === 'string' || typeof b === 'string' ? 'S' : sum(a, b)),
    ],
    [
      'non-number result',
      base,
      // absorbing, so the result does not depend on fold order
      (a, b) =>
        typeof a === 'string' || typeof b === 'string' || (a as number) + (b as number) > 2000 ? 'over' : sum(a, b),
    ],
  ];
  for (const [what, batches, reduce] of cases) {
    const { out, columnar } = await run(batches, reduce);
    assert.ok(columnar > 0, `${what}: started on the table`);
    assertSame(out, reference(batches, reduce));
  }
});

test('past half the memory budget the table drains into the general map, which spills; every key once, exact sums', async () => {
  const batches = randomBatches(23, 80, 200_000);
  const { out, spilled } = await run(batches, sum, 1 << 20);
  assert.ok(spilled > 0, 'spilled to disk');
  assertSame(out, reference(batches, sum));
  assert.deepEqual(
    fs.readdirSync(root).filter((f) => !f.startsWith('.')),
    [],
    'no spill file left',
  );
});

test('keys with lone surrogates stay distinct from U+FFFD (they go the general way)', async () => {
  const batches: Rec[][] = [
    [
      ['\uFFFD', 1],
      ['ok', 1],
    ],
    [
      ['\uD800', 2],
      ['\uFFFD', 3],
    ],
  ];
  assertSame((await run(batches, sum)).out, reference(batches, sum));
});

test('column lengths that do not match the key bytes are CORRUPT_BLOCK', async () => {
  const body = encodeBatch(Array.from({ length: 40 }, (_, i) => [`key${i}`, i]));
  const bad = Buffer.from(body);
  bad[8 + 4] = bad[8 + 4]! + 1; // first key one unit longer than its bytes allow in total
  const m = new ReduceByKeyMap({ reduce: sum, memoryLimitBytes: 1 << 20, spillDir: root });
  await assert.rejects(
    m.insertColumns(stringNumberColumns(bad)!),
    (e: unknown) => e instanceof CinderError && e.code === 'CORRUPT_BLOCK',
  );
  await m.cleanup();
});
