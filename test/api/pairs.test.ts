// End-to-end tests of key/value transformations and actions on local[2] ([K, V] arrays, grouped values
// as arrays, None as null), with PySpark's documented examples as the expected outputs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sharedContext, sorted } from './ctx.js';

const ctx = sharedContext();

const add = (a: number, b: number) => a + b;

test('groupByKey, reduceByKey, foldByKey, countByKey', async () => {
  const sc = ctx();
  const rdd = sc.parallelize<[string, number]>([
    ['a', 1],
    ['b', 1],
    ['a', 1],
  ]);
  assert.deepEqual(
    sorted(
      await rdd
        .groupByKey()
        .mapValues((vs) => vs.length)
        .collect(),
    ),
    [
      ['a', 2],
      ['b', 1],
    ],
  );
  assert.deepEqual(sorted(await rdd.groupByKey().collect()), [
    ['a', [1, 1]],
    ['b', [1]],
  ]);
  assert.deepEqual(sorted(await rdd.reduceByKey(add, { add }).collect()), [
    ['a', 2],
    ['b', 1],
  ]);
  assert.deepEqual(sorted(await rdd.reduceByKey((a, b) => a + b, 1).collect()), [
    ['a', 2],
    ['b', 1],
  ]);
  assert.equal(rdd.reduceByKey((a, b) => a + b, 3).getNumPartitions(), 3);
  assert.deepEqual(sorted(await rdd.foldByKey(0, (a, b) => a + b).collect()), [
    ['a', 2],
    ['b', 1],
  ]);
  const counts = await rdd.countByKey();
  assert.ok(counts instanceof Map);
  assert.deepEqual(sorted(counts), [
    ['a', 2],
    ['b', 1],
  ]);
  // keys that are arrays group by value
  const arrKeys = await sc
    .parallelize([
      [[1, 2], 'x'],
      [[1, 2], 'y'],
      [[3], 'z'],
    ] as [number[], string][])
    .groupByKey()
    .collect();
  assert.deepEqual(sorted(arrKeys.map(([k, v]) => [k, sorted(v)])), [
    [
      [1, 2],
      ['x', 'y'],
    ],
    [[3], ['z']],
  ]);
});

test('aggregateByKey and combineByKey', async () => {
  const sc = ctx();
  const rdd = sc.parallelize<[string, number]>([
    ['a', 1],
    ['b', 1],
    ['a', 2],
  ]);
  const seqFunc = (x: [number, number], y: number): [number, number] => [x[0] + y, x[1] + 1];
  const combFunc = (x: [number, number], y: [number, number]): [number, number] => [x[0] + y[0], x[1] + y[1]];
  assert.deepEqual(sorted(await rdd.aggregateByKey([0, 0] as [number, number], seqFunc, combFunc).collect()), [
    ['a', [3, 2]],
    ['b', [1, 1]],
  ]);
  // the zero value is copied per key: a mutable zero must not leak between keys
  const lists = await sc
    .parallelize<[string, number]>(
      [
        ['a', 1],
        ['b', 2],
        ['a', 3],
        ['b', 4],
        ['c', 5],
      ],
      1,
    )
    .aggregateByKey(
      [] as number[],
      (acc, v) => {
        acc.push(v);
        return acc;
      },
      (p, q) => p.concat(q),
    )
    .collect();
  assert.deepEqual(sorted(lists.map(([k, v]) => [k, sorted(v)])), [
    ['a', [1, 3]],
    ['b', [2, 4]],
    ['c', [5]],
  ]);
  const toList = (a: number) => [a];
  const append = (a: number[], b: number) => {
    a.push(b);
    return a;
  };
  const extend = (a: number[], b: number[]) => {
    a.push(...b);
    return a;
  };
  const combined = await rdd.combineByKey(toList, append, extend).collect();
  assert.deepEqual(sorted(combined.map(([k, v]) => [k, sorted(v)])), [
    ['a', [1, 2]],
    ['b', [1]],
  ]);
});

test('mapValues, flatMapValues, keys, values, collectAsMap, lookup', async () => {
  const sc = ctx();
  const x = sc.parallelize<[string, string[]]>([
    ['a', ['apple', 'banana', 'lemon']],
    ['b', ['grapes']],
  ]);
  assert.deepEqual(await x.mapValues((v) => v.length).collect(), [
    ['a', 3],
    ['b', 1],
  ]);
  const y = sc.parallelize<[string, string[]]>([
    ['a', ['x', 'y', 'z']],
    ['b', ['p', 'r']],
  ]);
  assert.deepEqual(await y.flatMapValues((v) => v).collect(), [
    ['a', 'x'],
    ['a', 'y'],
    ['a', 'z'],
    ['b', 'p'],
    ['b', 'r'],
  ]);
  const m = sc.parallelize<[number, number]>([
    [1, 2],
    [3, 4],
  ]);
  assert.deepEqual(await m.keys().collect(), [1, 3]);
  assert.deepEqual(await m.values().collect(), [2, 4]);
  const map = await m.collectAsMap();
  assert.ok(map instanceof Map);
  assert.equal(map.get(1), 2);
  assert.equal(map.get(3), 4);
  const l = [...Array(1000).keys()];
  const rdd = sc.parallelize(
    l.map((i) => [i, i] as [number, number]),
    10,
  );
  assert.deepEqual(await rdd.lookup(42), [42]);
  const s = rdd.sortByKey();
  assert.deepEqual(await s.lookup(42), [42]);
  assert.deepEqual(await s.lookup(1024), []);
  const rdd2 = sc.parallelize<[[string, string], string]>([[['a', 'b'], 'c']]).groupByKey();
  assert.deepEqual((await rdd2.lookup(['a', 'b']))[0], ['c']);
  // lookup on a hash-partitioned RDD reads only the key's partition
  const h = rdd.partitionBy(4);
  assert.deepEqual(await h.lookup(7), [7]);
  assert.deepEqual(
    await sc
      .parallelize<[string, number]>([['k', 1]])
      .reduceByKey(add, { add })
      .lookup('k'),
    [1],
  );
});

test('join, leftOuterJoin, rightOuterJoin, fullOuterJoin', async () => {
  const sc = ctx();
  const x = sc.parallelize<[string, number]>([
    ['a', 1],
    ['b', 4],
  ]);
  const y = sc.parallelize<[string, number]>([
    ['a', 2],
    ['a', 3],
  ]);
  assert.deepEqual(sorted(await x.join(y).collect()), [
    ['a', [1, 2]],
    ['a', [1, 3]],
  ]);
  assert.equal(x.join(y, 5).getNumPartitions(), 5);
  const y1 = sc.parallelize<[string, number]>([['a', 2]]);
  assert.deepEqual(sorted(await x.leftOuterJoin(y1).collect()), [
    ['a', [1, 2]],
    ['b', [4, null]],
  ]);
  assert.deepEqual(sorted(await y1.rightOuterJoin(x).collect()), [
    ['a', [2, 1]],
    ['b', [null, 4]],
  ]);
  const y2 = sc.parallelize<[string, number]>([
    ['a', 2],
    ['c', 8],
  ]);
  assert.deepEqual(sorted(await x.fullOuterJoin(y2).collect()), [
    ['a', [1, 2]],
    ['b', [4, null]],
    ['c', [null, 8]],
  ]);
});

test('cogroup, groupWith, subtractByKey', async () => {
  const sc = ctx();
  const x = sc.parallelize<[string, number]>([
    ['a', 1],
    ['b', 4],
  ]);
  const y = sc.parallelize<[string, number]>([['a', 2]]);
  assert.deepEqual(sorted(await x.cogroup(y).collect()), [
    ['a', [[1], [2]]],
    ['b', [[4], []]],
  ]);
  const w = sc.parallelize<[string, number]>([
    ['a', 5],
    ['b', 6],
  ]);
  const z = sc.parallelize<[string, number]>([['b', 42]]);
  assert.deepEqual(sorted(await w.groupWith(x, y, z).collect()), [
    ['a', [[5], [1], [2], []]],
    ['b', [[6], [4], [], [42]]],
  ]);
  const s1 = sc.parallelize<[string, number | null]>([
    ['a', 1],
    ['b', 4],
    ['b', 5],
    ['a', 2],
  ]);
  const s2 = sc.parallelize<[string, number | null]>([
    ['a', 3],
    ['c', null],
  ]);
  assert.deepEqual(sorted(await s1.subtractByKey(s2).collect()), [
    ['b', 4],
    ['b', 5],
  ]);
});

test('a shuffle over many keys and partitions is exact', async () => {
  const sc = ctx();
  const n = 20_000;
  const counts = await sc
    .range(n, undefined, 1, 4)
    .map((i) => [i % 997, 1] as [number, number])
    .reduceByKey((a, b) => a + b, 3)
    .collectAsMap();
  assert.equal(counts.size, 997);
  let total = 0;
  for (const [k, c] of counts) {
    total += c;
    assert.equal(c, Math.floor(n / 997) + (k < n % 997 ? 1 : 0));
  }
  assert.equal(total, n);
  const joined = await sc
    .range(1000)
    .map((i) => [i, i] as [number, number])
    .join(sc.range(0, 1000, 2).map((i) => [i, -i] as [number, number]))
    .count();
  assert.equal(joined, 500);
});
