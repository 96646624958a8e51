import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rng } from '../../src/common/random.js';
import { compareKeys } from '../../src/shuffle/partitioner.js';
import { sortByStringKey } from '../../src/shuffle/string-sort.js';

type Rec = [string, number];

/** Reference: Array.prototype.sort (stable) with compareKeys. */
function reference(records: Rec[], descending: boolean): Rec[] {
  return [...records].sort((a, b) => (descending ? compareKeys(b[0], a[0]) : compareKeys(a[0], b[0])));
}

function randomKeys(n: number, seed: number, alphabet: string[], maxLen: number): Rec[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const len = Math.floor(r() * (maxLen + 1));
    let s = '';
    for (let j = 0; j < len; j++) s += alphabet[Math.floor(r() * alphabet.length)]!;
    return [s, i] as Rec;
  });
}

const ascii = [...'abcxyz019,'];
const wide = ['a', 'b', 'é', 'ÿ', 'Ā', '한', '😀', '\u0000', '\ufffe', '\uffff', 'z'];

for (const descending of [false, true]) {
  const dir = descending ? 'descending' : 'ascending';
  test(`${dir}: same order as a stable compareKeys sort (ASCII keys with many duplicates and prefixes)`, () => {
    const recs = randomKeys(20_000, 7, ascii, 4);
    assert.deepEqual(sortByStringKey(recs, descending), reference(recs, descending));
  });
  test(`${dir}: code units at and above 255, surrogate pairs, NUL, empty keys`, () => {
    const recs = randomKeys(5_000, 11, wide, 6);
    assert.deepEqual(sortByStringKey(recs, descending), reference(recs, descending));
  });
  test(`${dir}: equal keys keep their input order`, () => {
    const recs: Rec[] = Array.from({ length: 3_000 }, (_, i) => [`k${i % 3}`, i]);
    const out = sortByStringKey(recs, descending)!;
    for (let i = 1; i < out.length; i++)
      if (out[i]![0] === out[i - 1]![0]) assert.ok(out[i]![1] > out[i - 1]![1], `stable at ${i}`);
  });
}

test('terasort-like fixed-width keys and tiny inputs', () => {
  const recs = randomKeys(50_000, 3, [...'0123456789abcdefghijklmnopqrstuvwxyz'], 10).map(
    ([k, i]) => [k.padEnd(10, '0'), i] as Rec,
  );
  assert.deepEqual(sortByStringKey(recs), reference(recs, false));
  assert.deepEqual(sortByStringKey([]), []);
  assert.deepEqual(
    sortByStringKey([
      ['b', 1],
      ['a', 2],
    ] as Rec[]),
    [
      ['a', 2],
      ['b', 1],
    ],
  );
});

test('any non-string key: undefined, records untouched', () => {
  const recs: [unknown, number][] = [
    ['a', 1],
    [2, 2],
    ['c', 3],
  ];
  const copy = recs.map((r) => [...r]);
  assert.equal(sortByStringKey(recs as [unknown, unknown][]), undefined);
  assert.deepEqual(recs, copy);
});
