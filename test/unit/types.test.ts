// The package ships built declarations (exports.types -> build/types): a user's app type-checks against
// them under strict flags that Cinder's own source does not use (exactOptionalPropertyTypes,
// noPropertyAccessFromIndexSignature, ...), pairs written `as const` work with reduceByKey, inference
// holds through chains, and misuse is an error (@ts-expect-error lines in test/types/user-app.ts.txt).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ROOT } from '../harness/mini-cluster.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-types-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('a strict user project type-checks against the built declarations', { timeout: 240_000 }, () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  assert.equal(pkg.exports['.'].types, './build/types/src/index.d.ts', 'types are built declarations, not source');
  const built = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build-types.mjs')], { encoding: 'utf8' });
  assert.equal(built.status, 0, built.stdout + built.stderr);
  assert.ok(fs.existsSync(path.join(ROOT, 'build', 'types', 'src', 'index.d.ts')));
  fs.mkdirSync(path.join(tmp, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(tmp, 'node_modules', 'cinder'));
  fs.symlinkSync(path.join(ROOT, 'node_modules', '@types'), path.join(tmp, 'node_modules', '@types'));
  fs.copyFileSync(path.join(ROOT, 'test', 'types', 'user-app.ts.txt'), path.join(tmp, 'app.ts'));
  fs.writeFileSync(path.join(tmp, 'package.json'), JSON.stringify({ name: 'user-app', type: 'module' }));
  fs.writeFileSync(
    path.join(tmp, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        exactOptionalPropertyTypes: true,
        noPropertyAccessFromIndexSignature: true,
        noUncheckedIndexedAccess: true,
        noImplicitReturns: true,
        types: ['node'],
      },
      files: ['app.ts'],
    }),
  );
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', tmp], { encoding: 'utf8', cwd: tmp });
  assert.equal(r.status, 0, `tsc reported:\n${r.stdout}${r.stderr}`);
  assert.equal(r.stdout.trim(), '');
});
