/**
 * The seed's always-on product: a long-lived client-mode service running 1,000+ jobs on one context
 * keeps its memory, open files, disk use and process count flat, and SIGTERM stops it cleanly.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ROOT } from '../harness/mini-cluster.js';
import { appProcesses, deployCluster, EXECUTOR_PROCESS, submit } from './submit-harness.js';

function shuffleFiles(dir: string): number {
  let n = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (e.name.endsWith('.data')) n++;
    }
  };
  walk(dir);
  return n;
}

describe('long-lived client-mode service', { timeout: 150_000 }, () => {
  const fx = deployCluster('service');

  test('1,000+ jobs with flat resources, then SIGTERM releases everything and records the final status', async () => {
    const run = submit(
      [
        '--master',
        fx.mc.master,
        '--conf',
        'cinder.am.heartbeatInterval=300',
        '--conf',
        'cinder.cleaner.periodicGC.interval=2000',
        '--executor-memory',
        '256m',
        path.join(ROOT, 'examples', 'service.ts'),
        '--tick-ms',
        '0',
      ],
      fx.env,
    );
    const stats = () =>
      run
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('stats '))
        .map((l) => JSON.parse(l.slice(6)) as { jobs: number; rssMB: number; fds: number; children: number });
    await fx.mc.waitFor(() => stats().some((s) => s.jobs >= 300), 60_000, '300 jobs');
    const early = stats().find((s) => s.jobs === 300)!;
    const appId = /app (application_\d+_\d+)/.exec(run.stdout())![1]!;
    await fx.mc.waitFor(() => stats().some((s) => s.jobs >= 1100), 90_000, '1,100 jobs');
    const late = stats().find((s) => s.jobs === 1100)!;
    assert.ok(Math.abs(late.fds - early.fds) <= 3, `open fds ${early.fds} -> ${late.fds}`);
    assert.equal(late.children, early.children, 'child processes');
    assert.ok(late.rssMB - early.rssMB < 60, `driver RSS ${early.rssMB} -> ${late.rssMB} MB`);
    // shuffle files of finished jobs are removed on the executors (at most a few GC intervals' worth remain)
    assert.ok(shuffleFiles(fx.mc.dir) < 800, `${shuffleFiles(fx.mc.dir)} shuffle files on the nodes`);
    run.child.kill('SIGTERM');
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    const cl = await fx.mc.client();
    try {
      const rep = await cl.waitForState(appId, ['FINISHED', 'FAILED', 'KILLED'], 20_000);
      assert.equal(`${rep.state}/${rep.finalStatus}`, 'FINISHED/SUCCEEDED', rep.diagnostics);
    } finally {
      cl.close();
    }
    await fx.mc.waitFor(() => fx.mc.liveContainerGroups().length === 0, 10_000, 'containers released');
    assert.deepEqual(appProcesses(appId, EXECUTOR_PROCESS), []);
  });
});
