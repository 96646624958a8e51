/**
 * `cinder submit` prints app names, states and diagnostics escaped (src/cli/escape.ts), as `cinder apps`
 * does: an app named or failing with ANSI escapes, carriage returns, line breaks or bidi overrides cannot
 * recolour, rewrite or fake lines of the submitting terminal (cluster mode progress, --status, --kill,
 * client-mode failures).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { APPS, appIdFrom, deployCluster, submit } from './submit-harness.js';

// ESC [31m (red), a carriage return, a line break that would fake a "final:" line, a right-to-left override
const EVIL = 'evil\x1b[31mRED\rX\n[2030-01-01] final: SUCCEEDED\u202eTXT';
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]/;

function assertNoRawControls(text: string, what: string): void {
  const m = RAW.exec(text);
  assert.equal(m, null, `${what} has a raw control character ${JSON.stringify(m?.[0])}:\n${JSON.stringify(text)}`);
}

describe('cinder submit escapes what it prints', { timeout: 120_000 }, () => {
  const fx = deployCluster('escaping');

  test('cluster mode: the app name and the diagnostics of a failing main, then --status and --kill', async () => {
    const args = ['--master', fx.mc.master, '--deploy-mode', 'cluster', '--driver-memory', '256m'];
    const r = await submit(
      [...args, '--name', EVIL, '--conf', 'cinder.yarn.maxAppAttempts=1', path.join(APPS, 'throws.ts'), EVIL],
      fx.env,
    ).done;
    assert.notEqual(r.code, 0);
    for (const [what, text] of [
      ['stdout', r.stdout],
      ['stderr', r.stderr],
    ] as const)
      assertNoRawControls(text, what);
    // the name as the RM stored it (JSON-quoted, then escaped), and the first line of the diagnostics
    assert.ok(r.stdout.includes('named "evil\\u001b[31mRED\\rX\\n[2030-01-01] final: SUCCEEDED\\u202eTXT"'), r.stdout);
    assert.ok(r.stdout.includes('Error: evil\\u001b[31mRED\\rX'), r.stdout);
    assert.ok(!r.stdout.split('\n').some((l) => l.startsWith('[2030-01-01]')), 'no faked line');
    const appId = appIdFrom(r.stdout);
    const st = await submit(['--master', fx.mc.master, '--status', appId], fx.env).done;
    assert.equal(st.code, 0, st.stderr);
    assertNoRawControls(st.stdout, '--status');
    assert.ok(st.stdout.includes('\\u202eTXT'), st.stdout);
    const k = await submit(['--master', fx.mc.master, '--kill', `application_1_0001${EVIL}`], fx.env).done;
    assert.notEqual(k.code, 0);
    assertNoRawControls(k.stderr, '--kill of a bad id');
    assert.ok(k.stderr.includes('\\x1b[31mRED'), k.stderr);
  });

  test('client mode: a failing main with escapes in its message', async () => {
    const r = await submit(['--master', fx.mc.master, '--name', EVIL, path.join(APPS, 'throws.ts'), EVIL], {
      ...fx.env,
      CINDER_LOG_LEVEL: 'error',
    }).done;
    assert.notEqual(r.code, 0);
    assertNoRawControls(r.stderr, 'stderr');
    assert.ok(r.stderr.includes('the application failed: Error: evil\\x1b[31mRED\\rX'), r.stderr);
  });
});
