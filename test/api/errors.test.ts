// Bad input gets a clear error (what is wrong + what to do), and a user function that throws fails
// the job with the user's own error and a stack pointing into this file, without hurting the context.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { CinderError } from '../../src/index.js';
import { sharedContext, tempDir } from './ctx.js';

const ctx = sharedContext();

function isCinder(code: string, re: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof CinderError, `expected a CinderError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return true;
  };
}

test('a nonexistent input path', () => {
  const sc = ctx();
  const missing = path.join(tempDir('missing'), 'nope.txt');
  assert.throws(
    () => sc.textFile(missing),
    (e: Error) => e instanceof CinderError && e.message.includes(missing),
  );
  assert.throws(
    () => sc.wholeTextFiles(missing),
    (e: Error) => e instanceof CinderError && e.message.includes(missing),
  );
});

test('a non-function where a function is expected', async () => {
  const sc = ctx();
  const rdd = sc.parallelize([1, 2]);
  const clear = (e: Error) => e instanceof CinderError && /function/.test(e.message) && /hint/.test(e.message);
  for (const f of [
    () => rdd.map(42 as any),
    () => rdd.filter('x > 1' as any),
    () => rdd.flatMap(undefined as any),
    () => (rdd.map((x) => [x, x]) as any).reduceByKey({}),
    () => rdd.sortBy(null as any),
  ]) {
    assert.throws(f, clear);
  }
  // actions are async: they reject
  await assert.rejects(rdd.reduce(null as any), clear);
  await assert.rejects(rdd.foreach('print' as any), clear);
});

test('unserializable data and captures, and the capture error names the variable', () => {
  const sc = ctx();
  assert.throws(
    () => sc.parallelize([1, () => 2]),
    (e: Error) => e instanceof CinderError && /parallelize/.test(e.message) && /function/.test(e.message),
  );
  class Point {
    constructor(readonly x: number) {}
  }
  const where = new Point(1);
  assert.throws(
    () => sc.parallelize([1]).map((x) => x + where.x, { where }),
    (e: Error) => e instanceof CinderError && /where/.test(e.message) && /Point/.test(e.message),
  );
  const factor = 3;
  assert.throws(
    () => sc.parallelize([1]).map((x) => x * factor),
    (e: Error) => e instanceof CinderError && /'factor'/.test(e.message) && /\{ factor \}/.test(e.message),
  );
  const sock = { handle: Symbol('fd') };
  assert.throws(
    () => sc.parallelize([1]).filter((x) => x > 0 && sock !== null, { sock }),
    (e: Error) => e instanceof CinderError && /sock/.test(e.message),
  );
});

test('numPartitions <= 0 and other bad numbers', () => {
  const sc = ctx();
  const pairs = sc.parallelize([
    [1, 1],
    [2, 2],
  ] as [number, number][]);
  const bad = isCinder('BAD_ARGUMENT', /positive integer/);
  assert.throws(() => sc.parallelize([1], 0), bad);
  assert.throws(() => sc.range(0, 10, 1, -1), bad);
  assert.throws(() => pairs.reduceByKey((a, b) => a + b, 0), bad);
  assert.throws(() => pairs.groupByKey(0), bad);
  assert.throws(() => pairs.partitionBy(-2), bad);
  assert.throws(() => pairs.repartition(0), bad);
  assert.throws(() => pairs.coalesce(0), bad);
  assert.throws(() => pairs.sortByKey(true, 0), bad);
  assert.throws(() => pairs.join(pairs, 0), bad);
  assert.throws(() => pairs.distinct(1.5), bad);
  assert.throws(() => sc.range(0, 10, 0), isCinder('BAD_ARGUMENT', /step/));
  assert.throws(() => sc.parallelize(5 as any), isCinder('BAD_ARGUMENT', /array or iterable/));
});

test('a user function that throws fails the job with its error and a stack into this file', async () => {
  const sc = ctx();
  const err = await sc
    .parallelize([1, 2, 3], 1)
    .map((x) => {
      if (x === 2) throw new RangeError(`bad record ${x}`); // THROW-HERE
      return x;
    })
    .collect()
    .then(
      () => undefined,
      (e: Error) => e,
    );
  assert.ok(err, 'the job should fail');
  assert.match(err.message, /bad record 2/);
  assert.match(err.message, /failed 4 times/);
  const cause = err.cause as Error;
  assert.equal(cause.name, 'RangeError');
  assert.equal(cause.message, 'bad record 2');
  assert.match(cause.stack ?? '', /errors\.test\.ts:\d+/, cause.stack);
  // the context is still usable
  assert.equal(await sc.parallelize([1, 2]).count(), 2);
  // errors thrown inside shuffle-side functions too
  await assert.rejects(
    sc
      .parallelize([
        ['a', 1],
        ['a', 2],
      ] as [string, number][])
      .reduceByKey(() => {
        throw new TypeError('merge failed');
      })
      .collect(),
    (e: Error) => /merge failed/.test(e.message) && (e.cause as Error)?.name === 'TypeError',
  );
  await assert.rejects(sc.parallelize([1]).pipe('/nonexistent/command').collect(), /nonexistent/);
});
