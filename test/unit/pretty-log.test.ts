/** Log format: readable lines when asked for (or on a terminal), JSON otherwise, in a real process. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../harness/mini-cluster.js';

const script = `import(${JSON.stringify(path.join(ROOT, 'build/src/common/log.js'))}).then((m) => { m.logger('demo').warn({ appId: 'application_1_0001', note: 'two words' }, 'something happened'); });`;

function run(env: Record<string, string>): string {
  const r = spawnSync(process.execPath, ['-e', script], {
    env: { ...process.env, CINDER_LOG_LEVEL: 'info', NO_COLOR: '1', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stderr;
}

test('CINDER_LOG_FORMAT=pretty prints time, level, component, message and fields on one line', () => {
  const line = run({ CINDER_LOG_FORMAT: 'pretty' }).trim();
  assert.match(
    line,
    /^\d\d:\d\d:\d\d\.\d{3} WARN {2}demo something happened appId=application_1_0001 note="two words"$/,
  );
});

test('a pipe (not a terminal) gets JSON lines', () => {
  const out = run({ CINDER_LOG_FORMAT: '' }).trim();
  const o = JSON.parse(out);
  assert.equal(o.msg, 'something happened');
  assert.equal(o.component, 'demo');
  assert.equal(o.level, 40);
});
