/** End-to-end failure handling on real daemons: node loss and return, RM restart (work-preserving), AM failures and expiry. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MiniCluster } from '../harness/mini-cluster.js';

describe('cluster failures', { timeout: 90_000 }, () => {
  let mc: MiniCluster;
  before(async () => {
    mc = await MiniCluster.start({ nodes: 2, rm: { nmLivenessMs: 2000, amLivenessMs: 3000 } });
  });
  after(async () => {
    await mc?.cleanup();
  });

  test('a SIGKILLed NM becomes LOST within the timeout, its containers reach the AM as -100, and it re-registers when back', async () => {
    const cl = await mc.client('alice');
    try {
      const appId = await mc.submitSimple(cl, { containers: 2, command: ['sleep', '4'] });
      await mc.waitFor(
        async () => (await cl.getApplication(appId)).runningContainers === 3,
        15_000,
        'AM + 2 containers',
      );
      const [at] = await cl.attempts(appId);
      const amNode = at!.nodeId!;
      const victim = mc.nodeId(0) === amNode ? 1 : 0;
      const onVictim = (await cl.nodes()).find((n) => n.nodeId === mc.nodeId(victim))!.numContainers;
      assert.ok(onVictim >= 1, 'spread placement put containers on the non-AM node');
      const t0 = Date.now();
      await mc.killNode(victim);
      await mc.waitFor(
        async () => (await cl.nodes(['LOST'])).some((n) => n.nodeId === mc.nodeId(victim)),
        6_000,
        'node LOST',
      );
      const lostAfter = Date.now() - t0;
      assert.ok(lostAfter >= 1_500 && lostAfter < 5_000, `LOST after ${lostAfter} ms (liveness 2000 ms)`);
      const r = await cl.waitForState(appId, ['FINISHED', 'FAILED', 'KILLED'], 20_000);
      assert.deepEqual([r.state, r.finalStatus], ['FINISHED', 'SUCCEEDED'], r.diagnostics);
      await mc.waitFor(
        async () => (await cl.getApplication(appId)).logAggregationStatus === 'SUCCEEDED',
        10_000,
        'AM logs',
      );
      const amOut = (await cl.getLogs(appId)).find(
        (l) => l.containerId === at!.amContainerId && l.file === 'stdout',
      )!.data;
      assert.match(amOut, new RegExp(`node lost ${mc.nodeId(victim).replace(/\./g, '\\.')}`));
      assert.match(amOut, /exit -100 container lost: node \S+ is LOST/);
      assert.match(amOut, /re-asking for a container/);
      await mc.restartNode(victim);
      await mc.waitFor(async () => (await cl.nodes(['RUNNING'])).length === 2, 5_000, 'node re-registered');
    } finally {
      cl.close();
    }
  });

  test('a gracefully stopped NM is SHUTDOWN at once (no liveness wait) and RUNNING again when restarted', async () => {
    const t0 = Date.now();
    await mc.killNode(1, 'SIGTERM');
    const nodes = await mc.withClient((c) => c.nodes());
    assert.equal(nodes.find((n) => n.nodeId === mc.nodeId(1))?.state, 'SHUTDOWN');
    assert.ok(Date.now() - t0 < 2_000);
    await mc.restartNode(1);
    await mc.waitFor(async () => (await mc.withClient((c) => c.nodes(['RUNNING']))).length === 2, 5_000, 'back');
  });

  test('RM SIGKILLed and restarted: apps and nodes are recovered and a running app finishes', async () => {
    const cl0 = await mc.client('alice');
    const done = await mc.submitSimple(cl0, { containers: 1, command: ['true'] });
    await cl0.waitForState(done, ['FINISHED'], 15_000);
    const appId = await mc.submitSimple(cl0, { containers: 2, command: ['sleep', '8'] });
    await mc.waitFor(
      async () => (await cl0.getApplication(appId)).runningContainers === 3,
      15_000,
      'containers running',
    );
    cl0.close();
    await mc.killRm();
    await mc.restartRm();
    const cl = await mc.client('alice');
    try {
      assert.equal((await cl.getApplication(done)).finalStatus, 'SUCCEEDED', 'finished app remembered');
      assert.equal((await cl.getApplication(appId)).state, 'RUNNING', 'running app recovered');
      await mc.waitFor(async () => (await cl.nodes(['RUNNING'])).length === 2, 5_000, 'nodes re-registered');
      await mc.waitFor(
        async () => (await cl.getApplication(appId)).runningContainers >= 1,
        5_000,
        'containers recovered from NM reports',
      );
      const r = await cl.waitForState(appId, ['FINISHED', 'FAILED', 'KILLED'], 20_000);
      assert.deepEqual([r.state, r.finalStatus], ['FINISHED', 'SUCCEEDED'], r.diagnostics);
      assert.equal(r.attempts, 1, 'the AM survived the RM restart');
    } finally {
      cl.close();
    }
  });

  test('an AM that exits without finishing fails its attempt; after max attempts the app FAILS with diagnostics', async () => {
    const cl = await mc.client('alice');
    try {
      const { appId } = await cl.newApplication();
      await cl.submitApplication({
        appId,
        maxAttempts: 5,
        amResource: { memoryMB: 128, vcores: 1 },
        amLaunchContext: { command: ['/bin/sh', '-c', 'echo dying >&2; exit 3'] },
      });
      const r = await cl.waitForState(appId, ['FAILED', 'FINISHED', 'KILLED'], 15_000);
      assert.deepEqual([r.state, r.finalStatus], ['FAILED', 'FAILED']);
      assert.equal(r.attempts, 2, 'capped by the cluster max attempts (2)');
      assert.match(r.diagnostics, /failed 2 times .*AM container \S+ on \S+ exited with status 3/);
      const atts = await cl.attempts(appId);
      assert.deepEqual(
        atts.map((a) => a.state),
        ['FAILED', 'FAILED'],
      );
    } finally {
      cl.close();
    }
  });

  test('an AM that never heartbeats is expired and its attempt fails', async () => {
    const cl = await mc.client('alice');
    try {
      const { appId } = await cl.newApplication();
      await cl.submitApplication({
        appId,
        maxAttempts: 1,
        amResource: { memoryMB: 128, vcores: 1 },
        amLaunchContext: { command: ['sleep', '30'] },
      });
      const r = await cl.waitForState(appId, ['FAILED', 'FINISHED', 'KILLED'], 10_000);
      assert.equal(r.state, 'FAILED');
      assert.match(r.diagnostics, /timed out: no heartbeat for 3000 ms/);
      await mc.waitFor(() => mc.liveContainerGroups().length === 0, 5_000, 'expired AM process killed');
    } finally {
      cl.close();
    }
  });
});
