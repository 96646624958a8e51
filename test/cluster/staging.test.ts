import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig, loadSecret, NmConfig, RmConfig } from '../../src/cluster/common/config.js';
import { checkPlainName } from '../../src/cluster/common/safe-path.js';
import { StagingStore } from '../../src/cluster/resourcemanager/staging.js';

test('client file names can never escape their directory', () => {
  for (const bad of ['../../x', '..', '.', '/etc/passwd', 'a/b', 'a\\b', '', 'x\0y'])
    assert.throws(() => checkPlainName(bad, 'staged file'), /must be a plain file name/, bad);
  assert.equal(checkPlainName('..hidden', 'f'), '..hidden');
});

test('staging is content addressed, checked on upload and download, size limited, and garbage collected', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-staging-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const s = new StagingStore(dir, 100, 150);
  const f = s.put('a.txt', Buffer.from('hello'), 0);
  assert.equal(f.sha256, '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  assert.deepEqual(s.get(f.sha256), Buffer.from('hello'));
  assert.throws(() => s.put('b', Buffer.from('x'), 0, 'f'.repeat(64)), /arrived with sha256/);
  assert.throws(() => s.put('big', Buffer.alloc(101), 0), /over the limit of 100 bytes/);
  assert.throws(() => s.put('c', Buffer.alloc(60), 100), /over the limit of 150/);
  assert.throws(() => s.put('../../x', Buffer.from('x'), 0), /not allowed/);
  fs.writeFileSync(path.join(dir, 'blobs', f.sha256), 'tampered');
  assert.throws(() => s.get(f.sha256), /changed on the staging store/);
  assert.equal(s.gc(new Set()), 1);
  assert.throws(() => s.get(f.sha256), /not in the staging store/);
});

test('configuration merges file < env < flags and names the bad key', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-conf-'));
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    delete process.env.CINDER_RM_NM_LIVENESS_MS;
  });
  const file = path.join(dir, 'rm.json');
  fs.writeFileSync(file, JSON.stringify({ port: 9000, nmLivenessMs: 1000, admins: ['ops'] }));
  process.env.CINDER_RM_NM_LIVENESS_MS = '2000';
  const c = loadConfig(RmConfig, 'ResourceManager', { config: file, port: '9001' }, 'CINDER_RM_');
  assert.deepEqual([c.port, c.nmLivenessMs, c.admins, c.maxAttempts], [9001, 2000, ['ops'], 2]);
  assert.throws(
    () => loadConfig(RmConfig, 'ResourceManager', { port: 'abc' }, 'X_'),
    /invalid ResourceManager configuration: port/,
  );
  fs.writeFileSync(file, JSON.stringify({ prot: 1 }));
  assert.throws(() => loadConfig(RmConfig, 'ResourceManager', { config: file }, 'X_'), /unknown keys: prot/);
  assert.throws(() => loadConfig(NmConfig, 'NodeManager', { rm: 'nohost' }, 'X_'), /rm: expected HOST:PORT/);
});

test('the secret file must be private', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-secret-'));
  const saved = process.env.CINDER_SECRET;
  delete process.env.CINDER_SECRET;
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    if (saved !== undefined) process.env.CINDER_SECRET = saved;
  });
  const f = path.join(dir, 's');
  fs.writeFileSync(f, 'abc\n', { mode: 0o644 });
  fs.chmodSync(f, 0o644);
  assert.throws(() => loadSecret(f), /readable by others .*chmod 600/s);
  fs.chmodSync(f, 0o600);
  assert.equal(loadSecret(f), 'abc');
});
