/**
 * `cinder submit` exits 0 exactly when the application's final status is SUCCEEDED, in local, client
 * and cluster mode: success, an exception in the user's main (the RM's diagnostics carry its stack)
 * and `cinder kill`. Client mode ends once: the AM unregisters with the driver's status, never with a
 * CLIENT_LOST that follows the driver's own report.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { amLog, FAST, readWhenWritten, record, SLOW_SAVE, SLOW_SAVE_LINES } from './outcome-harness.js';
import { APPS, appIdFrom, deployCluster, outputLines, submit } from './submit-harness.js';

describe('submit exit codes match the final status', { timeout: 200_000 }, () => {
  const fx = deployCluster('exit');

  test('local mode: 0 on success, non-zero when main throws', async () => {
    const ok = await submit(
      ['--master', 'local[2]', SLOW_SAVE, path.join(fx.tmp, 'lm'), path.join(fx.tmp, 'lo'), '1'],
      fx.env,
    ).done;
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(outputLines(path.join(fx.tmp, 'lo')), SLOW_SAVE_LINES);
    const bad = await submit(['--master', 'local[2]', path.join(APPS, 'throws.ts')], fx.env).done;
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /boom from the user main/);
  });

  test('client mode success: exit 0, FINISHED/SUCCEEDED, one attempt, the AM unregisters once with the driver status', async () => {
    const marker = path.join(fx.tmp, 'cs-marker');
    const out = path.join(fx.tmp, 'cs-out');
    const r = await submit(['--master', fx.mc.master, ...FAST, SLOW_SAVE, marker, out, '1'], fx.env).done;
    assert.equal(r.code, 0, r.stderr);
    const appId = fs.readFileSync(marker, 'utf8');
    const rec = await record(fx.mc, appId);
    assert.equal(`${rec.state}/${rec.finalStatus}`, 'FINISHED/SUCCEEDED', rec.diagnostics);
    assert.equal(rec.attempts, 1);
    assert.deepEqual(outputLines(out), SLOW_SAVE_LINES);
    const am = await amLog(fx.mc, appId);
    assert.match(am, /driver finished: SUCCEEDED/);
    assert.doesNotMatch(am, /CLIENT_LOST/);
    assert.equal(am.match(/unregistered: /g)?.length, 1, am);
  });

  for (const mode of ['client', 'cluster'] as const)
    test(`${mode} mode, main throws: exit non-zero, FAILED, diagnostics carry the user's stack`, async () => {
      const r = await submit(
        [
          '--master',
          fx.mc.master,
          '--deploy-mode',
          mode,
          ...FAST,
          '--conf',
          'cinder.yarn.maxAppAttempts=1',
          path.join(APPS, 'throws.ts'),
        ],
        fx.env,
      ).done;
      assert.notEqual(r.code, 0);
      // client mode prints nothing of its own on stdout: the newest app of that name is this one
      const appId =
        mode === 'cluster'
          ? appIdFrom(r.stdout)
          : (await fx.mc.withClient((c) => c.listApplications()))
              .filter((a) => a.name === 'throws')
              .sort((a, b) => b.startedTime - a.startedTime)[0]!.id;
      const rec = await record(fx.mc, appId);
      assert.equal(`${rec.state}/${rec.finalStatus}`, 'FINISHED/FAILED', rec.diagnostics);
      assert.match(rec.diagnostics, /boom from the user main/);
      assert.match(rec.diagnostics, /\n\s+at .*throws\.m?[jt]s:\d+/, 'the stack');
    });

  test('client mode, the context fails to start (no executors in time): exit non-zero, FAILED saying why', async () => {
    const marker = path.join(fx.tmp, 'nostart-marker');
    const r = await submit(
      [
        '--master',
        fx.mc.master,
        ...FAST,
        '--conf',
        'cinder.scheduler.maxRegisteredResourcesWaitingTime=1',
        SLOW_SAVE,
        marker,
        path.join(fx.tmp, 'nostart-out'),
      ],
      fx.env,
    ).done;
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /NO_EXECUTORS|executors registered within 1 ms/);
    const app = (await fx.mc.withClient((c) => c.listApplications()))
      .filter((a) => a.name === 'slow-save')
      .sort((a, b) => b.startedTime - a.startedTime)[0]!;
    assert.equal(`${app.state}/${app.finalStatus}`, 'FINISHED/FAILED', app.diagnostics);
    assert.match(app.diagnostics, /the driver did not start: only \d+ of 2 executors registered within 1 ms/);
  });

  test('client mode, the client interrupted (SIGINT) mid-job: exit 130, FAILED saying so, not SUCCEEDED', async () => {
    const marker = path.join(fx.tmp, 'int-marker');
    const run = submit(
      ['--master', fx.mc.master, ...FAST, SLOW_SAVE, marker, path.join(fx.tmp, 'int-out'), '2000'],
      fx.env,
    );
    const appId = await readWhenWritten(fx.mc, marker, 40_000);
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, r.stderr);
    const rec = await record(fx.mc, appId);
    assert.equal(`${rec.state}/${rec.finalStatus}`, 'FINISHED/FAILED', rec.diagnostics);
    assert.match(rec.diagnostics, /the client was interrupted by SIGINT/);
    await fx.mc.waitFor(() => fx.mc.liveContainerGroups().length === 0, 10_000, 'no container left');
  });

  for (const mode of ['client', 'cluster'] as const)
    test(`${mode} mode, cinder kill mid-job: exit non-zero, KILLED with who killed it, no _SUCCESS`, async () => {
      const marker = path.join(fx.tmp, `kill-${mode}`);
      const out = path.join(fx.tmp, `kill-${mode}-out`);
      const run = submit(
        ['--master', fx.mc.master, '--deploy-mode', mode, ...FAST, SLOW_SAVE, marker, out, '2000'],
        fx.env,
      );
      const appId = await readWhenWritten(fx.mc, marker, 40_000);
      const k = await fx.mc.cli(['kill', appId]);
      assert.equal(k.code, 0, k.stderr);
      const r = await run.done;
      assert.notEqual(r.code, 0, `${r.stdout}\n${r.stderr}`);
      const rec = await record(fx.mc, appId);
      assert.equal(`${rec.state}/${rec.finalStatus}`, 'KILLED/KILLED');
      assert.match(rec.diagnostics, /killed by user \S+/);
      assert.equal(fs.existsSync(path.join(out, '_SUCCESS')), false);
      await fx.mc.waitFor(() => fx.mc.liveContainerGroups().length === 0, 10_000, 'no container left');
    });
});
