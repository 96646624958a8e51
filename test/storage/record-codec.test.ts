import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CinderError } from '../../src/common/errors.js';
import { decode, encode } from '../../src/common/serde.js';
import { decodeBatch, encodeBatch, stringKeyColumns, stringNumberColumns } from '../../src/storage/record-codec.js';

const COLUMNAR = 0xc1;

function roundTrip(records: unknown[], columnar: boolean): void {
  const body = encodeBatch(records);
  assert.equal(body[0] === COLUMNAR, columnar, `columnar expected: ${columnar}`);
  const back = decodeBatch(body);
  assert.equal(back.length, records.length);
  for (let i = 0; i < records.length; i++) {
    const a = records[i] as unknown[];
    const b = back[i] as unknown[];
    if (Array.isArray(a)) {
      assert.equal(b.length, a.length);
      for (let j = 0; j < a.length; j++)
        if (typeof a[j] === 'object') assert.deepEqual(b[j], a[j]);
        else assert.ok(Object.is(a[j], b[j]), `record ${i}[${j}]: ${String(a[j])} != ${String(b[j])}`);
    } else assert.deepEqual(b, a);
  }
}

const many = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

test('string/int pairs (wordcount, parsed rows) are columnar and exact', () => {
  roundTrip(
    many(5000, (i) => [`w${i % 300}`, i % 7]),
    true,
  );
  roundTrip(
    many(100, (i) => [`k${i}`, -(2 ** 31) + i]),
    true,
  );
});

test('doubles keep -0, NaN, infinities and fractions exactly', () => {
  const special = [-0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.1, 2 ** 53, -1e-300];
  roundTrip(
    many(70, (i) => [`k${i}`, special[i % special.length]]),
    true,
  );
  roundTrip(
    many(70, (i) => [special[i % special.length], `v${i}`]),
    true,
  );
});

test('string/string pairs with multi-byte text (accents, CJK, emoji, empty strings) are columnar and exact', () => {
  const words = ['', 'é', '한국어', '😀 smile', 'a\u0000b', 'plain'];
  roundTrip(
    many(200, (i) => [words[i % words.length], `${words[(i + 1) % words.length]}#${i}`]),
    true,
  );
});

test('string columns: lengths take one byte below 256 UTF-16 units and four from 256 on, both exact', () => {
  const short = many(64, (i) => [`k${i}`.padEnd(255 - (i % 3), 'é'), i]);
  const long = many(64, (i) => [i % 2 ? 'x'.repeat(256 + i) : `short${i}`, i]);
  const sb = encodeBatch(short);
  const lb = encodeBatch(long);
  assert.equal(sb[2], 0x73, "all keys < 256 units: kind 's'");
  assert.equal(lb[2], 0x53, "one key >= 256 units: kind 'S'");
  roundTrip(short, true);
  roundTrip(long, true);
  // a cut in either kind's length table or blob is CORRUPT_BLOCK
  for (const body of [sb, lb])
    for (const cut of [9, 8 + 4 + 10, body.length - 300])
      assert.throws(
        () => decodeBatch(body.subarray(0, cut)),
        (e: unknown) => e instanceof CinderError && e.code === 'CORRUPT_BLOCK',
      );
});

test('a batch with a lone surrogate is left to msgpack (same result as before the column format)', () => {
  const records = many(50, (i) => [i === 17 ? 'bad\ud800' : `k${i}`, 1]);
  const body = encodeBatch(records);
  assert.notEqual(body[0], COLUMNAR);
  assert.deepEqual(decodeBatch(body), decode(encode(records)));
});

test('other shapes use msgpack: mixed key types, objects, triples, small batches', () => {
  roundTrip(
    many(50, (i) => [i % 2 ? 'k' : 3, 1]),
    false,
  );
  roundTrip(
    many(50, (i) => [`k${i}`, { n: i }]),
    false,
  );
  roundTrip(
    many(50, (i) => [`k${i}`, 1, 2]),
    false,
  );
  roundTrip(
    many(50, (i) => `line ${i}`),
    false,
  );
  roundTrip([['a', 1]], false);
  roundTrip([], false);
});

test('a damaged columnar batch is a clear CORRUPT_BLOCK error, never wrong data', () => {
  const body = encodeBatch(many(100, (i) => [`k${i}`, `v${i}`]));
  for (const cut of [3, 12, body.length - 1]) {
    assert.throws(
      () => decodeBatch(body.subarray(0, cut)),
      (e: unknown) => e instanceof CinderError && e.code === 'CORRUPT_BLOCK',
    );
  }
  const badVersion = Buffer.from(body);
  badVersion[1] = 9;
  assert.throws(() => decodeBatch(badVersion), /version 9/);
  const badKind = Buffer.from(body);
  badKind[3] = 0x51;
  assert.throws(() => decodeBatch(badKind), /unknown column kind/);
});

test('the column readers (no record decoding) reject a damaged batch as decodeBatch does', () => {
  const corrupt = (e: unknown) => e instanceof CinderError && e.code === 'CORRUPT_BLOCK';
  const num = encodeBatch(many(100, (i) => [`k${i}`, i * 3]));
  const txt = encodeBatch(many(100, (i) => [`k${i}`, `v${i}`]));
  // whole batches read back the same values decodeBatch gives
  const n = stringNumberColumns(num)!;
  assert.equal(n.n, 100);
  assert.deepEqual(
    Array.from(n.values),
    many(100, (i) => i * 3),
  );
  const k = stringKeyColumns(txt)!;
  assert.equal(k.keys.text, many(100, (i) => `k${i}`).join(''));
  assert.equal(stringNumberColumns(txt), undefined, 'string values are not a number column');
  for (const [read, body] of [
    [stringNumberColumns, num],
    [stringKeyColumns, num],
    [stringKeyColumns, txt],
  ] as const) {
    for (const cut of [12, body.length - 1]) assert.throws(() => read(body.subarray(0, cut)), corrupt);
    assert.throws(() => read(Buffer.concat([body, Buffer.from([0])])), /trailing bytes/);
    const badVersion = Buffer.from(body);
    badVersion[1] = 9;
    assert.throws(() => read(badVersion), /version 9/);
  }
});
