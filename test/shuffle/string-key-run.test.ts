import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { rng } from '../../src/common/random.js';
import { ExternalSorter } from '../../src/shuffle/external-sorter.js';
import { compareKeys } from '../../src/shuffle/partitioner.js';
import { StringKeyRun } from '../../src/shuffle/string-key-run.js';
import { encodeBatch, stringKeyColumns } from '../../src/storage/record-codec.js';

type Rec = [unknown, unknown];

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-skrun-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

function reference(records: Rec[], descending: boolean): Rec[] {
  return [...records].sort((a, b) => (descending ? compareKeys(b[0], a[0]) : compareKeys(a[0], b[0])));
}

function randomString(r: () => number, alphabet: string[], maxLen: number): string {
  const len = Math.floor(r() * (maxLen + 1));
  let s = '';
  for (let j = 0; j < len; j++) s += alphabet[Math.floor(r() * alphabet.length)]!;
  return s;
}

const ascii = [...'abcxyz019,'];
// \ufffe and \uffff share a prefix digit: their order is decided by the full comparison
const wide = ['a', 'é', 'ÿ', 'Ā', '한', '😀', '\u0000', '\ufffe', '\uffff', 'z'];

/** n records in batches of `size`: string keys, values of the given kind */
function batches(n: number, seed: number, alphabet: string[], kind: 'str' | 'int' | 'float', size: number): Rec[][] {
  const r = rng(seed);
  const out: Rec[][] = [];
  for (let i = 0; i < n; i += size) {
    const b: Rec[] = [];
    for (let j = i; j < Math.min(n, i + size); j++) {
      const k = randomString(r, alphabet, 12);
      b.push([k, kind === 'str' ? `${randomString(r, alphabet, 20)}#${j}` : kind === 'int' ? j : j + 0.5]);
    }
    out.push(b);
  }
  return out;
}

/** Feeds batches as column batches where the codec writes columns (>= 16 rows), else as records. */
function fill(run: StringKeyRun, bs: Rec[][]): void {
  for (const b of bs) {
    const c = stringKeyColumns(encodeBatch(b));
    if (c) run.addColumns(c);
    else assert.equal(run.addPairs(b), true);
  }
}

for (const descending of [false, true]) {
  const dir = descending ? 'descending' : 'ascending';
  for (const [alpha, name] of [
    [ascii, 'ASCII keys with duplicates and prefixes'],
    [wide, 'wide code units, surrogate pairs, NUL, \\ufffe/\\uffff'],
  ] as const) {
    for (const kind of ['str', 'int', 'float'] as const) {
      test(`string-key run ${dir}, ${name}, ${kind} values: same as a stable compareKeys sort`, () => {
        // batch sizes 1..40 mix record batches (< 16 rows go to msgpack) with column batches
        const bs: Rec[][] = [];
        const r = rng(5);
        for (const b of batches(6_000, 9, [...alpha], kind, 40)) {
          for (let i = 0; i < b.length; ) {
            const m = 1 + Math.floor(r() * 40);
            bs.push(b.slice(i, i + m));
            i += m;
          }
        }
        const run = new StringKeyRun();
        fill(run, bs);
        const all = bs.flat();
        assert.equal(run.n, all.length);
        assert.deepEqual(run.toPairs(), all, 'toPairs keeps insertion order');
        const got = [...run.sorted(descending, 500)];
        assert.ok(got.every((s) => s.length <= 500));
        assert.deepEqual(got.flat(), reference(all, descending));
      });
    }
  }
}

test('string-key run: equal keys keep input order in both directions; bytes grow with data', () => {
  const recs: Rec[] = Array.from({ length: 3_000 }, (_, i) => [`k${i % 3}`, i]);
  for (const descending of [false, true]) {
    const run = new StringKeyRun();
    const before = run.bytes;
    fill(run, [recs.slice(0, 1000), recs.slice(1000)]);
    assert.ok(run.bytes > before);
    const out = [...run.sorted(descending)].flat();
    for (let i = 1; i < out.length; i++)
      if (out[i]![0] === out[i - 1]![0])
        assert.ok((out[i]![1] as number) > (out[i - 1]![1] as number), `stable at ${i}`);
    run.clear();
    assert.equal(run.n, 0);
    assert.deepEqual([...run.sorted()].flat(), []);
  }
});

test('string-key run refuses a record batch with a non-string key and keeps what it had', () => {
  const run = new StringKeyRun();
  assert.equal(run.addPairs([['b', 1]]), true);
  assert.equal(
    run.addPairs([
      ['a', 2],
      [3, 3],
    ]),
    false,
  );
  assert.deepEqual(run.toPairs(), [['b', 1]]);
  assert.equal(stringKeyColumns(encodeBatch(Array.from({ length: 20 }, (_, i) => [i, 'v']))), undefined);
});

test('external sorter with natural order: column batches, spills, then a non-string key, exact and stable', async () => {
  for (const descending of [false, true]) {
    const dir = path.join(root, `mixed-${descending}`);
    const sorter = new ExternalSorter({
      compare: descending ? (a, b) => compareKeys(b, a) : compareKeys,
      natural: { ascending: !descending },
      memoryLimitBytes: 64 * 1024,
      spillDir: dir,
    });
    const all: Rec[] = [];
    for (const b of batches(20_000, 3, ascii, 'str', 500)) {
      all.push(...b);
      await sorter.insertColumns(stringKeyColumns(encodeBatch(b))!);
    }
    assert.ok(sorter.spillCount >= 3, `spilled ${sorter.spillCount} times`);
    const tail: Rec[] = [
      [7, 'number key'],
      ['abc', 'string again'],
    ];
    all.push(...tail);
    await sorter.insertAll(tail);
    const more = batches(1_000, 4, ascii, 'str', 100);
    for (const b of more) {
      all.push(...b);
      await sorter.insertColumns(stringKeyColumns(encodeBatch(b))!);
    }
    const out: Rec[] = [];
    for await (const b of sorter.batches()) out.push(...(b as Rec[]));
    assert.deepEqual(out, reference(all, descending));
    assert.deepEqual(fs.readdirSync(dir), [], 'spill files removed');
  }
});
