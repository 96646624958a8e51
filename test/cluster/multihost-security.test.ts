/**
 * Multi-host tier: the RM, each NM and the client in their own network namespaces with their own
 * addresses (10.213.X.0/24 on a private bridge). Skipped, with the reason, where namespaces are
 * unavailable (not Linux, not root, no `ip netns`).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CINDER, MiniCluster, SUBMIT_SIMPLE } from '../harness/mini-cluster.js';
import { NetLab, netnsUnavailable } from '../harness/netns.js';

const skip = netnsUnavailable();
const done = ['FINISHED', 'FAILED', 'KILLED'];

describe('multi-host cluster: security, limits and cluster down', {
  skip: skip ? `skipped: ${skip}` : false,
  timeout: 120_000,
}, () => {
  let lab: NetLab;
  let mc: MiniCluster;
  const wait = async (appId: string, user = 'alice', ms = 20_000) => {
    let r: Awaited<ReturnType<MiniCluster['status']>> | undefined;
    await mc.waitFor(async () => done.includes((r = await mc.status(appId, user)).state), ms, `${appId} to end`);
    return r!;
  };

  before(async () => {
    lab = NetLab.create(['rm', 'nm1', 'nm2', 'client']);
    mc = await MiniCluster.start({
      nodes: 2,
      rm: { nmLivenessMs: 2000, amLivenessMs: 4000 },
      rmHost: { addr: lab.addr('rm'), prefix: lab.prefix('rm') },
      nmHosts: [
        { addr: lab.addr('nm1'), prefix: lab.prefix('nm1') },
        { addr: lab.addr('nm2'), prefix: lab.prefix('nm2') },
      ],
      clientPrefix: lab.prefix('client'),
    });
  });
  after(async () => {
    await mc?.cleanup();
    if (lab) {
      for (const h of ['rm', 'nm1', 'nm2', 'client']) assert.deepEqual(lab.pids(h), [], `no process left on ${h}`);
      lab.teardown();
    }
  });

  test('hosts really are separate: the test process cannot reach the RM, the client host can', async () => {
    const nodes = await mc.nodes();
    assert.deepEqual(nodes.map((n) => n.host).sort(), [lab.addr('nm1'), lab.addr('nm2')]);
    // clients wait for an unreachable RM (it may be restarting): one second here, not a minute
    const r = await mc.cli(['nodes', '--master', mc.master, '--conf', 'cinder.rm.connect.maxWaitMs=1000']);
    assert.notEqual(r.code, 0, 'no route from the root namespace');
  });

  test('an unauthenticated client is refused and nothing changes', async () => {
    const forged = JSON.parse(fs.readFileSync(mc.identityFile('alice'), 'utf8'));
    forged.token.password = '0'.repeat(64);
    const forgedFile = path.join(mc.dir, 'forged.identity');
    fs.writeFileSync(forgedFile, JSON.stringify(forged), { mode: 0o600 });
    const r = await mc.cli(['kill', 'application_1_0001'], {
      prefix: lab.prefix('client'),
      env: { CINDER_IDENTITY: forgedFile },
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /authentication to 10\.213\.\d+\.1:\d+ refused/);
  });

  test('a request larger than any node and a staged ../../x are refused with clear errors', async () => {
    const big = await mc.submitRemote({ containers: 1, command: ['true'], amMemoryMB: 4096 }, 'alice');
    assert.match(big.error ?? '', /larger than any node \(largest: 2048 MB/);
    const evil = await mc.submitRemote(
      { containers: 1, command: ['true'], files: { '../../x': { data: 'x' } } },
      'alice',
    );
    assert.match(evil.error ?? '', /"\.\.\/\.\.\/x" is not allowed/);
  });

  test('an over-memory container is killed with a diagnostic', async () => {
    const hog = 'const a=[];for(;;){a.push(Buffer.alloc(8<<20,1));await new Promise(r=>setTimeout(r,5))}';
    const { appId } = await mc.submitRemote(
      { containers: 1, memoryMB: 128, command: ['node', '--input-type=module', '-e', hog] },
      'alice',
    );
    const r = await wait(appId!);
    assert.equal(r.finalStatus, 'FAILED');
    assert.match(
      r.diagnostics,
      /-104: Container \S+ is running beyond physical memory limits\. Current usage: [\d.]+ MB of 128\.0 MB/,
    );
  });

  test('cinder cluster up/down on a host leaves no process behind', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-dev-'));
    try {
      const run = (args: string[]) => lab.exec('client', [process.execPath, CINDER, ...args]);
      const up = run([
        'cluster',
        'up',
        '--nodes',
        '2',
        '--dir',
        dir,
        '--memory-mb',
        '2048',
        '--rm-set',
        'minAllocationMB=128',
        '--nm-set',
        'heartbeatMs=200',
      ]);
      assert.equal(up.status, 0, up.stderr);
      const master = up.stdout.trim();
      assert.match(master, /^cinder:\/\/127\.0\.0\.1:\d+$/);
      // the dev cluster's admin identity, as a user on that host would get it by default
      const env = ['env', `CINDER_IDENTITY=${path.join(dir, 'admin.identity')}`];
      const sub = lab.exec('client', [
        ...env,
        process.execPath,
        SUBMIT_SIMPLE,
        JSON.stringify({ master, user: 'alice', containers: 2, command: ['sleep', '30'] }),
      ]);
      const appId = JSON.parse(sub.stdout).appId as string;
      assert.ok(appId, sub.stdout + sub.stderr);
      await mc.waitFor(
        () =>
          JSON.parse(
            lab.exec('client', [...env, process.execPath, CINDER, 'status', appId, '--json', '--dir', dir]).stdout,
          ).runningContainers === 3,
        15_000,
        'dev app running',
      );
      assert.ok(lab.pids('client').length >= 6, 'RM, 2 NMs, AM and 2 containers');
      const down = run(['cluster', 'down', '--dir', dir]);
      assert.equal(down.status, 0, down.stderr);
      assert.deepEqual(lab.pids('client'), [], 'nothing left on the host');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
