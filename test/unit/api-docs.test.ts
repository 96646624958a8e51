// The API reference (docs/api, TypeDoc markdown from src/index.ts and its TSDoc): it builds without a
// warning (typedoc.json treats warnings as errors: an exported API that names an unexported type, a broken
// {@link}) and the committed pages are what `npm run docs:api` makes of the current source.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../harness/mini-cluster.js';

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

test('the API reference builds without warnings and docs/api is up to date', { timeout: 90_000 }, (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-api-docs-'));
  t.after(() => fs.rmSync(out, { recursive: true, force: true }));
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typedoc/bin/typedoc'), '--out', out], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 80_000,
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.doesNotMatch(r.stdout + r.stderr, /\[warning\]/);
  const made = files(out);
  // the pages a user looks for, with the TSDoc examples in them
  const rdd = made.get(path.join('classes', 'RDD.md')) ?? '';
  for (const m of ['reduceByKey', 'saveAsTextFile', 'countApprox', 'mapPartitionsWithIndex'])
    assert.match(rdd, new RegExp(`### ${m}\\(\\)`), `RDD.md documents ${m}`);
  assert.match(rdd, /saveAsTextFile\('\/tmp\/out', \{ overwrite: true \}\)/);
  assert.ok(made.has(path.join('classes', 'CinderContext.md')));
  const committed = files(path.join(ROOT, 'docs', 'api'));
  const stale = [...new Set([...made.keys(), ...committed.keys()])].filter((f) => made.get(f) !== committed.get(f));
  assert.deepEqual(stale, [], 'docs/api is out of date: run `npm run docs:api` and commit it');
});
