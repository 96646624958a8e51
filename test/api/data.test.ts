// What travels as data (decision 0020): what structured clone carries — Map, Set, Date, BigInt, typed
// arrays, Buffer, RegExp, nested — in records (collect, shuffle, cache), captures and broadcasts, and
// instances of registered classes; anything else fails on the driver naming the value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CinderError } from '../../src/index.js';
import { sharedContext, sorted } from './ctx.js';
import { Point } from './point.js';

const ctx = sharedContext();

test('sc.broadcast(await rdd.collectAsMap()) works, and the broadcast is a Map on the executors', async () => {
  const sc = ctx();
  const names = sc.broadcast(
    await sc
      .parallelize([
        [1, 'one'],
        [2, 'two'],
      ] as [number, string][])
      .collectAsMap(),
  );
  assert.ok(names.value instanceof Map);
  const out = await sc
    .parallelize([1, 2, 1], 2)
    .map((k) => `${names.value instanceof Map}:${names.value.get(k)}`, { names })
    .collect();
  assert.deepEqual(out, ['true:one', 'true:two', 'true:one']);
});

test('Map, Set, Date, BigInt, typed arrays, Buffer, RegExp, nested: through collect, a shuffle and the cache', async () => {
  const sc = ctx();
  const rec = (i: number) => ({
    i,
    m: new Map<unknown, unknown>([
      ['k', i],
      [i, new Set([`s${i}`])],
    ]),
    d: new Date(1_700_000_000_000 + i),
    b: BigInt(i) * 10n ** 20n,
    small: BigInt(i),
    f: new Float64Array([i, i + 0.5]),
    buf: Buffer.from(`b${i}`),
    re: new RegExp(`x${i}`, 'g'),
  });
  const check = (r: ReturnType<typeof rec>, i: number) => {
    assert.equal(r.i, i);
    assert.ok(r.m instanceof Map, 'a Map');
    assert.equal(r.m.get('k'), i);
    assert.deepEqual(r.m.get(i), new Set([`s${i}`]));
    assert.ok(r.d instanceof Date);
    assert.equal(r.d.getTime(), 1_700_000_000_000 + i);
    assert.equal(r.b, BigInt(i) * 10n ** 20n);
    assert.equal(typeof r.small, 'bigint');
    assert.ok(r.f instanceof Float64Array);
    assert.deepEqual([...r.f], [i, i + 0.5]);
    assert.ok(Buffer.isBuffer(r.buf) && r.buf.toString() === `b${i}`);
    assert.ok(r.re instanceof RegExp);
    assert.equal(r.re.flags, 'g');
    assert.equal(r.re.source, `x${i}`);
  };
  const data = [0, 1, 2, 3].map(rec);
  const rdd = sc.parallelize(data, 2).cache();
  for (const [i, r] of (await rdd.collect()).entries()) check(r, i);
  for (const [i, r] of (await rdd.collect()).entries()) check(r, i); // from the cache
  // computed on executors (BigInt arithmetic, Map methods) and through a shuffle
  const grouped = await rdd
    .map((r) => [Number(r.small % 2n), r] as [number, typeof r])
    .groupByKey(2)
    .mapValues((rs) => rs.map((r) => (r.m.get('k') as number) + Number(r.b / 10n ** 20n)))
    .collect();
  assert.deepEqual(sorted(grouped.map(([k, v]) => [k, sorted(v)])), [
    [0, [0, 4]],
    [1, [2, 6]],
  ]);
  // the column fast path's shapes are unchanged
  assert.deepEqual(
    sorted(
      await sc
        .parallelize(['a', 'b', 'a'], 2)
        .map((w) => [w, 1] as [string, number])
        .reduceByKey((a, b) => a + b)
        .collect(),
    ),
    [
      ['a', 2],
      ['b', 1],
    ],
  );
});

test('captured Map, Set and Date', async () => {
  const sc = ctx();
  const ok = new Set(['a', 'c']);
  const weights = new Map([
    ['a', 2],
    ['c', 3],
  ]);
  const since = new Date(1000);
  const out = await sc
    .parallelize(['a', 'b', 'c'], 2)
    .filter((x) => ok.has(x), { ok })
    .map((x) => `${x}${weights.get(x)! * 10}@${since.getTime()}`, { weights, since })
    .collect();
  assert.deepEqual(out, ['a20@1000', 'c30@1000']);
});

test('instances of a registered class keep their class; an unregistered one is refused saying what to do', async () => {
  const sc = ctx();
  const pts = await sc
    .parallelize([new Point(3, 4), new Point(6, 8)], 2)
    .map((p) => new Point(p.x * 2, p.y * 2))
    .collect();
  assert.ok(pts.every((p) => p instanceof Point));
  assert.deepEqual(
    pts.map((p) => p.norm()),
    [10, 20],
  );
  const norms = await sc
    .parallelize([new Point(3, 4), new Point(5, 12), new Point(8, 6)], 2)
    .map((p) => [p.x % 2, p] as [number, Point])
    .groupByKey(2)
    .mapValues((ps) => ps.map((p) => (p instanceof Point ? p.norm() : -1)).sort((a, b) => a - b))
    .collect();
  assert.deepEqual(sorted(norms), [
    [0, [10]],
    [1, [5, 13]],
  ]);
  class Secret {
    v = 1;
  }
  assert.throws(
    () => sc.parallelize([{ s: new Secret() }]),
    (e: Error) =>
      e instanceof CinderError &&
      /value\[0\]\.s is an instance of Secret/.test(e.message) &&
      /registerClass\(Secret\)/.test(e.message),
  );
  assert.throws(() => sc.broadcast(new Map([['f', () => 1]])), /is a function/);
});
