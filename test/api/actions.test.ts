// End-to-end tests of actions on local[2], with PySpark's documented examples as the expected outputs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CinderError, StatCounter } from '../../src/index.js';
import { sharedContext, sorted } from './ctx.js';

const ctx = sharedContext();
const add = (a: number, b: number) => a + b;

test('collect, count, first, take, isEmpty', async () => {
  const sc = ctx();
  assert.equal(await sc.parallelize([2, 3, 4]).count(), 3);
  assert.equal(await sc.parallelize([2, 3, 4]).first(), 2);
  await assert.rejects(sc.parallelize([]).first(), (e: Error) => e instanceof CinderError && /empty/.test(e.message));
  const cached = sc.parallelize([2, 3, 4, 5, 6]).cache();
  assert.deepEqual(await cached.take(2), [2, 3]);
  assert.deepEqual(await cached.take(10), [2, 3, 4, 5, 6]);
  assert.deepEqual(await cached.take(0), []);
  assert.deepEqual(
    await sc
      .range(100)
      .filter((x) => x > 90)
      .take(3),
    [91, 92, 93],
  );
  // take scans later partitions when the first ones are empty
  assert.deepEqual(
    await sc
      .range(0, 1000, 1, 8)
      .filter((x) => x > 990)
      .take(5),
    [991, 992, 993, 994, 995],
  );
  assert.equal(await sc.parallelize([]).isEmpty(), true);
  assert.equal(await sc.parallelize([1]).isEmpty(), false);
  assert.equal(await sc.emptyRDD().isEmpty(), true);
  assert.deepEqual(await sc.parallelize([1, 2, 3], 3).collect(), [1, 2, 3]);
});

test('takeOrdered, top, takeSample', async () => {
  const sc = ctx();
  assert.deepEqual(await sc.parallelize([10, 1, 2, 9, 3, 4, 5, 6, 7]).takeOrdered(6), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(
    await sc.parallelize([10, 1, 2, 9, 3, 4, 5, 6, 7], 2).takeOrdered(6, (x) => -x),
    [10, 9, 7, 6, 5, 4],
  );
  assert.deepEqual(await sc.parallelize([10, 4, 2, 12, 3]).top(1), [12]);
  assert.deepEqual(await sc.parallelize([2, 3, 4, 5, 6], 2).top(2), [6, 5]);
  assert.deepEqual(await sc.parallelize([10, 4, 2, 12, 3]).top(3, (x) => String(x)), [4, 3, 2]);
  const rdd = sc.range(0, 10);
  const s1 = await rdd.takeSample(true, 20, 1);
  assert.equal(s1.length, 20);
  assert.ok(s1.every((x) => x >= 0 && x < 10));
  const s2 = await rdd.takeSample(false, 5, 2);
  assert.equal(s2.length, 5);
  assert.equal(new Set(s2).size, 5);
  const s3 = await rdd.takeSample(false, 15, 3);
  assert.deepEqual(sorted(s3), [...Array(10).keys()]);
  assert.deepEqual(await rdd.takeSample(false, 5, 2), s2, 'same seed, same sample');
});

test('reduce, treeReduce, fold, aggregate, treeAggregate', async () => {
  const sc = ctx();
  assert.equal(await sc.parallelize([1, 2, 3, 4, 5]).reduce(add, { add }), 15);
  assert.equal(
    await sc
      .parallelize(Array(10).fill(2))
      .map(() => 1)
      .cache()
      .reduce((a, b) => a + b),
    10,
  );
  await assert.rejects(
    sc.parallelize<number>([]).reduce((a, b) => a + b),
    (e: Error) => e instanceof CinderError && /empty/.test(e.message),
  );
  const rdd = sc.parallelize([-5, -4, -3, -2, -1, 1, 2, 3, 4], 10);
  assert.equal(await rdd.treeReduce(add, 2, { add }), -5);
  for (const depth of [1, 2, 5, 10]) {
    assert.equal(await rdd.treeReduce((a, b) => a + b, depth), -5);
    assert.equal(await rdd.treeAggregate(0, (a, b) => a + b, add, depth), -5);
  }
  assert.equal(await sc.parallelize([1, 2, 3, 4, 5]).fold(0, (a, b) => a + b), 15);
  const seqOp = (x: [number, number], y: number): [number, number] => [x[0] + y, x[1] + 1];
  const combOp = (x: [number, number], y: [number, number]): [number, number] => [x[0] + y[0], x[1] + y[1]];
  assert.deepEqual(await sc.parallelize([1, 2, 3, 4]).aggregate([0, 0] as [number, number], seqOp, combOp), [10, 4]);
  assert.deepEqual(await sc.parallelize<number>([]).aggregate([0, 0] as [number, number], seqOp, combOp), [0, 0]);
});

test('collect, count, fold and aggregate over fused map/flatMap/filter chains spanning many batches', async () => {
  const sc = ctx();
  // the expected values from a plain loop over the same records
  const want: number[] = [];
  for (let x = 0; x < 20000; x++) for (const y of [x, -x]) if (y % 3 !== 0) want.push(y * 2);
  const sum = want.reduce((a, b) => a + b, 0);
  const chain = (cached: boolean) => {
    const src = sc.range(0, 20000, 1, 3);
    return (cached ? src.cache() : src)
      .flatMap((x) => [x, -x])
      .filter((y) => y % 3 !== 0)
      .map((y) => y * 2);
  };
  for (const cached of [false, true]) {
    const rdd = chain(cached);
    assert.equal(await rdd.count(), want.length);
    assert.deepEqual(await rdd.collect(), want);
    assert.equal(await rdd.fold(0, (a, b) => a + b), sum);
    const agg = await rdd.aggregate(
      [0, 0] as [number, number],
      (a, y) => [a[0] + y, a[1] + 1] as [number, number],
      (a, b) => [a[0] + b[0], a[1] + b[1]] as [number, number],
    );
    assert.deepEqual(agg, [sum, want.length]);
  }
  // a fold whose function throws fails the job with the function's error
  await assert.rejects(
    sc
      .range(0, 10000, 1, 2)
      .map((x) => x + 1)
      .fold(0, (a, b) => {
        if (b === 9000) throw new Error('boom at 9000');
        return a + b;
      }),
    /boom at 9000/,
  );
});

test('sum, mean, max, min, stats, variance, stdev', async () => {
  const sc = ctx();
  assert.equal(await sc.parallelize([1.0, 2.0, 3.0]).sum(), 6);
  assert.equal(await sc.parallelize<number>([]).sum(), 0);
  assert.equal(await sc.parallelize([1, 2, 3]).mean(), 2);
  const rdd = sc.parallelize([1.0, 5.0, 43.0, 10.0]);
  assert.equal(await rdd.max(), 43);
  assert.equal(await rdd.max((x) => String(x)), 5);
  assert.equal(await rdd.min(), 1);
  assert.equal(await rdd.min((x) => String(x)), 1);
  assert.ok(Math.abs((await sc.parallelize([1, 2, 3]).variance()) - 2 / 3) < 1e-12);
  assert.ok(Math.abs((await sc.parallelize([1, 2, 3]).stdev()) - Math.sqrt(2 / 3)) < 1e-12);
  assert.equal(await sc.parallelize([1, 2, 3]).sampleStdev(), 1);
  assert.equal(await sc.parallelize([1, 2, 3]).sampleVariance(), 1);
  const st = await sc.range(1, 101, 1, 3).stats();
  assert.ok(st instanceof StatCounter);
  assert.equal(st.count(), 100);
  assert.equal(st.mean(), 50.5);
  assert.equal(st.sum(), 5050);
  assert.equal(st.max(), 100);
  assert.equal(st.min(), 1);
  assert.ok(Math.abs(st.variance() - 833.25) < 1e-9);
});

test('histogram', async () => {
  const sc = ctx();
  const rdd = sc.range(51);
  assert.deepEqual(await rdd.histogram(2), [
    [0, 25, 50],
    [25, 26],
  ]);
  assert.deepEqual(await rdd.histogram([0, 5, 25, 50]), [
    [0, 5, 25, 50],
    [5, 20, 26],
  ]);
  assert.deepEqual(await rdd.histogram([0, 15, 30, 45, 60]), [
    [0, 15, 30, 45, 60],
    [15, 15, 15, 6],
  ]);
  const strs = sc.parallelize(['ab', 'ac', 'b', 'bd', 'ef']);
  assert.deepEqual(await strs.histogram(['a', 'b', 'c']), [
    ['a', 'b', 'c'],
    [2, 2],
  ]);
});

test('countByValue returns a Map', async () => {
  const sc = ctx();
  const m = await sc.parallelize([1, 2, 1, 2, 2], 2).countByValue();
  assert.ok(m instanceof Map);
  assert.deepEqual(sorted(m), [
    [1, 2],
    [2, 3],
  ]);
});

test('foreach, foreachPartition and accumulators', async () => {
  const sc = ctx();
  const acc = sc.accumulator(0);
  await sc.parallelize([1, 2, 3, 4, 5]).foreach((x) => acc.add(x), { acc });
  assert.equal(acc.value, 15);
  const parts = sc.accumulator(0);
  await sc.parallelize([1, 2, 3, 4, 5], 3).foreachPartition(
    (it) => {
      parts.add(1);
      for (const x of it) acc.add(x);
    },
    { parts, acc },
  );
  assert.equal(parts.value, 3);
  assert.equal(acc.value, 30);
  // accumulators updated in a transformation count once per successful task
  const seen = sc.accumulator(0);
  const mapped = sc.range(0, 100, 1, 4).map(
    (x) => {
      seen.add(1);
      return x;
    },
    { seen },
  );
  assert.equal(await mapped.count(), 100);
  assert.equal(seen.value, 100);
  acc.add(5);
  assert.equal(acc.value, 35);
});

test('toLocalIterator', async () => {
  const sc = ctx();
  const out: number[] = [];
  for await (const x of sc.range(0, 10, 1, 3).toLocalIterator()) out.push(x);
  assert.deepEqual(out, [...Array(10).keys()]);
});
