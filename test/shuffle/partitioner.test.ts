import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decode, encode } from '../../src/common/serde.js';
import { AppendOnlyKeyMap, keysEqual } from '../../src/shuffle/key-map.js';
import { compareKeys, partitionFn, portableHash, rangeBounds } from '../../src/shuffle/partitioner.js';

const sampleKeys: unknown[] = [
  'a',
  '',
  'héllo wörld',
  '日本語',
  0,
  1,
  -1,
  2 ** 31,
  -(2 ** 40),
  1.5,
  -2.25,
  Number.MAX_VALUE,
  Number.POSITIVE_INFINITY,
  true,
  false,
  null,
  123456789012345678901234567890n,
  ['a', 1],
  ['a', [1, 2]],
  { b: 2, a: 1 },
  Buffer.from([1, 2, 3]),
  new Date(1700000000000),
];

test('portableHash: equal keys hash equally, independent of representation details', () => {
  assert.equal(portableHash(-0), portableHash(0));
  assert.equal(portableHash(Number.NaN), portableHash(0 / 0));
  assert.equal(portableHash({ a: 1, b: [2, 'x'] }), portableHash({ b: [2, 'x'], a: 1 }));
  assert.equal(portableHash(['k', 1]), portableHash(['k', 1]));
  assert.equal(portableHash(5n), portableHash(5));
  assert.equal(portableHash(Buffer.from('xy')), portableHash(new Uint8Array([120, 121])));
  assert.notEqual(portableHash('1'), portableHash(1));
  assert.notEqual(portableHash(['a', 'b']), portableHash(['b', 'a']));
  for (const k of sampleKeys) {
    const h = portableHash(k);
    assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32, `hash of ${String(k)} is a u32`);
    // keys survive the codec with the same hash (what a reducer sees)
    assert.equal(portableHash(decode(encode(k))), h, `hash of ${String(k)} survives encode/decode`);
  }
  assert.throws(() => portableHash(() => 1), /cannot hash/);
});

test('portableHash is identical in another process', () => {
  const mod = fileURLToPath(new URL('../../src/shuffle/partitioner.js', import.meta.url));
  const keys = ['a', 'héllo wörld', 0, -1, 1.5, 2 ** 40, true, null, ['a', 1], { b: 2, a: 1 }];
  const script = `import { portableHash } from ${JSON.stringify(mod)};
    const keys = ${JSON.stringify(keys)};
    process.stdout.write(JSON.stringify(keys.map(portableHash)));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.deepEqual(JSON.parse(out), keys.map(portableHash));
});

test('hash partitioner spreads keys evenly', () => {
  const n = 16;
  const p = partitionFn({ kind: 'hash', numPartitions: n });
  const counts = new Array(n).fill(0);
  const total = 160_000;
  for (let i = 0; i < total; i++) counts[p(`word${i}`)]++;
  for (let i = 0; i < total; i++) counts[p(i)]++;
  const expected = (2 * total) / n;
  for (const c of counts) assert.ok(Math.abs(c - expected) < expected * 0.05, `bucket ${c} vs ${expected}`);
  assert.equal(partitionFn({ kind: 'hash', numPartitions: 1 })('x'), 0);
  assert.throws(() => partitionFn({ kind: 'hash', numPartitions: 0 }), /positive integer/);
});

test('compareKeys is a total order across types', () => {
  const ordered: unknown[] = [
    undefined,
    null,
    false,
    true,
    Number.NEGATIVE_INFINITY,
    -3,
    0,
    1,
    1n,
    1.5,
    2n,
    Number.POSITIVE_INFINITY,
    Number.NaN,
    '',
    'A',
    'a',
    'ab',
    'b',
    [],
    ['a'],
    ['a', 1],
    ['a', 2],
    ['b'],
    Buffer.from([1]),
    Buffer.from([1, 0]),
    Buffer.from([2]),
    new Date(0),
    new Date(1),
    { a: 1 },
    { a: 2 },
    { a: 2, b: 0 },
    { b: 0 },
  ];
  for (let i = 0; i < ordered.length; i++) {
    for (let j = 0; j < ordered.length; j++) {
      const c = Math.sign(compareKeys(ordered[i], ordered[j]));
      assert.equal(c, Math.sign(i - j), `compare(${String(ordered[i])}, ${String(ordered[j])})`);
    }
  }
  assert.equal(compareKeys(-0, 0), 0);
  assert.equal(compareKeys({ a: 1, b: 2 }, { b: 2, a: 1 }), 0);
  // sorting a shuffled copy reproduces the order
  // (wrapped: Array.prototype.sort never passes undefined to a comparator)
  const shuffled = [...ordered].reverse().map((k) => [k]);
  shuffled.sort((a, b) => compareKeys(a[0], b[0]));
  assert.deepEqual(
    shuffled.map((w) => String(w[0])),
    ordered.map(String),
  );
  assert.deepEqual(rangeBounds([3, undefined, 1, 2], 2), [2], 'undefined keys sort first in rangeBounds');
});

test('rangeBounds and the range partitioner keep keys in order', () => {
  const sample = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000);
  const bounds = rangeBounds(sample, 4);
  assert.equal(bounds.length, 3);
  for (let i = 1; i < bounds.length; i++) assert.ok(compareKeys(bounds[i - 1], bounds[i]) < 0);
  const asc = partitionFn({ kind: 'range', numPartitions: 4, bounds, ascending: true });
  const desc = partitionFn({ kind: 'range', numPartitions: 4, bounds, ascending: false });
  const counts = [0, 0, 0, 0];
  let prev = 0;
  for (let k = 0; k < 1000; k++) {
    const p = asc(k);
    assert.ok(p >= prev, 'ascending partitions never go back');
    prev = p;
    counts[p]!++;
    assert.equal(desc(k), 3 - p);
  }
  for (const c of counts) assert.ok(c >= 240 && c <= 260, `range partition has ${c} keys`);
  assert.deepEqual(rangeBounds(['x', 'x', 'x'], 4), ['x'], 'duplicate bounds collapse');
  assert.deepEqual(rangeBounds([], 4), []);
  const byLen = rangeBounds(['aaa', 'b', 'cc', 'dddd'], 2, (a, b) => (a as string).length - (b as string).length);
  assert.deepEqual(byLen, ['aaa']);
});

test('key equality: tuples and objects by content, primitives by value', () => {
  const m = new AppendOnlyKeyMap<number>();
  m.add(['a', 1], 1);
  m.add('a', 2);
  m.add({ x: 1, y: [2] }, 3);
  assert.equal(m.find(['a', 1]), 0);
  assert.equal(m.find('a'), 1);
  assert.equal(m.find({ y: [2], x: 1 }), 2);
  assert.equal(m.find(['a', '1']), -1);
  assert.equal(m.find(-0), -1);
  assert.ok(keysEqual(Number.NaN, Number.NaN));
  assert.ok(keysEqual([1, 'x'], [1, 'x']));
  assert.ok(!keysEqual([1], ['1']));
  assert.ok(!keysEqual('1', 1));
});
