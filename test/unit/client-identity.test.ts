import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { identityFileFor } from '../../src/cluster/security/client-identity.js';

test('which identity a client uses: flag, CINDER_IDENTITY, then the admin identity beside a dev cluster secret', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ident-'));
  const saved = { id: process.env.CINDER_IDENTITY, secret: process.env.CINDER_SECRET_FILE };
  try {
    delete process.env.CINDER_IDENTITY;
    delete process.env.CINDER_SECRET_FILE;
    const noDev = path.join(dir, 'no-dev-cluster-here');
    assert.equal(identityFileFor('cinder://h:1', undefined, noDev), undefined);
    assert.equal(identityFileFor('cinder://h:1', '/x/flag.identity', noDev), '/x/flag.identity');
    process.env.CINDER_IDENTITY = '/x/env.identity';
    assert.equal(identityFileFor('cinder://h:1', undefined, noDev), '/x/env.identity');
    delete process.env.CINDER_IDENTITY;
    // a dev cluster in another dir: its secret file's neighbour
    process.env.CINDER_SECRET_FILE = path.join(dir, 'cluster.secret');
    assert.equal(identityFileFor('cinder://h:1', undefined, noDev), undefined, 'no admin identity there yet');
    fs.writeFileSync(path.join(dir, 'admin.identity'), '{}', { mode: 0o600 });
    assert.equal(identityFileFor('cinder://h:1', undefined, noDev), path.join(dir, 'admin.identity'));
  } finally {
    for (const [k, v] of [
      ['CINDER_IDENTITY', saved.id],
      ['CINDER_SECRET_FILE', saved.secret],
    ] as const)
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
