/**
 * Multi-host tier: the RM, each NM and the client in their own network namespaces with their own
 * addresses (10.213.X.0/24 on a private bridge). Skipped, with the reason, where namespaces are
 * unavailable (not Linux, not root, no `ip netns`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MiniCluster } from '../harness/mini-cluster.js';
import { NetLab, netnsUnavailable } from '../harness/netns.js';

const skip = netnsUnavailable();
const done = ['FINISHED', 'FAILED', 'KILLED'];

describe('multi-host cluster: node loss, partitions and RM restart', {
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

  test('NM SIGKILLed: node LOST within the timeout, its containers reported to the AM, app still succeeds; the NM comes back and re-registers', async () => {
    const { appId } = await mc.submitRemote({ containers: 2, command: ['sleep', '6'] }, 'alice');
    let st = await mc.status(appId!, 'alice');
    await mc.waitFor(
      async () => (st = await mc.status(appId!, 'alice')).runningContainers === 3,
      15_000,
      'containers running',
    );
    const amNode = st.attemptList[0]!.nodeId;
    const victim = mc.nodeId(0) === amNode ? 1 : 0;
    const t0 = Date.now();
    await mc.killNode(victim);
    await mc.waitFor(
      async () => (await mc.nodes()).some((n) => n.nodeId === mc.nodeId(victim) && n.state === 'LOST'),
      8_000,
      'LOST',
    );
    assert.ok(Date.now() - t0 < 6_000, 'LOST within liveness timeout + check interval');
    const r = await wait(appId!);
    assert.deepEqual([r.state, r.finalStatus], ['FINISHED', 'SUCCEEDED'], r.diagnostics);
    let logs = '';
    await mc.waitFor(
      async () => {
        const l = await mc.cli(['logs', appId!, '--container', st.attemptList[0]!.amContainerId!], {
          prefix: lab.prefix('client'),
          user: 'alice',
        });
        logs = l.stdout;
        return /finished SUCCEEDED/.test(logs);
      },
      10_000,
      'AM logs',
    );
    assert.match(logs, /exit -100 container lost: node \S+ is LOST/);
    await mc.restartNode(victim);
    await mc.waitFor(
      async () => (await mc.nodes()).filter((n) => n.state === 'RUNNING').length === 2,
      8_000,
      're-registered',
    );
  });

  test('a node cut off the network goes LOST and re-registers when its link is restored', async () => {
    lab.cut('nm2');
    await mc.waitFor(
      async () => (await mc.nodes()).some((n) => n.nodeId === mc.nodeId(1) && n.state === 'LOST'),
      8_000,
      'LOST',
    );
    lab.restore('nm2');
    await mc.waitFor(async () => (await mc.nodes()).filter((n) => n.state === 'RUNNING').length === 2, 15_000, 'back');
  });

  test('RM SIGKILLed and restarted: apps and nodes recovered, a running app finishes', async () => {
    const { appId } = await mc.submitRemote({ containers: 2, command: ['sleep', '8'] }, 'alice');
    await mc.waitFor(async () => (await mc.status(appId!, 'alice')).runningContainers === 3, 15_000, 'running');
    await mc.killRm();
    await mc.restartRm();
    assert.equal((await mc.status(appId!, 'alice')).state, 'RUNNING');
    await mc.waitFor(
      async () => (await mc.nodes()).filter((n) => n.state === 'RUNNING').length === 2,
      8_000,
      'nodes recovered',
    );
    const r = await wait(appId!);
    assert.deepEqual([r.state, r.finalStatus, r.attempts], ['FINISHED', 'SUCCEEDED', 1], r.diagnostics);
  });
});
