/**
 * The submitter -> AM contract (src/protocol/am-launch.ts): a schema with a version, read by the AM
 * from a file in its container's dir. A broken or foreign contract stops the AM at once with a message
 * naming the file, instead of an AM that starts with empty settings.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { AM_MAIN } from '../../src/deploy/am/am-main.js';
import { AM_LAUNCH_FILE, encodeAmLaunch, parseAmLaunch } from '../../src/protocol/am-launch.js';

const clusterLaunch = {
  version: 1 as const,
  mode: 'cluster' as const,
  master: 'cinder://127.0.0.1:8032',
  appName: 'wc',
  conf: { 'cinder.executor.memory': '512m' },
  appMain: '__app__/wc.mjs',
  appArgs: ['in.txt', 'out'],
  executorResources: {},
  maxAttempts: 2,
};

test('the contract round-trips through its file form', () => {
  const text = Buffer.from(encodeAmLaunch(clusterLaunch)).toString('utf8');
  assert.deepEqual(parseAmLaunch(text, 'f.json'), clusterLaunch);
});

test('a contract of another version, a missing field or broken JSON is refused with the reason', () => {
  assert.throws(
    () => parseAmLaunch(JSON.stringify({ ...clusterLaunch, version: 2 }), '/c/f.json'),
    /\/c\/f\.json has AM contract version 2, this AM reads 1: submit with the same Cinder release/,
  );
  const { appMain: _, ...noMain } = clusterLaunch;
  assert.throws(() => parseAmLaunch(JSON.stringify(noMain), 'f.json'), /f\.json: appMain/);
  assert.throws(() => parseAmLaunch('{"version":1', 'f.json'), /f\.json is not JSON/);
  assert.throws(
    () => parseAmLaunch(JSON.stringify({ ...clusterLaunch, mode: 'client' }), 'f.json'),
    /f\.json: driverUrl/,
    'a client-mode contract needs the driver address',
  );
});

test('an AM started without its contract file exits 10 and names the missing file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-am-contract-'));
  try {
    const r = spawnSync(process.execPath, [AM_MAIN.replace(/\.ts$/, '.js')], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 10, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`cannot start: ${path.join(dir, AM_LAUNCH_FILE).replace(/\./g, '\\.')} is missing`),
    );
    fs.writeFileSync(path.join(dir, AM_LAUNCH_FILE), '{"version":7}');
    const r2 = spawnSync(process.execPath, [AM_MAIN], { cwd: dir, encoding: 'utf8', timeout: 20_000 });
    assert.equal(r2.status, 10, r2.stderr);
    assert.match(r2.stderr, /has AM contract version 7, this AM reads 1/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
