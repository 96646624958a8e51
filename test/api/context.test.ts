// End-to-end tests of the context's methods on local[2]: creating RDDs (parallelize, range, textFile,
// wholeTextFiles, union, emptyRDD), shared variables (broadcast, accumulator), checkpointing, the
// context's properties, and saveAsTextFile's output layout.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { CinderError, version } from '../../src/index.js';
import { sharedContext, sorted, tempDir } from './ctx.js';

const ctx = sharedContext();

test('context properties', () => {
  const sc = ctx();
  assert.match(sc.applicationId, /^local-\d+$/);
  assert.equal(sc.defaultParallelism, 2);
  assert.equal(sc.version, version);
  assert.match(sc.version, /^\d+\.\d+\.\d+/);
  assert.ok(sc.startTime <= Date.now() && sc.startTime > Date.now() - 120_000);
  assert.equal(sc.master, 'local[2]');
  assert.equal(sc.appName, 'api-test');
});

test('parallelize and range', async () => {
  const sc = ctx();
  assert.equal(sc.parallelize([1, 2, 3]).getNumPartitions(), 2);
  assert.deepEqual(await sc.parallelize(new Set(['x', 'y'])).collect(), ['x', 'y']);
  assert.deepEqual(await sc.parallelize([[1, { a: null }], 'two', 3.5, true]).collect(), [
    [1, { a: null }],
    'two',
    3.5,
    true,
  ]);
  assert.deepEqual(await sc.range(5).collect(), [0, 1, 2, 3, 4]);
  assert.deepEqual(await sc.range(2, 4).collect(), [2, 3]);
  assert.deepEqual(await sc.range(1, 7, 2).collect(), [1, 3, 5]);
  assert.deepEqual(await sc.range(5, 0, -2).collect(), [5, 3, 1]);
  assert.deepEqual(await sc.range(3, 3).collect(), []);
  const r = sc.range(0, 10, 1, 4);
  assert.equal(r.getNumPartitions(), 4);
  assert.deepEqual(await r.glom().collect(), [
    [0, 1],
    [2, 3, 4],
    [5, 6],
    [7, 8, 9],
  ]);
});

test('emptyRDD and union', async () => {
  const sc = ctx();
  const e = sc.emptyRDD<number>();
  assert.deepEqual(await e.collect(), []);
  assert.equal(await e.count(), 0);
  assert.equal(await e.isEmpty(), true);
  const a = sc.parallelize([1, 2]);
  const b = sc.parallelize([3]);
  const u = sc.union([a, b, e]);
  assert.deepEqual(await u.collect(), [1, 2, 3]);
  assert.equal(u.getNumPartitions(), 4);
  assert.deepEqual(
    await sc
      .union([a, a])
      .map((x) => x * 10)
      .collect(),
    [10, 20, 10, 20],
  );
});

test('textFile and wholeTextFiles over files, directories, globs and gzip', async () => {
  const sc = ctx();
  const dir = tempDir('read');
  fs.writeFileSync(path.join(dir, '1.txt'), '1');
  fs.writeFileSync(path.join(dir, '2.txt'), '2');
  assert.deepEqual(sorted(await sc.wholeTextFiles(dir).collect()), [
    [path.join(dir, '1.txt'), '1'],
    [path.join(dir, '2.txt'), '2'],
  ]);
  const lines = Array.from({ length: 1000 }, (_, i) => `line ${i}`);
  fs.writeFileSync(path.join(dir, 'big.log'), `${lines.join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'more.log.gz'), zlib.gzipSync('gz a\ngz b\n'));
  assert.deepEqual(await sc.textFile(path.join(dir, 'big.log'), 4).collect(), lines);
  assert.equal(await sc.textFile(path.join(dir, 'big.log'), 4).count(), 1000);
  assert.deepEqual(sorted(await sc.textFile(path.join(dir, '*.txt')).collect()), ['1', '2']);
  assert.deepEqual(await sc.textFile(path.join(dir, 'more.log.gz')).collect(), ['gz a', 'gz b']);
  assert.equal(await sc.textFile(dir).count(), 1004);
  // word count, the canonical example
  const counts = await sc
    .textFile(path.join(dir, 'big.log'))
    .flatMap((l) => l.split(' '))
    .map((w) => [w, 1] as [string, number])
    .reduceByKey((x, y) => x + y)
    .collectAsMap();
  assert.equal(counts.get('line'), 1000);
  assert.equal(counts.get('999'), 1);
});

test('saveAsTextFile writes part-NNNNN and _SUCCESS, refuses an existing dir unless told', async () => {
  const sc = ctx();
  const base = tempDir('save');
  const out = path.join(base, 'nums');
  await sc.range(10).saveAsTextFile(out);
  const files = fs.readdirSync(out).sort();
  assert.deepEqual(files, ['_SUCCESS', 'part-00000', 'part-00001']);
  const text = files
    .filter((f) => f.startsWith('part-'))
    .map((f) => fs.readFileSync(path.join(out, f), 'utf8'))
    .join('');
  assert.equal(text, '0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n');
  await assert.rejects(
    sc.range(3).saveAsTextFile(out),
    (e: Error) => e instanceof CinderError && e.message.includes(out) && /exist/.test(e.message),
  );
  await sc.parallelize(['', 'foo', '', 'bar', '']).saveAsTextFile(out, null, true);
  assert.deepEqual(sorted(await sc.textFile(out).collect()), ['', '', '', 'bar', 'foo']);
  const gz = path.join(base, 'gz');
  await sc.parallelize([['a', 1], null, { k: 'v' }]).saveAsTextFile(gz, 'gzip');
  assert.ok(fs.readdirSync(gz).some((f) => f.endsWith('.gz')));
  assert.deepEqual(await sc.textFile(gz).collect(), ['["a",1]', 'null', '{"k":"v"}']);
});

test('broadcast values are readable in tasks; destroy makes them unusable', async () => {
  const sc = ctx();
  const b = sc.broadcast([1, 2, 3, 4, 5]);
  assert.deepEqual(b.value, [1, 2, 3, 4, 5]);
  assert.deepEqual(
    await sc
      .parallelize([0, 0])
      .flatMap(() => b.value, { b })
      .collect(),
    [1, 2, 3, 4, 5, 1, 2, 3, 4, 5],
  );
  const lookup = sc.broadcast({ a: 1 } as Record<string, number>);
  assert.deepEqual(
    await sc
      .parallelize(['a', 'z'])
      .map((k) => lookup.value[k] ?? null, { lookup })
      .collect(),
    [1, null],
  );
  b.destroy();
  assert.throws(() => sc.parallelize([1]).map(() => b.value, { b }), /destroyed/);
});

test('accumulators: add(v), value, numbers, strings and arrays', async () => {
  const sc = ctx();
  const a = sc.accumulator(0);
  await sc.parallelize([1, 2, 3]).foreach((x) => a.add(x), { a });
  assert.equal(a.value, 6);
  const names = sc.accumulator<string[]>([]);
  await sc.parallelize(['x', 'y'], 2).foreach((s) => names.add([s]), { names });
  assert.deepEqual(sorted(names.value), ['x', 'y']);
});

test('checkpoint truncates lineage and keeps the data', async () => {
  const sc = ctx();
  const rdd = sc.range(0, 10, 1, 2).map((x) => x * 3);
  assert.throws(
    () =>
      sc
        .emptyRDD()
        .map((x) => x)
        .checkpoint() ?? undefined,
    /setCheckpointDir/,
  );
  sc.setCheckpointDir(tempDir('ckpt'));
  rdd.checkpoint();
  assert.equal(rdd.isCheckpointed(), false);
  assert.equal(await rdd.sum(), 135);
  assert.equal(rdd.isCheckpointed(), true);
  assert.ok(fs.existsSync(rdd.getCheckpointFile()!));
  assert.deepEqual(await rdd.map((x) => x + 1).collect(), [1, 4, 7, 10, 13, 16, 19, 22, 25, 28]);
});
