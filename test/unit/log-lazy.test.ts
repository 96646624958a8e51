/**
 * The logger is made on first use (docs/decisions/0032-executor-start.md): in a real process, lines, levels,
 * children and redaction behave as when it was made at load.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../harness/mini-cluster.js';

const LOG = JSON.stringify(path.join(ROOT, 'build/src/common/log.js'));

/** Runs `body` (with `m` = src/common/log.ts) in a fresh node; returns its JSON log lines. */
function run(body: string, env: Record<string, string> = {}): Array<Record<string, unknown>> {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${LOG});\n${body}`], {
    env: { ...process.env, CINDER_LOG_LEVEL: 'info', CINDER_LOG_FORMAT: 'json', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stderr
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('lines below the level are dropped, the others come out with component, bindings and pid', () => {
  const lines = run(`const log = m.logger('demo', { appId: 'a1' });
log.debug('not shown'); log.trace('not shown');
log.info({ n: 1 }, 'shown'); log.error('also shown');
console.error(JSON.stringify({ level: log.level, enabled: log.isLevelEnabled('debug') }));`);
  assert.deepEqual(
    lines.slice(0, 2).map((l) => [l.level, l.msg, l.component, l.appId, l.n]),
    [
      [30, 'shown', 'demo', 'a1', 1],
      [50, 'also shown', 'demo', 'a1', undefined],
    ],
  );
  assert.equal(lines[0]!.pid, lines[1]!.pid);
  assert.equal(typeof lines[0]!.pid, 'number');
  assert.deepEqual(lines[2], { level: 'info', enabled: false });
});

test('a level set on the root after a component logger was made reaches it (setLogLevel), both ways', () => {
  const lines = run(`const log = m.logger('early');
m.rootLogger.level = 'debug';
log.debug('debug now shown');
m.logger('late').debug('late too');
m.rootLogger.level = 'error';
log.warn('warn now dropped');
log.error('error shown');`);
  assert.deepEqual(
    lines.map((l) => [l.component, l.msg]),
    [
      ['early', 'debug now shown'],
      ['late', 'late too'],
      ['early', 'error shown'],
    ],
  );
});

test('secret fields are masked; CINDER_LOG_LEVEL=warn drops info', () => {
  const body = `m.logger('demo').warn({ secret: 's3cr3t', req: { secret: 'x' }, token: 't' }, 'w'); m.logger('demo').info('i');`;
  const lines = run(body, { CINDER_LOG_LEVEL: 'warn' });
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.secret, '*****');
  assert.equal(lines[0]!.token, '*****');
  assert.deepEqual(lines[0]!.req, { secret: '*****' });
  assert.doesNotMatch(JSON.stringify(lines), /s3cr3t/);
  assert.equal(run(body).length, 2, 'at info both lines');
});
