// End to end: functions captured here run in a separate worker thread through prepareFns/compileFn,
// using this module's imports (a sibling module, a node_modules package, the engine itself), and an
// error they throw is remapped to this .ts file's line.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as acorn from 'acorn';
import { captureFn, type FnRef } from '../../src/api/closure.js';
import { getBundle } from '../../src/api/imports-bundle.js';
import { CinderError } from '../../src/common/errors.js';
import { encode } from '../../src/common/serde.js';
import { remapStack } from '../../src/common/stack.js';
import { collectBundleIds } from '../../src/executor/fn-loader.js';
import twice, * as tu from './textutil.js';
import { shout } from './textutil.js';

const codeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ship-'));
after(() => fs.rmSync(codeDir, { recursive: true, force: true }));

type Reply = { ok?: unknown[][]; err?: { message: string; stack: string } };

async function runInWorker(refs: FnRef[], inputs: unknown[][]): Promise<Reply> {
  const bundles: Record<string, string> = {};
  for (const r of refs) for (const id of collectBundleIds(r)) bundles[id] = getBundle(id)!;
  const w = new Worker(new URL('./fn-worker.js', import.meta.url), {
    workerData: { refs: encode(refs), bundles, codeDir, inputs },
  });
  try {
    return await new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('worker timed out')), 10_000);
      w.once('message', (m: Reply) => {
        clearTimeout(timer);
        resolve(m);
      });
      w.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  } finally {
    await w.terminate();
  }
}

test('imported modules (own files, node_modules, the engine) work inside shipped functions', async () => {
  const suffix = '?';
  const helper = (s: string) => shout(s) + suffix;
  const refs = [
    captureFn((s: string) => helper(s), { helper, suffix }, 'map(f)'),
    captureFn((x: number) => twice(x) + tu.default(1) + tu.version.length, undefined, 'map(f)'),
    captureFn((src: string) => acorn.parse(src, { ecmaVersion: 'latest' }).body.length, undefined, 'map(f)'),
    captureFn((x: number) => new CinderError('E_TEST', `m${x}`).code, undefined, 'map(f)'),
  ];
  assert.deepEqual(refs[1]!.imports?.names, ['tu', 'twice']);
  assert.ok(getBundle(refs[3]!.imports!.id)?.startsWith('// cinder:engine'), 'engine imports are not bundled');
  assert.ok(!getBundle(refs[3]!.imports!.id)?.includes('class CinderError'));
  const r = await runInWorker(refs, [['a'], [5], ['a; b; c'], [1]]);
  assert.equal(r.err, undefined, r.err?.stack);
  assert.deepEqual(r.ok, [['A!?'], [10 + 2 + 4], [3], ['E_TEST']]);
});

test("a user function's error comes back with its message and a stack pointing into this .ts file", async () => {
  const limit = 2;
  const ref = captureFn(
    (x: number) => {
      if (x > limit) throw new RangeError(`value ${x} is over the limit`); // THROW-MARK
      return x;
    },
    { limit },
    'map(f)',
  );
  const r = await runInWorker([ref], [[1, 2, 3]]);
  assert.ok(r.err, 'the function should have thrown');
  assert.equal(r.err.message, 'value 3 is over the limit');
  assert.match(r.err.stack, /cinder-fn:[0-9a-f]+:\d+:\d+/);
  const ts = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/closure/ship.test.ts');
  const lines = fs.readFileSync(ts, 'utf8').split('\n');
  const line = lines.findIndex((l) => l.includes('// THROW-MARK')) + 1;
  const column = lines[line - 1]!.indexOf('new RangeError') + 1;
  const mapped = remapStack(r.err.stack, [ref]);
  assert.ok(mapped.includes(`${ts}:${line}:${column}`), mapped);
  assert.ok(!mapped.includes('cinder-fn:'), mapped);
});
