// captureFn at the call site (src/api/closure.ts) and binding on the executor side (src/executor/fn-loader.ts):
// capture checks and their messages, nested and recursive captured functions, ship refs, per-task binding.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type CapRef, captureFn, type FnRef, SHIP_REF } from '../../src/api/closure.js';
import { getBundle } from '../../src/api/imports-bundle.js';
import { decode, encode } from '../../src/common/serde.js';
import { compileFn, type FnEnv, prepareFns } from '../../src/executor/fn-loader.js';
import { shout } from './textutil.js';

const codeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-closure-'));
after(() => fs.rmSync(codeDir, { recursive: true, force: true }));

function env(over: Partial<FnEnv> = {}): FnEnv {
  return {
    fetchFile: async (name) => {
      const code = getBundle(name.replace(/^code\//, '').replace(/\.mjs$/, ''));
      if (code === undefined) throw new Error(`no such file ${name}`);
      return Buffer.from(code);
    },
    codeDir,
    broadcast: () => undefined,
    accumulator: () => undefined,
    ...over,
  };
}

/** What an executor gets: the ref after a trip through the wire codec. */
function wire(ref: FnRef): FnRef {
  return decode<FnRef>(encode(ref));
}

function code(e: unknown): string | undefined {
  return (e as { code?: string }).code;
}

test('a missing capture fails at the call site, naming the variable and showing the fix', () => {
  const factor = 3;
  assert.throws(
    () => captureFn((x: number) => x * factor, undefined, 'map(f)'),
    (e: Error) => {
      assert.equal(code(e), 'UNCAPTURED_VARIABLE');
      assert.match(
        e.message,
        /^map\(f\): the function uses 'factor', which is defined outside it and was not captured/,
      );
      assert.ok(e.message.includes('Pass it explicitly: rdd.map((x) => x * factor, { factor })'), e.message);
      return true;
    },
  );
});

test('several missing captures are all listed', () => {
  const a = 1;
  const b = 2;
  assert.throws(
    () => captureFn((x: number) => x + a + b, { unrelated: 1 }, 'filter(f)'),
    (e: Error) => {
      assert.match(e.message, /uses 'a', 'b', which are defined outside it and were not captured/);
      assert.ok(e.message.includes('rdd.filter((x) => x + a + b, { unrelated, a, b })'), e.message);
      return true;
    },
  );
});

test('captured values, globals and imports need no ceremony; unused captures are dropped', () => {
  const k = 3;
  const ref = captureFn(
    (x: number) => Math.max(x * k, JSON.parse('0')) + shout('a').length,
    { k, unused: 5 },
    'map(f)',
  );
  assert.deepEqual(ref.caps, { k: { t: 'v', v: 3 } });
  assert.deepEqual(ref.imports?.names, ['shout']);
  assert.ok(getBundle(ref.imports!.id)?.includes('toUpperCase'));
  assert.match(ref.hash, /^[0-9a-f]{32}$/);
  const here = fileURLToPath(import.meta.url);
  assert.equal(ref.origin?.file, here);
  const line = fs.readFileSync(here, 'utf8').split('\n')[ref.origin!.line - 1]!;
  assert.equal(line.slice(ref.origin!.column, ref.origin!.column + 6), '(x) =>');
  // same function and captures -> same hash; different captured value -> different hash
  const f = (x: number) => x * k;
  assert.equal(captureFn(f, { k }, 'map(f)').hash, captureFn(f, { k }, 'map(f)').hash);
  assert.notEqual(captureFn(f, { k }, 'map(f)').hash, captureFn(f, { k: 4 }, 'map(f)').hash);
});

test('non-functions, native/bound functions and bad capture objects are rejected clearly', () => {
  assert.throws(() => captureFn(42, undefined, 'map(f)'), /map\(f\): expected a function, got number 42/);
  assert.throws(() => captureFn('x => x', undefined, 'reduce(f)'), /reduce\(f\): expected a function, got a string/);
  assert.throws(
    () => captureFn(Math.sqrt, undefined, 'map(f)'),
    (e: Error) => code(e) === 'NOT_SHIPPABLE' && /native or bound function \(sqrt\)/.test(e.message),
  );
  const bound = ((x: number, y: number) => x + y).bind(null, 1);
  assert.throws(() => captureFn(bound, undefined, 'map(f)'), /native or bound function/);
  assert.throws(
    () => captureFn((x: number) => x, 5 as never, 'map(f)'),
    (e: Error) => code(e) === 'BAD_CAPTURES' && /capture object must be a plain object/.test(e.message),
  );
  const self = { v: 1, m() {} };
  assert.throws(() => captureFn(() => self.v, undefined, 'map(f)'), /uses 'self'/);
});

test("arrows using the surrounding 'this' are rejected", () => {
  const o = {
    v: 2,
    run() {
      return captureFn((x: number) => x + this.v, undefined, 'map(f)');
    },
  };
  assert.throws(() => o.run(), /uses 'this' of the code around it/);
});

test('unserializable captures give errors naming the capture and the problem', () => {
  class Point {
    constructor(readonly x: number) {}
  }
  const cfg = { scale: 2, f: () => 1 };
  assert.throws(
    () => captureFn((x: number) => x * cfg.scale, { cfg }, 'map(f)'),
    (e: Error) => code(e) === 'NOT_SERIALIZABLE' && /captured variable 'cfg'.*value\.f is a function/.test(e.message),
  );
  const p = new Point(1);
  assert.throws(() => captureFn(() => p.x, { p }, 'map(f)'), /captured variable 'p'.*instance of Point/);
  const s = Symbol('s');
  assert.throws(() => captureFn(() => s, { s }, 'map(f)'), /captured variable 's'.*symbol/);
});

test('captured functions are shipped recursively and share the capture object', async () => {
  const k = 10;
  const helper = (x: number) => x + k;
  assert.throws(
    () => captureFn((x: number) => helper(x), { helper }, 'map(f)'),
    /captured function 'helper' uses 'k'.*rdd\.map\(\(x\) => helper\(x\), \{ helper, k \}\)/,
  );
  const ref = wire(captureFn((x: number) => helper(x) * 2, { helper, k }, 'map(f)'));
  const h = ref.caps.helper as Extract<CapRef, { t: 'f' }>;
  assert.equal(h.t, 'f');
  assert.deepEqual(h.f.caps, { k: { t: 'v', v: 10 } });
  await prepareFns([ref], env());
  assert.equal(compileFn<(x: number) => number>(ref, env())(1), 22);
});

test('recursive and mutually recursive captured functions work', async () => {
  const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
  const isEven = (n: number): boolean => (n === 0 ? true : isOdd(n - 1));
  const isOdd = (n: number): boolean => (n === 0 ? false : isEven(n - 1));
  const ref = wire(captureFn((x: number) => [fact(x), isEven(x)], { fact, isEven, isOdd }, 'map(f)'));
  await prepareFns([ref], env());
  assert.deepEqual(compileFn<(x: number) => unknown>(ref, env())(5), [120, false]);
  function named(n: number): number {
    return n === 0 ? 0 : 1 + named(n - 1);
  }
  const r2 = wire(captureFn(named, undefined, 'map(f)'));
  assert.equal(compileFn<typeof named>(r2, env())(4), 4);
});

test('generators, async functions and methods compile and run', async () => {
  const k = 2;
  const gen = wire(
    captureFn(
      function* (it: Iterable<number>) {
        for (const v of it) yield v * k;
      },
      { k },
      'mapPartitions(f)',
    ),
  );
  assert.deepEqual([...compileFn<(it: number[]) => Iterable<number>>(gen, env())([1, 2])], [2, 4]);
  const asy = wire(captureFn(async (x: number) => x + k, { k }, 'map(f)'));
  assert.equal(await compileFn<(x: number) => Promise<number>>(asy, env())(1), 3);
  const obj = {
    twice(x: number) {
      return x * k;
    },
  };
  const m = wire(captureFn(obj.twice, { k }, 'map(f)'));
  assert.equal(compileFn<(x: number) => number>(m, env())(21), 42);
  class Scaler {
    constructor(readonly by: number) {}
    apply(x: number) {
      return x * this.by * k;
    }
  }
  const c = wire(captureFn((x: number) => new Scaler(3).apply(x), { Scaler, k }, 'map(f)'));
  assert.equal(compileFn<(x: number) => number>(c, env())(1), 6);
});

test('broadcasts and accumulators are captured as refs and bound per task', () => {
  // stand-ins for the lead's Broadcast/Accumulator: only the SHIP_REF protocol matters here
  const bc = { value: 0, [SHIP_REF]: () => ({ t: 'b', id: 7 }) };
  const acc = { add: (_v: number) => {}, [SHIP_REF]: () => ({ t: 'a', id: 3 }) };
  const ref = wire(
    captureFn(
      (x: number) => {
        acc.add(x);
        return bc.value + x;
      },
      { bc, acc },
      'map(f)',
    ),
  );
  assert.deepEqual(ref.caps, { bc: { t: 'b', id: 7 }, acc: { t: 'a', id: 3 } });
  const mk = () => {
    const seen: number[] = [];
    const e = env({
      broadcast: (id) => ({ value: id * 100 }),
      accumulator: () => ({ add: (v: number) => seen.push(v) }),
    });
    return { seen, fn: compileFn<(x: number) => number>(ref, e) };
  };
  const t1 = mk();
  const t2 = mk();
  assert.equal(t1.fn(1), 701);
  assert.equal(t2.fn(2), 702);
  assert.deepEqual([t1.seen, t2.seen], [[1], [2]]);
});
