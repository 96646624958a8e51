// The PySpark core methods added for issue 19 (4), with PySpark's documented examples as expected
// outputs where it has them, and its errors where it raises.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CinderError } from '../../src/index.js';
import { sharedContext, sorted, tempDir } from './ctx.js';

const ctx = sharedContext();

test('countApprox, sumApprox, meanApprox (PySpark: within 5% of the exact value; Cinder: exact)', async () => {
  const sc = ctx();
  const rdd = sc.parallelize([...Array(1000).keys()], 10);
  assert.equal(await rdd.countApprox(1000, 1.0), 1000);
  const r = [...Array(1000).keys()].reduce((a, b) => a + b, 0);
  assert.ok(Math.abs((await rdd.sumApprox(1000)) - r) / r < 0.05);
  const m = r / 1000;
  assert.ok(Math.abs((await rdd.meanApprox(1000)) - m) / m < 0.05);
});

test('countApproxDistinct (PySpark doctests) and its relativeSD check', async () => {
  const sc = ctx();
  const n = await sc
    .parallelize([...Array(1000).keys()])
    .map((x) => String(x))
    .countApproxDistinct();
  assert.ok(n > 900 && n < 1100, `${n}`);
  const m = await sc.parallelize([...Array(1000).keys()].map((i) => i % 20)).countApproxDistinct();
  assert.ok(m > 16 && m < 24, `${m}`);
  const big = await sc.range(0, 100_000, 1, 4).countApproxDistinct(0.01);
  assert.ok(Math.abs(big - 100_000) / 100_000 < 0.05, `${big}`);
  await assert.rejects(sc.parallelize([1]).countApproxDistinct(0.00001), /relativeSD should be greater than 0.000017/);
});

test('sampleByKey keeps about each key fraction (PySpark doctest) and needs a fraction for every key', async () => {
  const sc = ctx();
  const fractions = { a: 0.2, b: 0.1 };
  const data = [...'ab'].flatMap((k) => [...Array(1000).keys()].map((i) => [k, i] as [string, number]));
  const sample = await sc.parallelize(data, 2).sampleByKey(false, fractions, 2).groupByKey().collectAsMap();
  const a = sample.get('a')!;
  const b = sample.get('b')!;
  assert.ok(a.length > 100 && a.length < 300, `a: ${a.length}`);
  assert.ok(b.length > 50 && b.length < 150, `b: ${b.length}`);
  assert.ok(Math.max(...a) <= 999 && Math.min(...a) >= 0);
  // the same seed gives the same sample
  const again = await sc.parallelize(data, 2).sampleByKey(false, fractions, 2).count();
  assert.equal(again, a.length + b.length);
  await assert.rejects(
    sc
      .parallelize([['c', 1]] as [string, number][])
      .sampleByKey(false, fractions)
      .collect(),
    /no fraction given for key c/,
  );
});

test('repartitionAndSortWithinPartitions (PySpark doctest)', async () => {
  const sc = ctx();
  const rdd = sc.parallelize([
    [0, 5],
    [3, 8],
    [2, 6],
    [0, 8],
    [3, 8],
    [1, 3],
  ] as [number, number][]);
  const out = await rdd
    .repartitionAndSortWithinPartitions(2, (x) => x % 2, true)
    .glom()
    .collect();
  assert.deepEqual(out, [
    [
      [0, 5],
      [0, 8],
      [2, 6],
    ],
    [
      [1, 3],
      [3, 8],
      [3, 8],
    ],
  ]);
  const desc = await rdd
    .repartitionAndSortWithinPartitions(2, (x) => x % 2, false)
    .glom()
    .collect();
  assert.deepEqual(
    desc.map((p) => p.map((kv) => kv[0])),
    [
      [2, 0, 0],
      [3, 3, 1],
    ],
  );
});

test('reduceByKeyLocally (PySpark doctest)', async () => {
  const sc = ctx();
  const rdd = sc.parallelize([
    ['a', 1],
    ['b', 1],
    ['a', 1],
  ] as [string, number][]);
  const m = await rdd.reduceByKeyLocally((a, b) => a + b);
  assert.deepEqual(sorted(m), [
    ['a', 2],
    ['b', 1],
  ]);
});

test('mapPartitionsWithSplit (PySpark doctest)', async () => {
  const sc = ctx();
  const out = await sc
    .parallelize([1, 2, 3, 4], 4)
    .mapPartitionsWithSplit(function* (split, it) {
      for (const _ of it) yield split;
    })
    .sum();
  assert.equal(out, 6);
});

test('localCheckpoint / isLocallyCheckpointed, name / setName', async () => {
  const sc = ctx();
  const rdd = sc.parallelize([1, 2, 3], 2).map((x) => x * 2);
  assert.equal(rdd.isLocallyCheckpointed(), false);
  rdd.localCheckpoint();
  assert.equal(rdd.isLocallyCheckpointed(), true);
  assert.equal(rdd.getStorageLevel(), 'MEMORY_AND_DISK');
  assert.deepEqual(await rdd.collect(), [2, 4, 6]);
  const rdd1 = sc.parallelize([1, 2]);
  assert.equal(rdd1.name(), undefined);
  assert.equal(rdd1.setName('RDD1').name(), 'RDD1');
  assert.match(rdd1.toDebugString(), /RDD1/);
});

test('sc.binaryFiles and sc.binaryRecords', async () => {
  const sc = ctx();
  const dir = tempDir('binary');
  fs.writeFileSync(path.join(dir, 'a.bin'), Buffer.from([1, 2, 3, 4]));
  fs.writeFileSync(path.join(dir, 'b.bin'), Buffer.from([5, 6]));
  const files = sorted((await sc.binaryFiles(dir).collect()).map(([p, b]) => [path.basename(p), [...b]]));
  assert.deepEqual(files, [
    ['a.bin', [1, 2, 3, 4]],
    ['b.bin', [5, 6]],
  ]);
  const recs = await sc.binaryRecords(dir, 2).collect();
  assert.ok(recs.every((r) => Buffer.isBuffer(r)));
  assert.deepEqual(sorted(recs.map((r) => [...r])), [
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  await assert.rejects(sc.binaryRecords(dir, 3).collect(), /not a multiple of the record length 3/);
  assert.throws(() => sc.binaryRecords(dir, 0), /recordLength must be a positive integer/);
});

test('sc.runJob (PySpark doctests), sc.defaultMinPartitions and small SparkContext getters', async () => {
  const sc = ctx();
  const myRDD = sc.parallelize([...Array(6).keys()], 3);
  assert.deepEqual(await sc.runJob(myRDD, (part) => [...part].map((x) => x * x)), [0, 1, 4, 9, 16, 25]);
  assert.deepEqual(await sc.runJob(myRDD, (part) => [...part].map((x) => x * x), [0, 2], true), [0, 1, 16, 25]);
  await assert.rejects(
    sc.runJob(myRDD, (p) => p, [5]),
    /partition 5 does not exist/,
  );
  assert.equal(sc.defaultMinPartitions, Math.min(sc.defaultParallelism, 2));
  assert.equal(sc.getConf()['cinder.ui.showConsoleProgress'], 'false');
  assert.equal(typeof sc.sparkUser(), 'string');
  assert.equal(sc.getCheckpointDir(), undefined);
  assert.throws(() => sc.setLogLevel('LOUD'), /'LOUD' is not a log level/);
  sc.setLogLevel('warn');
});

test('custom accumulator params ({ zero, addInPlace }); reading an accumulator inside a task raises', async () => {
  const sc = ctx();
  const seen = sc.accumulator(new Set<string>(), {
    zero: () => new Set<string>(),
    addInPlace: (a, b) => new Set([...a, ...b]),
  });
  await sc.parallelize(['x', 'y', 'x', 'z'], 2).foreach((w) => seen.add(new Set([w])), { seen });
  assert.deepEqual([...seen.value].sort(), ['x', 'y', 'z']);
  // PySpark's doc example: a vector accumulator
  const vec = sc.accumulator([1, 2, 3], {
    zero: (v) => v.map(() => 0),
    addInPlace: (a, b) => a.map((x, i) => x + b[i]!),
  });
  await sc
    .parallelize(
      [
        [1, 1, 1],
        [2, 2, 2],
      ],
      2,
    )
    .foreach((v) => vec.add(v), { vec });
  assert.deepEqual(vec.value, [4, 5, 6]);
  const acc = sc.accumulator(0);
  await assert.rejects(
    sc.parallelize([1, 2]).foreach((x) => acc.value + x, { acc }),
    /Accumulator.value cannot be accessed inside tasks/,
  );
  assert.throws(() => sc.accumulator(0, { zero: () => 0 } as never), /zero\(value\) and addInPlace\(a, b\)/);
});

test('takeSample with a negative count raises (PySpark)', async () => {
  const sc = ctx();
  await assert.rejects(
    sc.parallelize([1, 2, 3]).takeSample(false, -1),
    (e: Error) => e instanceof CinderError && /sample size cannot be negative/.test(e.message),
  );
  assert.equal((await sc.parallelize([...Array(10).keys()], 2).takeSample(false, 5, 3)).length, 5);
});
