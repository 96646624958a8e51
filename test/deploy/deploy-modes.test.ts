/**
 * Deploy modes end to end on real daemons (RM + 2 NMs as processes, same host): `cinder submit`
 * in local, client and cluster mode, with clients, AMs and executors killed at the worst moments.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { ROOT } from '../harness/mini-cluster.js';
import { readWhenWritten } from './outcome-harness.js';
import {
  AM_PROCESS,
  APPS,
  appIdFrom,
  appProcesses,
  deployCluster,
  EXECUTOR_PROCESS,
  FAST,
  outputLines,
  submit,
} from './submit-harness.js';

describe('deploy modes on a 2-node cluster', { timeout: 180_000 }, () => {
  const fx = deployCluster('deploy');
  let input: string;
  before(() => {
    input = path.join(fx.tmp, 'in.txt');
    fs.writeFileSync(input, Array.from({ length: 300 }, (_, i) => `w${i % 17} w${i % 5} common`).join('\n'));
  });

  const master = () => fx.mc.master;
  /** `cinder submit` arguments for cluster mode on the test cluster, then `rest` */
  const inCluster = (...rest: string[]) => ['--master', master(), '--deploy-mode', 'cluster', ...FAST, ...rest];

  test('the same app file gives the same output in local, client and cluster mode', async () => {
    const outs: Record<string, string[]> = {};
    for (const mode of ['local', 'client', 'cluster'] as const) {
      const out = path.join(fx.tmp, `wc-${mode}`);
      const args = mode === 'local' ? ['--master', 'local[2]'] : ['--master', master(), '--deploy-mode', mode, ...FAST];
      const r = await submit([...args, path.join(APPS, 'wc.ts'), input, out], fx.env).done;
      assert.equal(r.code, 0, `${mode}: ${r.stdout}\n${r.stderr}`);
      outs[mode] = outputLines(out);
    }
    assert.ok(outs.local!.includes('common 300'));
    assert.deepEqual(outs.client, outs.local);
    assert.deepEqual(outs.cluster, outs.local);
  });

  test('cluster mode: the client SIGKILLed right after submit does not affect the app; logs hold the driver output', async () => {
    const out = path.join(fx.tmp, 'wc-detached');
    const run = submit(inCluster(path.join(APPS, 'wc.ts'), input, out), fx.env);
    await fx.mc.waitFor(() => /submitted application/.test(run.stdout()), 20_000, 'submission');
    run.child.kill('SIGKILL');
    const appId = appIdFrom(run.stdout());
    const cl = await fx.mc.client();
    try {
      const r = await cl.waitForState(appId, ['FINISHED', 'FAILED', 'KILLED'], 40_000);
      assert.equal(`${r.state}/${r.finalStatus}`, 'FINISHED/SUCCEEDED', r.diagnostics);
      assert.ok(outputLines(out).includes('common 300'));
      await fx.mc.waitFor(
        async () => (await cl.getApplication(appId)).logAggregationStatus === 'SUCCEEDED',
        15_000,
        'log aggregation',
      );
      const logs = await cl.getLogs(appId);
      const am = logs.find((l) => l.containerId.endsWith('_01_000001') && l.file === 'stdout');
      assert.match(am?.data ?? '', /user main started in the AM/);
      // each executor's start-up, from the NM's launch request to registered with the driver, is logged
      const amErr = logs.find((l) => l.containerId.endsWith('_01_000001') && l.file === 'stderr');
      assert.match(amErr?.data ?? '', /"msg":"executor registered"/);
      for (const line of (amErr?.data ?? '').split('\n').filter((l) => l.includes('"executor registered"')))
        assert.match(line, /"launchToRegisterMs":\d+/, line);
      // the tracking address users see is the RM's web proxy for the app (YARN's), not the AM container
      assert.match((await cl.getApplication(appId)).trackingUrl, new RegExp(`^https?://[^/]+:\\d+/proxy/${appId}/$`));
      await fx.mc.waitFor(() => fx.mc.liveContainerGroups().length === 0, 10_000, 'no container process left');
    } finally {
      cl.close();
    }
  });

  test('fire-and-forget (--no-wait) returns at once; --status shows the end later', async () => {
    const out = path.join(fx.tmp, 'wc-nowait');
    const r = await submit(
      ['--master', master(), '--deploy-mode', 'cluster', '--no-wait', ...FAST, path.join(APPS, 'wc.ts'), input, out],
      fx.env,
    ).done;
    assert.equal(r.code, 0, r.stderr);
    const appId = appIdFrom(r.stdout);
    const cl = await fx.mc.client();
    try {
      await cl.waitForState(appId, ['FINISHED', 'FAILED', 'KILLED'], 40_000);
    } finally {
      cl.close();
    }
    const s = await submit(['--master', master(), '--status', appId], fx.env).done;
    assert.match(s.stdout, /state=FINISHED finalStatus=SUCCEEDED/);
  });

  test('client mode: the client SIGKILLed mid-job -> the app ends FAILED within the bound, no container left', async () => {
    const marker = path.join(fx.tmp, 'slow-marker');
    const run = submit(
      [
        '--master',
        master(),
        ...FAST,
        '--conf',
        'cinder.am.driverLeaseMs=3000',
        path.join(APPS, 'slow.ts'),
        marker,
        '500',
        '20',
      ],
      fx.env,
    );
    await fx.mc.waitFor(() => fs.existsSync(marker), 30_000, 'the job to start');
    const cl = await fx.mc.client();
    try {
      const apps = await cl.listApplications({ states: ['RUNNING'] });
      const app = apps.find((a) => a.name === 'slow');
      assert.ok(app, 'the app is RUNNING');
      run.child.kill('SIGKILL');
      const killedAt = Date.now();
      const r = await cl.waitForState(app.id, ['FINISHED', 'FAILED', 'KILLED'], 20_000);
      const took = Date.now() - killedAt;
      assert.equal(r.finalStatus, 'FAILED');
      assert.match(r.diagnostics, /driver disconnected/);
      assert.ok(took <= 10_000, `noticed after ${took} ms`);
      await fx.mc.waitFor(() => fx.mc.liveContainerGroups().length === 0, 10_000, 'all containers gone');
      assert.deepEqual(appProcesses(app.id, EXECUTOR_PROCESS), []);
    } finally {
      cl.close();
    }
  });

  test('cluster mode: the AM SIGKILLed -> a second attempt re-runs main and succeeds', async () => {
    const marker = path.join(fx.tmp, 'am-pid');
    const out = path.join(fx.tmp, 'am-crash-out');
    const run = submit(inCluster(path.join(APPS, 'am-crash.ts'), marker, out), fx.env);
    process.kill(Number(await readWhenWritten(fx.mc, marker, 30_000)), 'SIGKILL');
    const r = await run.done;
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.deepEqual(outputLines(out), ['attempt 2']);
    const cl = await fx.mc.client();
    try {
      assert.equal((await cl.attempts(appIdFrom(r.stdout))).length, 2);
    } finally {
      cl.close();
    }
  });

  test('cluster mode: the AM dying on every attempt -> FAILED/FAILED after the max attempts, with diagnostics', async () => {
    const r = await submit(inCluster(path.join(APPS, 'am-suicide.ts')), fx.env).done;
    assert.notEqual(r.code, 0);
    assert.match(r.stdout, /state=FAILED finalStatus=FAILED/);
    const cl = await fx.mc.client();
    try {
      const appId = appIdFrom(r.stdout);
      assert.equal((await cl.attempts(appId)).length, 2);
      assert.ok((await cl.getApplication(appId)).diagnostics.length > 0);
    } finally {
      cl.close();
    }
  });

  test('client mode: the AM SIGKILLed mid-job -> attempt 2 re-dials the same driver and the job completes', async () => {
    const marker = path.join(fx.tmp, 'slow-am-kill');
    const run = submit(['--master', master(), ...FAST, path.join(APPS, 'slow.ts'), marker, '300', '3'], fx.env);
    const appId = await readWhenWritten(fx.mc, marker, 30_000);
    const am = appProcesses(appId, AM_PROCESS);
    assert.equal(am.length, 1);
    process.kill(am[0]!, 'SIGKILL');
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /total=828/);
    const cl = await fx.mc.client();
    try {
      assert.equal((await cl.attempts(appId)).length, 2);
    } finally {
      cl.close();
    }
  });

  test('an executor SIGKILLed mid-job: the result is still exact', async () => {
    const marker = path.join(fx.tmp, 'slow-marker-2');
    const run = submit(['--master', master(), ...FAST, path.join(APPS, 'slow.ts'), marker, '300', '2'], fx.env);
    await fx.mc.waitFor(() => fs.existsSync(marker), 30_000, 'the job to start');
    const cl = await fx.mc.client();
    let appId: string;
    try {
      appId = (await cl.listApplications({ states: ['RUNNING'] })).find((a) => a.name === 'slow')!.id;
    } finally {
      cl.close();
    }
    await fx.mc.waitFor(() => appProcesses(appId, EXECUTOR_PROCESS).length > 0, 10_000, 'executors');
    process.kill(appProcesses(appId, EXECUTOR_PROCESS)[0]!, 'SIGKILL');
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    // sum of 0..23, twice
    assert.match(r.stdout, /total=552/);
  });

  test('--files: tasks on every node read the shipped file', async () => {
    const b = path.join(fx.tmp, 'b-src.txt');
    fs.writeFileSync(b, 'shipped-content\n');
    for (const mode of ['client', 'cluster']) {
      const out = path.join(fx.tmp, `files-${mode}`);
      const r = await submit(
        [
          '--master',
          master(),
          '--deploy-mode',
          mode,
          ...FAST,
          '--num-executors',
          '4',
          '--files',
          `${b}#b.txt`,
          path.join(APPS, 'files.ts'),
          out,
        ],
        fx.env,
      ).done;
      assert.equal(r.code, 0, `${mode}: ${r.stdout}\n${r.stderr}`);
      const lines = outputLines(out);
      assert.ok(
        lines.every((l) => l.startsWith('shipped-content ')),
        lines.join('\n'),
      );
      assert.deepEqual(
        new Set(lines.map((l) => l.split(' ')[2])),
        new Set(['nm0', 'nm1']),
        `${mode}: ${lines.join('\n')}`,
      );
    }
  });

  test('an app that throws ends FAILED with the user error in status and exit code', async () => {
    const r = await submit(inCluster('--conf', 'cinder.yarn.maxAppAttempts=1', path.join(APPS, 'throws.ts')), fx.env)
      .done;
    assert.notEqual(r.code, 0);
    assert.match(r.stdout, /finalStatus=FAILED/);
    const appId = appIdFrom(r.stdout);
    const s = await submit(['--master', master(), '--status', appId], fx.env).done;
    assert.match(s.stdout, /boom from the user main/);
    const c = await submit(['--master', master(), path.join(APPS, 'throws.ts')], fx.env).done;
    assert.equal(c.code, 1);
    assert.match(c.stderr, /boom from the user main/);
  });

  test('a multi-stage batch app (pagerank) runs in cluster mode and writes where asked', async () => {
    const edges = path.join(fx.tmp, 'edges.txt');
    fs.writeFileSync(edges, 'a b\na c\nb c\nc a\nd c\n');
    const out = path.join(fx.tmp, 'ranks');
    const r = await submit(inCluster(path.join(ROOT, 'examples', 'pagerank.ts'), edges, out, '5'), fx.env).done;
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const ranks = outputLines(out).map((l) => l.split('\t'));
    assert.deepEqual(ranks.map((x) => x[0]).sort(), ['a', 'b', 'c']);
  });

  test('executors that always crash fail the app with the executor-failure diagnostic', async () => {
    const r = await submit(
      inCluster(
        '--conf',
        'cinder.yarn.maxAppAttempts=1',
        '--conf',
        'cinder.executorEnv.NODE_OPTIONS=--no-such-node-flag',
        path.join(APPS, 'wc.ts'),
        input,
        path.join(fx.tmp, 'never-2'),
      ),
      fx.env,
    ).done;
    assert.notEqual(r.code, 0);
    assert.match(r.stdout, /max number of executor failures \(4\) reached/);
  });

  test('a client with a forged identity is refused before anything is staged', async () => {
    const forged = JSON.parse(fs.readFileSync(fx.mc.identityFile(), 'utf8'));
    forged.token.password = '0'.repeat(64);
    const forgedFile = path.join(fx.tmp, 'forged.identity');
    fs.writeFileSync(forgedFile, JSON.stringify(forged), { mode: 0o600 });
    const r = await submit(
      ['--master', master(), '--deploy-mode', 'cluster', path.join(APPS, 'wc.ts'), input, path.join(fx.tmp, 'never')],
      { CINDER_IDENTITY: forgedFile },
    ).done;
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /refused|authentication/i);
    assert.equal(fs.existsSync(path.join(fx.tmp, 'never')), false);
  });

  test('memoryOverhead settings size the containers in both deploy modes (normalized to 128 MB here)', async () => {
    const allocatedWhileRunning = async (args: string[], marker: string): Promise<number> => {
      const run = submit([...args, path.join(APPS, 'slow.ts'), marker, '300', '1'], fx.env);
      await fx.mc.waitFor(() => fs.existsSync(marker), 30_000, 'the job to start');
      const cl = await fx.mc.client();
      try {
        const app = (await cl.listApplications({ states: ['RUNNING'] })).find((a) => a.name === 'slow');
        assert.ok(app, 'the app is RUNNING');
        return app.allocatedMB;
      } finally {
        cl.close();
        const r = await run.done;
        assert.equal(r.code, 0, r.stderr);
      }
    };
    const overheads = ['--conf', 'cinder.executor.memoryOverhead=128m'];
    // client mode: AM 512m + 128m overhead; executors 256m + 128m (the defaults would be 896 + 2 x 640)
    const client = await allocatedWhileRunning(
      ['--master', master(), ...FAST, ...overheads, '--conf', 'cinder.yarn.am.memoryOverhead=128m'],
      path.join(fx.tmp, 'ov-client'),
    );
    assert.equal(client, 640 + 2 * 384);
    // cluster mode: the AM runs the driver, 256m + 128m
    const cluster = await allocatedWhileRunning(
      [...inCluster(...overheads, '--conf', 'cinder.driver.memoryOverhead=128m')],
      path.join(fx.tmp, 'ov-cluster'),
    );
    assert.equal(cluster, 384 + 2 * 384);
  });

  test('bad submissions fail clearly before anything starts', async () => {
    const missing = await submit(['--master', master(), path.join(fx.tmp, 'nope.ts')], fx.env).done;
    assert.match(missing.stderr, /does not exist/);
    const bad = path.join(fx.tmp, 'bad.ts');
    fs.writeFileSync(bad, 'const x: number = ;\n');
    const nocompile = await submit(['--master', 'local[1]', bad], fx.env).done;
    assert.match(nocompile.stderr, /does not compile/);
    const big = await submit(
      [
        '--master',
        master(),
        '--deploy-mode',
        'cluster',
        '--executor-memory',
        '64g',
        path.join(APPS, 'wc.ts'),
        input,
        path.join(fx.tmp, 'x'),
      ],
      fx.env,
    ).done;
    assert.match(big.stderr, /maximum-allocation-mb/);
    // client mode checks its containers before the driver starts, too
    const bigClient = await submit(
      ['--master', master(), '--executor-memory', '64g', path.join(APPS, 'wc.ts'), input, path.join(fx.tmp, 'xc')],
      fx.env,
    ).done;
    assert.notEqual(bigClient.code, 0);
    assert.match(
      bigClient.stderr,
      /executor container needs .*maximum-allocation-mb.*\n.*lower cinder\.executor\.memory/s,
    );
    const manyCores = await submit(
      ['--master', master(), '--executor-cores', '64', path.join(APPS, 'wc.ts'), input, path.join(fx.tmp, 'xv')],
      fx.env,
    ).done;
    assert.match(manyCores.stderr, /64 vcores .*maximum-allocation-vcores/);
    assert.ok(!fs.existsSync(path.join(fx.tmp, 'xc')) && !fs.existsSync(path.join(fx.tmp, 'xv')), 'no output written');
    const unreachable = await submit(
      [
        '--master',
        'cinder://127.0.0.1:1',
        '--deploy-mode',
        'cluster',
        // clients wait for an RM that may be restarting; not a minute here
        '--conf',
        'cinder.rm.connect.maxWaitMs=1000',
        path.join(APPS, 'wc.ts'),
        input,
        path.join(fx.tmp, 'y'),
      ],
      fx.env,
    ).done;
    assert.match(unreachable.stderr, /cannot reach|could not connect/);
    const localCluster = await submit(
      ['--master', 'local[2]', '--deploy-mode', 'cluster', path.join(APPS, 'wc.ts')],
      fx.env,
    ).done;
    assert.match(localCluster.stderr, /not compatible/);
  });
});
