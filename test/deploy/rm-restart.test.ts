/**
 * Every client of the RM across an RM SIGKILL + restart on the same port (real processes): `cinder
 * submit` in cluster mode waiting for the end, the client-mode driver and its AM, and the CLI. The exit
 * code, the RM's final record and the output agree; past the retry window a client fails clearly.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  amLogOnDisk,
  cliLive,
  FAST,
  outcome,
  readWhenWritten,
  record,
  SLOW_SAVE,
  SLOW_SAVE_LINES,
} from './outcome-harness.js';
import { deployCluster, outputLines, submit } from './submit-harness.js';

describe('clients across an RM restart', { timeout: 170_000 }, () => {
  const fx = deployCluster('rm-restart', { amLivenessMs: 15_000 });

  for (const mode of ['cluster', 'client'] as const)
    test(`${mode} mode: RM SIGKILLed and restarted mid-job -> submit exits 0, the RM records SUCCEEDED, the output is complete`, async () => {
      const marker = path.join(fx.tmp, `${mode}-marker`);
      const out = path.join(fx.tmp, `${mode}-out`);
      const run = submit(
        ['--master', fx.mc.master, '--deploy-mode', mode, ...FAST, SLOW_SAVE, marker, out, '400'],
        fx.env,
      );
      const appId = await readWhenWritten(fx.mc, marker, 40_000);
      await fx.mc.killRm();
      await fx.mc.restartRm();
      const r = await run.done;
      const rec = await record(fx.mc, appId);
      assert.equal(
        `${rec.state}/${rec.finalStatus}`,
        'FINISHED/SUCCEEDED',
        `${rec.diagnostics}\n${r.stdout}\n${r.stderr}`,
      );
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      // when the client noticed the restart (it polls every 250 ms; a fast restart can fall between polls), it
      // said so once, not once per retry
      const warned = r.stderr.match(/ResourceManager at \S+ unreachable, retrying for up to 60 s/g)?.length ?? 0;
      assert.ok(warned <= 1, r.stderr);
      assert.deepEqual(outputLines(out), SLOW_SAVE_LINES);
      await fx.mc.waitFor(() => fx.mc.liveContainerGroups().length === 0, 10_000, 'no container left');
    });

  for (const mode of ['cluster', 'client'] as const)
    test(`${mode} mode: the RM down while the driver ends -> the unregister waits for it; exit 0, SUCCEEDED, output complete`, async () => {
      const marker = path.join(fx.tmp, `${mode}-end-marker`);
      const out = path.join(fx.tmp, `${mode}-end-out`);
      const hold = path.join(fx.tmp, `${mode}-end-hold`);
      const run = submit(
        ['--master', fx.mc.master, '--deploy-mode', mode, ...FAST, SLOW_SAVE, marker, out, '1', hold],
        fx.env,
      );
      const appId = await readWhenWritten(fx.mc, marker, 40_000);
      await fx.mc.waitFor(() => fs.existsSync(`${hold}.ready`), 30_000, 'the output to be committed');
      await fx.mc.killRm();
      fs.writeFileSync(hold, '');
      // the AM has the driver's result and is trying to unregister with an RM that is down
      await fx.mc.waitFor(() => /driver finished: SUCCEEDED/.test(amLogOnDisk(fx.mc, appId)), 20_000, 'the driver end');
      assert.doesNotMatch(amLogOnDisk(fx.mc, appId), /unregistered|CLIENT_LOST/);
      await fx.mc.restartRm();
      const r = await run.done;
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.equal(await outcome(fx.mc, appId), 'FINISHED/SUCCEEDED');
      assert.equal((await record(fx.mc, appId)).attempts, 1);
      assert.deepEqual(outputLines(out), SLOW_SAVE_LINES);
    });

  test('cinder status started while the RM is down waits for it, and says so once', async () => {
    const appId = (await fx.mc.withClient((c) => c.listApplications()))[0]!.id;
    await fx.mc.killRm();
    const st = cliLive(fx.mc, ['status', appId, '--json']);
    await fx.mc.waitFor(() => /unreachable, retrying for up to 60 s/.test(st.stderr()), 10_000, 'the retry warning');
    await fx.mc.restartRm();
    const r = await st.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).id, appId);
    assert.equal(r.stderr.match(/unreachable, retrying/g)?.length, 1, r.stderr);
    assert.equal(await outcome(fx.mc, appId), 'FINISHED/SUCCEEDED');
  });

  test('with the RM gone for longer than cinder.rm.connect.maxWaitMs, the CLI fails clearly after the window', async () => {
    const confDir = path.join(fx.tmp, 'conf');
    fs.mkdirSync(confDir, { recursive: true });
    fs.writeFileSync(path.join(confDir, 'cinder-defaults.conf'), 'cinder.rm.connect.maxWaitMs 2000\n');
    await fx.mc.killRm();
    try {
      const t0 = Date.now();
      const r = await cliLive(fx.mc, ['apps'], { CINDER_CONF_DIR: confDir }).done;
      const took = Date.now() - t0;
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /ResourceManager at 127\.0\.0\.1:\d+ unreachable, retrying for up to 2 s/);
      assert.match(r.stderr, /could not reach the ResourceManager at 127\.0\.0\.1:\d+ within 2 s/);
      assert.ok(took >= 2_000 && took < 12_000, `gave up after ${took} ms`);
    } finally {
      await fx.mc.restartRm();
    }
  });
});
