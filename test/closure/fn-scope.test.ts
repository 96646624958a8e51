/**
 * Shipped functions are compiled once per scope (the stage that runs them), so a function used by two
 * stages with differently shaped data keeps separate V8 type feedback in each (k-means later passes
 * went ~1.0 s -> ~0.4 s when reduceByKey's function stopped sharing feedback between its map-side and
 * reduce-side uses). Within a scope a function is compiled once and reused by every task.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { captureFn } from '../../src/api/closure.js';
import { compiledFactoryCount, compileFn, type FnEnv } from '../../src/executor/fn-loader.js';

const env = (scope: string | undefined): FnEnv => ({
  fetchFile: () => Promise.reject(new Error('no files in this test')),
  codeDir: '/nonexistent',
  broadcast: () => undefined,
  accumulator: () => undefined,
  scope,
});

test('one compiled function per (function, scope): reused within a stage, separate across stages', () => {
  const k = 3;
  const ref = captureFn((x: number) => x * k + 1, { k }, 'map');
  const before = compiledFactoryCount();
  const a1 = compileFn<(x: number) => number>(ref, env('7'));
  const a2 = compileFn<(x: number) => number>(ref, env('7'));
  assert.equal(compiledFactoryCount(), before + 1, 'a second task of the same stage reuses the compiled function');
  const b = compileFn<(x: number) => number>(ref, env('8'));
  assert.equal(compiledFactoryCount(), before + 2, 'another stage compiles its own');
  for (const f of [a1, a2, b]) assert.equal(f(2), 7);
  assert.notEqual(a1, a2, 'each task gets its own closure (its own captures and accumulators)');
});
