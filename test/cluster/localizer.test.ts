import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Localizer } from '../../src/cluster/nodemanager/localizer.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('resources are downloaded once per node, verified, archives unpacked, and escaping archives refused', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-loc-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const blobs = new Map<string, Buffer>();
  const stage = (b: Buffer) => {
    blobs.set(sha(b), b);
    return { sha256: sha(b), size: b.length };
  };
  const loc = new Localizer(path.join(dir, 'cache'), async (_app, h) => {
    await new Promise((r) => setTimeout(r, 10));
    return blobs.get(h)!;
  });
  // a .tgz and a .zip with the same tree
  const src = path.join(dir, 'src');
  fs.mkdirSync(path.join(src, 'd'), { recursive: true });
  fs.writeFileSync(path.join(src, 'd', 'f.txt'), 'inside');
  execFileSync('tar', ['-czf', path.join(dir, 'a.tgz'), '-C', src, 'd']);
  execFileSync('sh', ['-c', `cd ${src} && zip -qr ${path.join(dir, 'a.zip')} d`]);
  const file = stage(Buffer.from('plain'));
  const tgz = stage(fs.readFileSync(path.join(dir, 'a.tgz')));
  const zip = stage(fs.readFileSync(path.join(dir, 'a.zip')));
  const c1 = path.join(dir, 'c1');
  const c2 = path.join(dir, 'c2');
  fs.mkdirSync(c1);
  fs.mkdirSync(c2);
  const res = {
    'b.txt': { ...file, type: 'FILE' as const },
    t: { ...tgz, type: 'ARCHIVE' as const },
    z: { ...zip, type: 'ARCHIVE' as const },
  };
  await Promise.all([loc.localize('app', c1, res), loc.localize('app', c2, res)]);
  assert.equal(loc.downloads, 3, 'two containers on one node: one download each');
  assert.equal(loc.hits, 3);
  for (const c of [c1, c2]) {
    assert.equal(fs.readFileSync(path.join(c, 'b.txt'), 'utf8'), 'plain');
    assert.equal(fs.readFileSync(path.join(c, 't', 'd', 'f.txt'), 'utf8'), 'inside');
    assert.equal(fs.readFileSync(path.join(c, 'z', 'd', 'f.txt'), 'utf8'), 'inside');
  }
  // an archive entry escaping its directory is refused before extraction
  execFileSync('tar', ['-czf', path.join(dir, 'evil.tgz'), '-C', src, '--transform', 's,^d,../../escape,', 'd']);
  const evil = stage(fs.readFileSync(path.join(dir, 'evil.tgz')));
  const c3 = path.join(dir, 'c3');
  fs.mkdirSync(c3);
  await assert.rejects(loc.localize('app', c3, { e: { ...evil, type: 'ARCHIVE' } }), /entry escaping its directory/);
  assert.equal(fs.existsSync(path.join(dir, 'escape')), false);
  await assert.rejects(loc.localize('app', c3, { '../x': { ...file, type: 'FILE' } }), /not allowed/);
  // a blob that does not match its declared hash fails with a clear message
  blobs.set(file.sha256, Buffer.from('other'));
  fs.rmSync(path.join(dir, 'cache', file.sha256));
  await assert.rejects(loc.localize('app', c3, { again: { ...file, type: 'FILE' } }), /changed on the staging store/);
});
