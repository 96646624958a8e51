// End-to-end tests of the per-element and structural transformations on local[2], with PySpark's
// documented examples as the expected outputs (sorted where PySpark's order is unspecified).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sharedContext, sorted } from './ctx.js';

const ctx = sharedContext();

test('map, flatMap, filter', async () => {
  const sc = ctx();
  assert.deepEqual(
    sorted(
      await sc
        .parallelize(['b', 'a', 'c'])
        .map((x) => [x, 1])
        .collect(),
    ),
    [
      ['a', 1],
      ['b', 1],
      ['c', 1],
    ],
  );
  const rdd = sc.parallelize([2, 3, 4]);
  const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
  assert.deepEqual(sorted(await rdd.flatMap((x) => range(1, x), { range }).collect()), [1, 1, 1, 2, 2, 3]);
  assert.deepEqual(
    sorted(
      await rdd
        .flatMap((x) => [
          [x, x],
          [x, x],
        ])
        .collect(),
    ),
    [
      [2, 2],
      [2, 2],
      [3, 3],
      [3, 3],
      [4, 4],
      [4, 4],
    ],
  );
  // a generator works as flatMap's iterable
  assert.deepEqual(
    await rdd
      .flatMap(function* (x) {
        yield x;
        yield -x;
      })
      .collect(),
    [2, -2, 3, -3, 4, -4],
  );
  assert.deepEqual(
    await sc
      .parallelize([1, 2, 3, 4, 5])
      .filter((x) => x % 2 === 0)
      .collect(),
    [2, 4],
  );
});

test('mapPartitions, mapPartitionsWithIndex, glom', async () => {
  const sc = ctx();
  const rdd = sc.parallelize([1, 2, 3, 4], 2);
  assert.deepEqual(
    await rdd
      .mapPartitions(function* (it) {
        let s = 0;
        for (const x of it) s += x;
        yield s;
      })
      .collect(),
    [3, 7],
  );
  assert.equal(
    await sc
      .parallelize([1, 2, 3, 4], 4)
      .mapPartitionsWithIndex(function* (i) {
        yield i;
      })
      .sum(),
    6,
  );
  assert.deepEqual(await rdd.glom().collect(), [
    [1, 2],
    [3, 4],
  ]);
  assert.deepEqual(await sc.parallelize([0, 2, 3, 4, 6], 5).glom().collect(), [[0], [2], [3], [4], [6]]);
  assert.deepEqual(await sc.range(0, 6, 2, 5).glom().collect(), [[], [0], [], [2], [4]]);
});

test('distinct, union, intersection, subtract, cartesian', async () => {
  const sc = ctx();
  assert.deepEqual(sorted(await sc.parallelize([1, 1, 2, 3]).distinct().collect()), [1, 2, 3]);
  // distinct compares arrays by value
  assert.deepEqual(
    sorted(
      await sc
        .parallelize([
          [1, 'a'],
          [1, 'a'],
          [2, 'b'],
        ])
        .distinct(3)
        .collect(),
    ),
    [
      [1, 'a'],
      [2, 'b'],
    ],
  );
  const rdd = sc.parallelize([1, 1, 2, 3]);
  assert.deepEqual(await rdd.union(rdd).collect(), [1, 1, 2, 3, 1, 1, 2, 3]);
  const a = sc.parallelize([1, 10, 2, 3, 4, 5]);
  const b = sc.parallelize([1, 6, 2, 3, 7, 8]);
  assert.deepEqual(sorted(await a.intersection(b).collect()), [1, 2, 3]);
  const x = sc.parallelize<[string, number | null]>([
    ['a', 1],
    ['b', 4],
    ['b', 5],
    ['a', 3],
  ]);
  const y = sc.parallelize<[string, number | null]>([
    ['a', 3],
    ['c', null],
  ]);
  assert.deepEqual(sorted(await x.subtract(y).collect()), [
    ['a', 1],
    ['b', 4],
    ['b', 5],
  ]);
  // duplicates in `this` that are not in `other` are kept
  assert.deepEqual(
    sorted(
      await sc
        .parallelize([1, 1, 2])
        .subtract(sc.parallelize([2]))
        .collect(),
    ),
    [1, 1],
  );
  const c = sc.parallelize([1, 2]);
  assert.deepEqual(sorted(await c.cartesian(c).collect()), [
    [1, 1],
    [1, 2],
    [2, 1],
    [2, 2],
  ]);
});

test('sample and randomSplit', async () => {
  const sc = ctx();
  const rdd = sc.range(100, undefined, 1, 4);
  const n = await rdd.sample(false, 0.1, 81).count();
  assert.ok(n >= 6 && n <= 14, `sample count ${n}`);
  // same seed, same sample
  assert.deepEqual(await rdd.sample(false, 0.3, 5).collect(), await rdd.sample(false, 0.3, 5).collect());
  const withRep = await rdd.sample(true, 2, 7).count();
  assert.ok(withRep > 140 && withRep < 260, `sample with replacement count ${withRep}`);
  const all = sc.range(500, undefined, 1, 1);
  const [r1, r2] = all.randomSplit([2, 3], 17);
  const c1 = await r1!.collect();
  const c2 = await r2!.collect();
  assert.equal(c1.length + c2.length, 500);
  assert.deepEqual(sorted([...c1, ...c2]), [...Array(500).keys()]);
  assert.ok(c1.length > 150 && c1.length < 250, `split 1 has ${c1.length}`);
  assert.ok(c2.length > 250 && c2.length < 350, `split 2 has ${c2.length}`);
});

test('sortBy and sortByKey (with numPartitions and keyfunc)', async () => {
  const sc = ctx();
  const tmp: [string, number][] = [
    ['a', 1],
    ['b', 2],
    ['1', 3],
    ['d', 4],
    ['2', 5],
  ];
  const byKey = [
    ['1', 3],
    ['2', 5],
    ['a', 1],
    ['b', 2],
    ['d', 4],
  ];
  assert.deepEqual(
    await sc
      .parallelize(tmp)
      .sortBy((x) => x[0])
      .collect(),
    byKey,
  );
  assert.deepEqual(
    await sc
      .parallelize(tmp)
      .sortBy((x) => x[1])
      .collect(),
    tmp,
  );
  assert.deepEqual(await sc.parallelize(tmp).sortByKey().first(), ['1', 3]);
  assert.deepEqual(await sc.parallelize(tmp).sortByKey(true, 1).collect(), byKey);
  assert.deepEqual(await sc.parallelize(tmp).sortByKey(true, 2).collect(), byKey);
  assert.deepEqual(await sc.parallelize(tmp).sortByKey(false, 3).collect(), [...byKey].reverse());
  const tmp2: [string, number][] = [
    ['Mary', 1],
    ['had', 2],
    ['a', 3],
    ['little', 4],
    ['lamb', 5],
    ['whose', 6],
    ['fleece', 7],
    ['was', 8],
    ['white', 9],
  ];
  assert.deepEqual(
    await sc
      .parallelize(tmp2)
      .sortByKey(true, 3, (k) => k.toLowerCase())
      .collect(),
    [
      ['a', 3],
      ['fleece', 7],
      ['had', 2],
      ['lamb', 5],
      ['little', 4],
      ['Mary', 1],
      ['was', 8],
      ['white', 9],
      ['whose', 6],
    ],
  );
  // a larger sort over several partitions is globally ordered, descending too
  const nums = Array.from({ length: 2000 }, (_, i) => (i * 7919) % 2003);
  assert.deepEqual(
    await sc
      .parallelize(nums, 4)
      .sortBy((x) => x, false, 3)
      .collect(),
    [...nums].sort((p, q) => q - p),
  );
});

test('groupBy, partitionBy, repartition, coalesce', async () => {
  const sc = ctx();
  const res = await sc
    .parallelize([1, 1, 2, 3, 5, 8])
    .groupBy((x) => x % 2)
    .collect();
  assert.deepEqual(sorted(res.map(([k, vs]) => [k, sorted(vs)])), [
    [0, [2, 8]],
    [1, [1, 1, 3, 5]],
  ]);
  const pairs = sc.parallelize([1, 2, 3, 4, 2, 4, 1]).map((x) => [x, x] as [number, number]);
  const sets = await pairs.partitionBy(2).glom().collect();
  assert.equal(sets.length, 2);
  const keys0 = new Set(sets[0]!.map((kv) => kv[0]));
  assert.ok(
    sets[1]!.every((kv) => !keys0.has(kv[0])),
    'a key appears in both partitions',
  );
  // custom partition function
  const byParity = await pairs
    .partitionBy(2, (k) => k % 2)
    .glom()
    .collect();
  assert.deepEqual(sorted(byParity[0]!.map((kv) => kv[0])), [2, 2, 4, 4]);
  assert.deepEqual(sorted(byParity[1]!.map((kv) => kv[0])), [1, 1, 3]);
  const rdd = sc.parallelize([1, 2, 3, 4, 5, 6, 7], 4);
  const r2 = await rdd.repartition(2).glom().collect();
  assert.equal(r2.length, 2);
  assert.deepEqual(sorted(r2.flat()), [1, 2, 3, 4, 5, 6, 7]);
  const r10 = rdd.repartition(10);
  assert.equal(r10.getNumPartitions(), 10);
  assert.equal((await r10.glom().collect()).length, 10);
  assert.deepEqual(sorted(await r10.collect()), [1, 2, 3, 4, 5, 6, 7]);
  const five = sc.parallelize([1, 2, 3, 4, 5], 3);
  assert.deepEqual(await five.glom().collect(), [[1], [2, 3], [4, 5]]);
  assert.deepEqual(await five.coalesce(1).glom().collect(), [[1, 2, 3, 4, 5]]);
  assert.equal(five.coalesce(10).getNumPartitions(), 3);
  assert.equal(five.coalesce(6, true).getNumPartitions(), 6);
});

test('zip, zipWithIndex, zipWithUniqueId, keyBy', async () => {
  const sc = ctx();
  const x = sc.range(0, 5);
  const y = sc.range(1000, 1005);
  assert.deepEqual(await x.zip(y).collect(), [
    [0, 1000],
    [1, 1001],
    [2, 1002],
    [3, 1003],
    [4, 1004],
  ]);
  assert.deepEqual(await sc.parallelize(['a', 'b', 'c', 'd'], 3).zipWithIndex().collect(), [
    ['a', 0],
    ['b', 1],
    ['c', 2],
    ['d', 3],
  ]);
  assert.deepEqual(await sc.parallelize(['a', 'b', 'c', 'd', 'e'], 3).zipWithUniqueId().collect(), [
    ['a', 0],
    ['b', 1],
    ['c', 4],
    ['d', 2],
    ['e', 5],
  ]);
  const kx = sc.range(0, 3).keyBy((v) => v * v);
  const ky = sc.range(0, 5).map((v) => [v, v] as [number, number]);
  assert.deepEqual(sorted(await kx.cogroup(ky).collect()), [
    [0, [[0], [0]]],
    [1, [[1], [1]]],
    [2, [[], [2]]],
    [3, [[], [3]]],
    [4, [[2], [4]]],
  ]);
});

test('pipe', async () => {
  const sc = ctx();
  assert.deepEqual(await sc.parallelize(['1', '2', '', '3']).pipe('cat').collect(), ['1', '2', '', '3']);
  assert.deepEqual(await sc.parallelize(['a', 'b'], 1).pipe('wc -l').collect(), ['2']);
  assert.deepEqual(await sc.parallelize(['x'], 1).pipe('sh -c "echo $GREETING"', { GREETING: 'hi' }).collect(), ['hi']);
});

test('transformations are lazy and synchronous', () => {
  const sc = ctx();
  const r = sc.parallelize([1, 2]).map((x): number => {
    throw new Error(`ran on ${x}`);
  });
  assert.ok(!(r instanceof Promise));
  assert.equal(r.getNumPartitions(), 2);
});
