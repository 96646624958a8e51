/**
 * The fault suite: real daemons (an RM and two NMs as processes), real `cinder submit` runs in client
 * and cluster mode, and a fault injected at a chosen point of each run: executors, NMs, AMs, the RM
 * and clients SIGKILLed, an executor frozen and resumed, a task that throws, unwritable output. After
 * each, the same checks: the exact answer or a clear failure, the final status the case calls for,
 * `cinder submit`'s exit code 0 exactly when it SUCCEEDED, a diagnostic on every unsuccessful app, no
 * process of the app left, no NM dir of the app left, 0 MB used on every node, and no RM invariant
 * violation logged (the RM runs with CINDER_CHECK_INVARIANTS=1).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { groupAlive } from '../../src/cluster/nodemanager/process-tree.js';
import { APPS, appProcesses, EXECUTOR_PROCESS, outputLines, type Run, submit } from '../deploy/submit-harness.js';
import { MiniCluster, sharedTempDir } from '../harness/mini-cluster.js';

const FAST = [
  '--conf',
  'cinder.am.heartbeatInterval=300',
  '--conf',
  'cinder.executor.heartbeatInterval=500',
  '--executor-memory',
  '256m',
  '--driver-memory',
  '256m',
  '--num-executors',
  '2',
];

/** What faults.ts writes when nothing goes wrong. */
const EXPECTED = Array.from({ length: 400 }, (_, x) => `${x % 20} ${x} v${x % 20}`).sort();

type Mode = 'client' | 'cluster';

interface Job {
  run: Run;
  marks: string;
  out: string;
  appId(): string;
}

describe('fault suite', { timeout: 900_000 }, () => {
  let mc: MiniCluster;
  let tmp: string;
  let env: Record<string, string>;
  let n = 0;

  before(async () => {
    process.env.CINDER_CHECK_INVARIANTS = '1';
    mc = await MiniCluster.start({
      nodes: 2,
      nodeMemoryMB: 4096,
      rm: { minAllocationMB: 128, nmLivenessMs: 3000, amLivenessMs: 8000 },
    });
    tmp = sharedTempDir('cinder-faults-');
    env = { CINDER_IDENTITY: mc.identityFile() };
  });
  after(async () => {
    delete process.env.CINDER_CHECK_INVARIANTS;
    await mc?.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function start(mode: Mode, opts: { fixture?: string; taskMs?: number; out?: string; extra?: string[] } = {}): Job {
    const id = `j${n++}`;
    const marks = path.join(tmp, `${id}-marks`);
    fs.mkdirSync(marks);
    // the job's tasks (running as the submitting user's uid on root NMs) leave their marks here
    fs.chmodSync(marks, 0o1777);
    const out = opts.out ?? path.join(tmp, `${id}-out`);
    const args = [
      '--master',
      mc.master,
      '--deploy-mode',
      mode,
      ...FAST,
      ...(opts.extra ?? []),
      path.join(APPS, 'faults.ts'),
      out,
      marks,
      String(opts.taskMs ?? 150),
      opts.fixture ?? 'join',
    ];
    const run = submit(args, env);
    return {
      run,
      marks,
      out,
      appId: () => fs.readFileSync(path.join(marks, 'app-id'), 'utf8').trim(),
    };
  }

  async function reached(job: Job, prefix: string, timeoutMs = 40_000): Promise<void> {
    await mc.waitFor(
      () => fs.readdirSync(job.marks).some((f) => f.startsWith(prefix)),
      timeoutMs,
      `a file ${prefix}* in ${job.marks} (submit output so far: ${job.run.stdout()})`,
    );
  }

  /** The node (index) whose NM dir a process runs in. */
  function nodeOf(pid: number): number {
    const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
    const m = /\/nm(\d+)\/work\//.exec(cwd);
    if (!m) throw new Error(`process ${pid} does not run in an NM work dir (${cwd})`);
    return Number(m[1]);
  }

  /** After a reconcile: every container the RM holds RUNNING has a live process group on its node. */
  async function rmMatchesNodes(appId: string): Promise<void> {
    const report = await mc.withClient((c) => c.getApplication(appId));
    for (const c of report.containers.filter((x) => x.state === 'RUNNING')) {
      const i = mc.nms.findIndex((_, j) => mc.nodeId(j) === c.nodeId);
      const pidFile = path.join(mc.dir, `nm${i}`, 'pids', c.id);
      assert.ok(fs.existsSync(pidFile), `${c.id} is RUNNING on the RM; its node has no pid file for it`);
      assert.ok(
        groupAlive(Number(fs.readFileSync(pidFile, 'utf8'))),
        `${c.id} is RUNNING on the RM but not on ${c.nodeId}`,
      );
    }
  }

  function executors(job: Job): number[] {
    return appProcesses(job.appId(), EXECUTOR_PROCESS);
  }

  /** The checks every case ends with. */
  async function settled(
    job: Job,
    want: { finalStatus: 'SUCCEEDED' | 'FAILED' | 'KILLED'; code?: 'zero' | 'nonzero'; output?: 'exact' | 'none' },
  ): Promise<{ stdout: string; stderr: string; diagnostics: string }> {
    const r = await job.run.done;
    const appId = job.appId();
    const report = await mc.withClient(async (c) => {
      await mc.waitFor(
        async () => ['FINISHED', 'FAILED', 'KILLED'].includes((await c.getApplication(appId)).state),
        30_000,
        `${appId} to end`,
      );
      return c.getApplication(appId);
    });
    const ctx = `${appId}: ${report.state}/${report.finalStatus} (${report.diagnostics})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
    assert.equal(report.finalStatus, want.finalStatus, ctx);
    if (want.finalStatus === 'SUCCEEDED') assert.equal(r.code, 0, ctx);
    else {
      assert.notEqual(r.code, 0, ctx);
      assert.ok(report.diagnostics.trim().length > 0, `an unsuccessful app says why: ${ctx}`);
    }
    if (want.output === 'exact') assert.deepEqual(outputLines(job.out), EXPECTED);
    if (want.output === 'none')
      assert.ok(!fs.existsSync(path.join(job.out, '_SUCCESS')), 'no _SUCCESS marker for a failed write');
    await mc.waitFor(() => appProcesses(appId, '').length === 0, 20_000, `no process of ${appId} left`);
    await mc.waitFor(
      async () => (await mc.nodes()).every((x) => x.state !== 'RUNNING' || x.used.memoryMB === 0),
      20_000,
      '0 MB used on every node',
    );
    await mc.waitFor(
      () =>
        mc.nms.every(
          (_, i) =>
            !fs.existsSync(path.join(mc.dir, `nm${i}`, 'work', appId)) &&
            !fs.existsSync(path.join(mc.dir, `nm${i}`, 'logs', appId)),
        ),
      20_000,
      `no NM dir of ${appId} left`,
    );
    const rmLog = fs.readFileSync(mc.rm.log, 'utf8');
    assert.ok(
      !rmLog.includes('RM invariant violated'),
      rmLog
        .split('\n')
        .filter((l) => l.includes('invariant'))
        .join('\n'),
    );
    return { stdout: r.stdout, stderr: r.stderr, diagnostics: report.diagnostics };
  }

  test('executor SIGKILLed in the map stage (cluster mode): exact answer', async () => {
    const job = start('cluster');
    await reached(job, 'map-');
    process.kill(executors(job)[0]!, 'SIGKILL');
    await settled(job, { finalStatus: 'SUCCEEDED', output: 'exact' });
  });

  test('executor SIGKILLed in the reduce stage of a join (client mode): exact answer', async () => {
    const job = start('client');
    await reached(job, 'reduce-');
    process.kill(executors(job)[0]!, 'SIGKILL');
    await settled(job, { finalStatus: 'SUCCEEDED', output: 'exact' });
  });

  test('executor frozen with SIGSTOP, then resumed: exact answer', async () => {
    const job = start('client');
    await reached(job, 'map-');
    const pid = executors(job)[0]!;
    process.kill(pid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 2500));
    process.kill(pid, 'SIGCONT');
    await settled(job, { finalStatus: 'SUCCEEDED', output: 'exact' });
  });

  test('a task that throws: FAILED, the user error in the diagnostics and on stderr, non-zero exit', async () => {
    const job = start('client', { fixture: 'throw', extra: ['--conf', 'cinder.task.maxFailures=2'] });
    const r = await settled(job, { finalStatus: 'FAILED', output: 'none' });
    assert.match(r.diagnostics, /boom from reduce task 2/);
    assert.match(r.stderr, /boom from reduce task 2/);
  });

  test('read-only output location: FAILED with a clear error naming the path', async () => {
    const ro = path.join(tmp, 'ro');
    fs.mkdirSync(ro);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro]);
    try {
      const job = start('cluster', { out: path.join(ro, 'out') });
      const r = await settled(job, { finalStatus: 'FAILED', output: 'none' });
      assert.match(r.diagnostics, /read-only file system/i);
      assert.match(r.diagnostics, new RegExp(ro));
    } finally {
      execFileSync('umount', [ro]);
    }
  });

  test('full disk under the output: FAILED with a clear error, no _SUCCESS', async () => {
    const full = path.join(tmp, 'full');
    fs.mkdirSync(full);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', full]);
    try {
      fs.writeFileSync(path.join(full, 'filler'), Buffer.alloc(12 * 1024));
      const job = start('client', { out: path.join(full, 'out') });
      const r = await settled(job, { finalStatus: 'FAILED', output: 'none' });
      assert.match(r.diagnostics, /no space left/i);
      assert.match(r.diagnostics, new RegExp(full));
    } finally {
      execFileSync('umount', [full]);
    }
  });

  test('AM SIGKILLed (cluster mode): attempt 2 re-runs main, exact answer', async () => {
    const job = start('cluster');
    await reached(job, 'map-');
    const am = appProcesses(job.appId(), 'application-master');
    assert.equal(am.length, 1);
    process.kill(am[0]!, 'SIGKILL');
    await settled(job, { finalStatus: 'SUCCEEDED', output: 'exact' });
  });

  test('AM SIGKILLed (client mode): attempt 2 re-dials the driver, exact answer', async () => {
    const job = start('client');
    await reached(job, 'map-');
    process.kill(appProcesses(job.appId(), 'application-master')[0]!, 'SIGKILL');
    await settled(job, { finalStatus: 'SUCCEEDED', output: 'exact' });
  });

  test('AM SIGKILLed near the end (client mode): RM status, exit code and output agree', async () => {
    const job = start('client', { fixture: 'wait-kill' });
    await reached(job, 'written');
    process.kill(appProcesses(job.appId(), 'application-master')[0]!, 'SIGKILL');
    fs.writeFileSync(path.join(job.marks, 'go'), '');
    await settled(job, { finalStatus: 'SUCCEEDED', output: 'exact' });
  });

  test('AM SIGKILLed near the end (cluster mode): attempt 2 re-runs main and keeps the committed output', async () => {
    const job = start('cluster', { fixture: 'wait-kill' });
    await reached(job, 'written');
    process.kill(appProcesses(job.appId(), 'application-master')[0]!, 'SIGKILL');
    fs.writeFileSync(path.join(job.marks, 'go'), '');
    await settled(job, { finalStatus: 'SUCCEEDED', output: 'exact' });
    const attempts = await mc.withClient((c) => c.attempts(job.appId()));
    assert.equal(attempts.length, 2);
  });

  test('client SIGKILLed (client mode): FAILED saying the client was lost, nothing left running', async () => {
    const job = start('client');
    await reached(job, 'map-');
    job.run.child.kill('SIGKILL');
    const r = await settled(job, { finalStatus: 'FAILED' });
    assert.match(r.diagnostics, /client|driver/i);
  });

  test('RM SIGKILLed while a client-mode job runs; the driver finishes while it is down; restarted: SUCCEEDED, exit 0', async () => {
    const job = start('client', { fixture: 'wait-kill' });
    await reached(job, 'written');
    await mc.killRm('SIGKILL');
    fs.writeFileSync(path.join(job.marks, 'go'), '');
    await new Promise((r) => setTimeout(r, 1500));
    await mc.restartRm();
    await settled(job, { finalStatus: 'SUCCEEDED', output: 'exact' });
  });

  test('RM SIGKILLed and restarted during a cluster-mode job: the waiting client reports SUCCEEDED, exit 0', async () => {
    const job = start('cluster', { taskMs: 300 });
    await reached(job, 'map-');
    await mc.killRm('SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    await mc.restartRm();
    await mc.waitFor(
      async () => (await mc.nodes()).filter((x) => x.state === 'RUNNING').length === 2,
      10_000,
      'both nodes re-registered',
    );
    await rmMatchesNodes(job.appId());
    await settled(job, { finalStatus: 'SUCCEEDED', output: 'exact' });
  });

  test('RM restarted mid-job, then every executor SIGKILLed: the recovered app gets replacements, exact answer', async () => {
    const job = start('client', { taskMs: 300 });
    await reached(job, 'map-');
    await mc.killRm('SIGKILL');
    await mc.restartRm();
    await mc.waitFor(
      async () => (await mc.nodes()).filter((x) => x.state === 'RUNNING').length === 2,
      10_000,
      'both nodes re-registered',
    );
    const before = executors(job);
    for (const p of before) process.kill(p, 'SIGKILL');
    // the job can only finish on executors the restarted RM places for the recovered app
    await settled(job, { finalStatus: 'SUCCEEDED', output: 'exact' });
  });

  test('NM SIGKILLed and not restarted (client mode): its executors are replaced, exact answer', async () => {
    const job = start('client', { taskMs: 300 });
    await reached(job, 'map-');
    const am = appProcesses(job.appId(), 'application-master')[0]!;
    const victim = executors(job)
      .map(nodeOf)
      .find((i) => i !== nodeOf(am));
    assert.ok(victim !== undefined, 'an executor runs on the node without the AM');
    await mc.killNode(victim, 'SIGKILL');
    await job.run.done;
    // the dead node's dirs can only go when it comes back: the RM hands it the ended app to clean up
    await mc.restartNode(victim);
    await mc.waitFor(
      async () => (await mc.nodes()).filter((x) => x.state === 'RUNNING').length === 2,
      20_000,
      'the node back',
    );
    await settled(job, { finalStatus: 'SUCCEEDED', output: 'exact' });
  });

  test('NM SIGKILLed and restarted on the same dir: its containers are kept, exact answer, exact books', async () => {
    const job = start('client', { taskMs: 300 });
    await reached(job, 'map-');
    const pids = executors(job);
    const victim = nodeOf(pids[0]!);
    const onVictim = pids.filter((p) => nodeOf(p) === victim);
    await mc.killNode(victim, 'SIGKILL');
    await mc.restartNode(victim);
    for (const p of onVictim) assert.ok(fs.existsSync(`/proc/${p}`), `executor ${p} survived the NM restart`);
    await rmMatchesNodes(job.appId());
    await settled(job, { finalStatus: 'SUCCEEDED', output: 'exact' });
  });

  test('two apps at once, an executor of one SIGKILLed: both exact', async () => {
    const a = start('client');
    const b = start('cluster');
    await reached(a, 'reduce-');
    process.kill(executors(a)[0]!, 'SIGKILL');
    await settled(a, { finalStatus: 'SUCCEEDED', output: 'exact' });
    await settled(b, { finalStatus: 'SUCCEEDED', output: 'exact' });
  });
});
