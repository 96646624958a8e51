/**
 * The in-memory .tar.gz writer used to ship a bundled app (src/deploy/client/tar.ts): the system tar must list
 * and extract exactly the files given, byte for byte, long paths included; the same files give the same
 * bytes; paths that cannot be stored, or that would escape, are refused with a clear error.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CinderError } from '../../src/common/errors.js';
import { tarGz } from '../../src/deploy/client/tar.js';

const longDir = `${'d'.repeat(60)}/${'e'.repeat(60)}`;
const files = [
  { path: 'main.mjs', data: Buffer.from("console.log('hi');\n") },
  { path: 'lib/util.mjs', data: Buffer.from('export const x = 1;\n'.repeat(100)) },
  { path: 'empty.txt', data: Buffer.alloc(0) },
  { path: 'exact.bin', data: Buffer.alloc(512, 7) },
  { path: `${longDir}/${'f'.repeat(90)}.mjs`, data: Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 256)) },
  { path: 'ünï/cødé.mjs', data: Buffer.from('export {};\n') },
];

test('system tar lists and extracts exactly the archived files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-tar-test-'));
  try {
    const tgz = path.join(dir, 'a.tgz');
    fs.writeFileSync(tgz, tarGz(files));
    const list = spawnSync('tar', ['-tzf', tgz], { encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual(list.stdout.trim().split('\n').sort(), files.map((f) => f.path).sort());
    const out = path.join(dir, 'x');
    fs.mkdirSync(out);
    const x = spawnSync('tar', ['-xzf', tgz, '-C', out], { encoding: 'utf8' });
    assert.equal(x.status, 0, x.stderr);
    assert.equal(x.stderr, '', 'tar warns about nothing');
    for (const f of files) assert.deepEqual(fs.readFileSync(path.join(out, f.path)), Buffer.from(f.data), f.path);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the same files give the same archive bytes', () => {
  assert.deepEqual(tarGz(files), tarGz(files.map((f) => ({ ...f, data: Buffer.from(f.data) }))));
});

test('paths that do not fit ustar, or escape, are refused with a clear error', () => {
  assert.throws(
    () => tarGz([{ path: 'x'.repeat(120), data: Buffer.alloc(1) }]),
    (e: unknown) => e instanceof CinderError && /at most 155 bytes and a name of at most 100/.test(e.message),
  );
  for (const bad of ['../evil.mjs', '/abs.mjs', 'a/../../b', 'a//b', ''])
    assert.throws(
      () => tarGz([{ path: bad, data: Buffer.alloc(1) }]),
      (e: unknown) => e instanceof CinderError && /relative paths without '\.\.'/.test(e.message),
      bad,
    );
});
