// `cinder submit --typecheck` type-checks a .ts app before anything starts; without it the app runs
// with its types stripped (as before).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { CINDER, ROOT } from '../harness/mini-cluster.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-typecheck-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const submit = (...args: string[]) =>
  spawnSync(process.execPath, [CINDER, 'submit', '--master', 'local[1]', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, CINDER_LOG_LEVEL: 'warn' },
  });

test('--typecheck refuses an app with a type error, naming file:line; a correct app runs', { timeout: 120_000 }, () => {
  const bad = path.join(tmp, 'bad.ts');
  fs.copyFileSync(path.join(ROOT, 'test', 'types', 'typecheck-bad.ts.txt'), bad);
  const r = submit('--typecheck', bad);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /has 1 type error:\n\s+\S*bad\.ts:3:7: Type '[^']+' is not assignable to type 'number'/);
  assert.match(r.stderr, /nothing was started/);
  // without the flag the types are stripped and it runs
  const loose = submit(bad);
  assert.equal(loose.status, 0, loose.stderr);
  assert.match(loose.stdout, /n=1/);
  const good = path.join(tmp, 'good.ts');
  fs.copyFileSync(path.join(ROOT, 'test', 'types', 'typecheck-good.ts.txt'), good);
  const ok = submit('--typecheck', good);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /a=2/);
});
