/**
 * A service whose main returns stays up (decision 0019): `cinder submit` keeps the context while the
 * app has handles of its own (its HTTP server, a timer, a running job) and stops it once the event loop
 * has nothing else left. `cinder kill` of such a client-mode app ends the driver process, non-zero.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { FAST, record } from './outcome-harness.js';
import { AM_PROCESS, APPS, appProcesses, deployCluster, EXECUTOR_PROCESS, type Run, submit } from './submit-harness.js';

const SERVICE = path.join(APPS, 'http-service.ts');

async function get(port: number, p: string): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}${p}`);
  return (await r.text()).trim();
}

describe('a service whose main returns', { timeout: 240_000 }, () => {
  const fx = deployCluster('stays-up');

  async function start(name: string, master: string[]): Promise<{ run: Run; port: number; appId: string }> {
    const ready = path.join(fx.tmp, `${name}-ready`);
    const run = submit([...master, ...FAST, SERVICE, ready], fx.env);
    await fx.mc.waitFor(() => fs.existsSync(ready) || run.child.exitCode !== null, 40_000, `${name} to listen`);
    assert.ok(fs.existsSync(ready), `the service did not start:\n${run.stderr()}`);
    const [port, appId] = fs.readFileSync(ready, 'utf8').split(' ');
    // its main has returned (the ready file is written from the listen callback, after the top-level code):
    // what follows runs on a context that outlived it. In cluster mode main's output is in the AM's log.
    if (!master.includes('cluster'))
      await fx.mc.waitFor(() => run.stdout().includes('main returned'), 10_000, 'main to return');
    return { run, port: Number(port), appId: appId! };
  }

  test('local mode: jobs answer requests after main returned; a timer job still runs; then it exits 0', async () => {
    const { run, port } = await start('local', ['--master', 'local[2]']);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(run.child.exitCode, null, 'the driver is still up');
    assert.equal(await get(port, '/sum'), 'sum 20');
    assert.equal(await get(port, '/sum'), 'sum 20');
    // the server closes; the timer and then its job keep the process up until the job is done
    assert.equal(await get(port, '/later'), 'later');
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^later 12$/m);
  });

  test('client mode: answers after main returned; closing its server ends it FINISHED/SUCCEEDED, exit 0', async () => {
    const { run, port, appId } = await start('client', ['--master', fx.mc.master]);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await get(port, '/sum'), 'sum 20');
    assert.equal(`${(await record(fx.mc, appId)).state}`, 'RUNNING');
    assert.equal(await get(port, '/quit'), 'bye');
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    const rec = await record(fx.mc, appId);
    assert.equal(`${rec.state}/${rec.finalStatus}`, 'FINISHED/SUCCEEDED', rec.diagnostics);
    await fx.mc.waitFor(() => fx.mc.liveContainerGroups().length === 0, 10_000, 'containers released');
  });

  test('cluster mode: the driver in the AM answers after main returned; closing its server ends it SUCCEEDED', async () => {
    const { run, port, appId } = await start('cluster', ['--master', fx.mc.master, '--deploy-mode', 'cluster']);
    // well after main returned, the context still runs jobs
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(await get(port, '/sum'), 'sum 20');
    assert.equal(await get(port, '/sum'), 'sum 20');
    assert.equal(`${(await record(fx.mc, appId)).state}`, 'RUNNING');
    assert.equal(run.child.exitCode, null, 'cinder submit still waits for the app');
    const t0 = Date.now();
    assert.equal(await get(port, '/quit'), 'bye');
    const r = await run.done;
    assert.ok(Date.now() - t0 < 20_000, `the app took ${Date.now() - t0} ms to end after its server closed`);
    assert.equal(r.code, 0, r.stderr);
    const rec = await record(fx.mc, appId);
    assert.equal(`${rec.state}/${rec.finalStatus}`, 'FINISHED/SUCCEEDED', rec.diagnostics);
    await fx.mc.waitFor(() => fx.mc.liveContainerGroups().length === 0, 10_000, 'containers released');
    assert.deepEqual(appProcesses(appId, EXECUTOR_PROCESS), []);
  });

  test('cluster mode: cinder kill of a service that outlived its main ends it KILLED', async () => {
    const { run, port, appId } = await start('cluster-kill', ['--master', fx.mc.master, '--deploy-mode', 'cluster']);
    assert.equal(await get(port, '/sum'), 'sum 20');
    const k = await fx.mc.cli(['kill', appId]);
    assert.equal(k.code, 0, k.stderr);
    const r = await run.done;
    assert.notEqual(r.code, 0, 'cinder submit reports the killed app');
    const rec = await record(fx.mc, appId);
    assert.equal(`${rec.state}/${rec.finalStatus}`, 'KILLED/KILLED');
    await fx.mc.waitFor(() => fx.mc.liveContainerGroups().length === 0, 15_000, 'containers released');
    assert.deepEqual(appProcesses(appId, EXECUTOR_PROCESS), []);
    await fx.mc.waitFor(() => appProcesses(appId, AM_PROCESS).length === 0, 15_000, 'the AM to end');
  });

  test('client mode: cinder kill ends the driver process, non-zero, saying the app was killed', async () => {
    const { run, port, appId } = await start('kill', ['--master', fx.mc.master]);
    assert.equal(await get(port, '/sum'), 'sum 20');
    const t0 = Date.now();
    const k = await fx.mc.cli(['kill', appId]);
    assert.equal(k.code, 0, k.stderr);
    const r = await run.done;
    assert.equal(r.code, 1, r.stderr);
    assert.ok(Date.now() - t0 < 15_000, `the driver took ${Date.now() - t0} ms to stop`);
    assert.match(r.stderr, new RegExp(`application ${appId} ended on the cluster: KILLED/KILLED.*stopping the driver`));
    const rec = await record(fx.mc, appId);
    assert.equal(`${rec.state}/${rec.finalStatus}`, 'KILLED/KILLED');
    await fx.mc.waitFor(() => fx.mc.liveContainerGroups().length === 0, 10_000, 'containers released');
    assert.deepEqual(appProcesses(appId, EXECUTOR_PROCESS), []);
  });
});
