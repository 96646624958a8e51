/**
 * Work-preserving NodeManager restart on real daemons (`node bin/cinder.js`): an NM SIGKILLed under
 * running containers leaves them running; the next NM on the same dir and port reacquires the live ones
 * (same process, reported RUNNING by GetContainerStatuses) and reports the real exit code of one that
 * ended while it was down. With recoveryEnabled=false a restarted NM kills what it finds; with no NM at
 * all the containers kill themselves after orphanKillMs. Every test checks that no process is left.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { ClusterClient } from '../../src/cluster/client.js';
import { groupLive } from '../../src/cluster/nodemanager/process-tree.js';
import { type ContainerStatus, parseToNm, type ToNm } from '../../src/protocol/cluster.js';
import { dial } from '../../src/rpc/index.js';
import { MiniCluster, repoClosedToOthers } from '../harness/mini-cluster.js';

/** Every process on this machine whose environment mentions dir (containers carry CINDER_LOG_DIR under it). */
function processesUnder(dir: string): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const st = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      if (st.slice(st.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (fs.readFileSync(`/proc/${e}/environ`, 'utf8').includes(dir)) out.push(Number(e));
    } catch {}
  }
  return out;
}

/** the app under test (one per cluster): the NM answers an AM's connection about its own app only */
let appUnderTest = '';

async function nmStatuses(mc: MiniCluster, i: number): Promise<ContainerStatus[]> {
  const t = mc.containerToken(appUnderTest, i);
  const conn = await dial<ToNm, ToNm>({
    host: '127.0.0.1',
    port: mc.nms[i]!.port,
    principal: t.identifier,
    secret: t.password,
    parse: parseToNm,
    name: 'test->nm',
    connectTimeoutMs: 2_000,
  });
  try {
    const r = await conn.request<{ statuses: ContainerStatus[] }>({ type: 'GetContainerStatuses' }, 5_000);
    return r.statuses;
  } finally {
    conn.close();
  }
}

/** The container's pgid from the NM's pid dir. */
function pgidOf(mc: MiniCluster, i: number, containerId: string): number {
  return Number(fs.readFileSync(path.join(mc.nms[i]!.dir, 'pids', containerId), 'utf8'));
}

/** A one-node cluster per test (node liveness well above a restart, so the RM keeps the node RUNNING across it). */
async function withCluster(
  nm: Record<string, string | number>,
  fn: (mc: MiniCluster, release: (id: string, code: number) => void, waitForFlag: string[]) => Promise<void>,
): Promise<void> {
  const mc = await MiniCluster.start({ nodes: 1, rm: { nmLivenessMs: 15_000 }, nm });
  const flags = path.join(mc.dir, 'flags');
  fs.mkdirSync(flags);
  // each container waits for its own flag file, then exits with the code written in it
  const waitForFlag = [
    '/bin/sh',
    '-c',
    `f=${flags}/$CINDER_CONTAINER_ID; while [ ! -s "$f" ]; do sleep 0.1; done; exit $(cat "$f")`,
  ];
  try {
    await fn(mc, (id, code) => fs.writeFileSync(path.join(flags, id), String(code)), waitForFlag);
  } finally {
    const dir = mc.dir;
    await mc.cleanup();
    assert.deepEqual(processesUnder(dir), [], 'no process of the cluster is left');
  }
}

/** Submits a simple app and waits until its AM and `containers` containers run on node 0; their ids, AM first. */
async function runApp(
  mc: MiniCluster,
  cl: ClusterClient,
  containers: number,
  command: string[],
): Promise<{ appId: string; am: string; workers: string[] }> {
  const appId = await mc.submitSimple(cl, { containers, command, maxAttempts: 1 });
  appUnderTest = appId;
  let running: string[] = [];
  await mc.waitFor(
    async () =>
      (running = (await nmStatuses(mc, 0))
        .filter((s) => s.appId === appId && s.state === 'RUNNING')
        .map((s) => s.containerId)).length ===
      containers + 1,
    20_000,
    `AM + ${containers} containers RUNNING on the NM`,
  );
  const am = (await cl.attempts(appId))[0]!.amContainerId!;
  return { appId, am, workers: running.filter((id) => id !== am).sort() };
}

/** Kills the app (an ABORTED AM container does not count as a failed attempt, so the RM may have started another) and waits until no container process is left. */
async function endApp(mc: MiniCluster, cl: ClusterClient, appId: string): Promise<void> {
  await cl.kill(appId, 'test over');
  await cl.waitForState(appId, ['FINISHED', 'FAILED', 'KILLED'], 20_000);
  await mc.waitFor(() => mc.liveContainerGroups(0).length === 0, 10_000, 'every container process gone');
}

describe('NodeManager restart', { timeout: 60_000 }, () => {
  test('SIGKILLed NM: live containers are reacquired, one that exited meanwhile reports its real exit code', () =>
    withCluster({}, async (mc, release, waitForFlag) => {
      const cl = await mc.client('alice');
      try {
        const { appId, am, workers } = await runApp(mc, cl, 2, waitForFlag);
        const [keep, exits] = workers as [string, string];
        const groups = new Map([am, keep, exits].map((id) => [id, pgidOf(mc, 0, id)]));

        await mc.killNode(0, 'SIGKILL');
        for (const [id, g] of groups) assert.ok(groupLive(g), `${id} survives the NM's death`);
        release(exits, 7);
        await mc.waitFor(() => !groupLive(groups.get(exits)!), 5_000, 'the released container to exit');
        // isolated containers (root NMs, the default, when other uids can reach the code) write it in their
        // own run dir, others in the NM's recovery dir
        const isolated = process.getuid?.() === 0 && mc.opts.nm?.containerUidRange !== 'none' && !repoClosedToOthers();
        const runDir = isolated ? path.join('work', appId, `${exits}.run`) : 'recovery';
        assert.ok(fs.existsSync(path.join(mc.nms[0]!.dir, runDir, `${exits}.exitcode`)), 'exit code recorded');

        await mc.restartNode(0);
        const after = new Map((await nmStatuses(mc, 0)).map((s) => [s.containerId, s]));
        assert.equal(after.get(keep)?.state, 'RUNNING');
        assert.equal(after.get(am)?.state, 'RUNNING', 'the AM too');
        assert.deepEqual(
          [after.get(exits)?.state, after.get(exits)?.exitStatus, after.get(exits)?.diagnostics],
          [
            'COMPLETE',
            7,
            "process exited with code 7; see the container's stderr (exited while the NodeManager was down)",
          ],
        );
        assert.ok(groupLive(groups.get(keep)!), 'same process, not a relaunch');
        assert.equal(pgidOf(mc, 0, keep), groups.get(keep));

        // the reacquired container is still watched: its exit is seen without a child handle
        release(keep, 0);
        await mc.waitFor(
          async () => (await nmStatuses(mc, 0)).find((s) => s.containerId === keep)?.state === 'COMPLETE',
          10_000,
          'the reacquired container to complete',
        );
        const k = (await nmStatuses(mc, 0)).find((s) => s.containerId === keep)!;
        assert.deepEqual([k.exitStatus, k.diagnostics], [0, '']);
        // the AM (also reacquired) saw both real exit codes through the RM and ends the app
        const r = await cl.waitForState(appId, ['FINISHED', 'FAILED', 'KILLED'], 20_000);
        assert.equal(r.finalStatus, 'FAILED', 'one container exited 7');
        assert.match(r.diagnostics, new RegExp(`${exits} exited with 7`));
        await mc.waitFor(() => mc.liveContainerGroups(0).length === 0, 10_000, 'every container process gone');
        await mc.waitFor(
          () => fs.readdirSync(path.join(mc.nms[0]!.dir, 'recovery')).length === 0,
          10_000,
          'recovery records deleted once the RM acknowledged the completions',
        );
      } finally {
        cl.close();
      }
    }));

  test('recoveryEnabled=false: a restarted NM kills the containers it finds', () =>
    withCluster({ recoveryEnabled: 'false' }, async (mc) => {
      const cl = await mc.client('alice');
      try {
        const { appId, am, workers } = await runApp(mc, cl, 1, ['sleep', '60']);
        const groups = [am, ...workers].map((id) => pgidOf(mc, 0, id));
        await mc.killNode(0, 'SIGKILL');
        assert.ok(groups.every(groupLive));
        await mc.restartNode(0);
        assert.deepEqual(groups.filter(groupLive), [], 'killed at start');
        const ids = [am, ...workers];
        assert.deepEqual(
          (await nmStatuses(mc, 0)).filter((x) => ids.includes(x.containerId)),
          [],
          'nothing recovered (a new AM attempt may already run)',
        );
        await endApp(mc, cl, appId);
      } finally {
        cl.close();
      }
    }));

  test('an NM that does not come back: its containers kill themselves after orphanKillMs; a late NM reports them', () =>
    withCluster({ orphanKillMs: 2_000 }, async (mc) => {
      const cl = await mc.client('alice');
      try {
        const { appId, am, workers } = await runApp(mc, cl, 1, ['sleep', '60']);
        const ids = [am, ...workers];
        const groups = ids.map((id) => pgidOf(mc, 0, id));
        const t0 = Date.now();
        await mc.killNode(0, 'SIGKILL');
        await mc.waitFor(() => !groups.some(groupLive), 8_000, 'orphaned containers to kill themselves');
        const took = Date.now() - t0;
        assert.ok(took >= 1_500, `killed after ${took} ms (orphanKillMs 2000)`);
        // restarted with --port 0: an NM with recovered containers comes back on its last port (same node id)
        const port = mc.nms[0]!.port;
        (mc as unknown as { nmPorts: number[] }).nmPorts[0] = 0;
        await mc.restartNode(0);
        assert.equal(mc.nms[0]!.port, port);
        const sts = await nmStatuses(mc, 0);
        for (const id of ids) {
          const s = sts.find((x) => x.containerId === id);
          assert.deepEqual([s?.state, s?.exitStatus], ['COMPLETE', -100], id);
          assert.match(s!.diagnostics, /no NodeManager was alive on its node for orphanKillMs/);
        }
        await endApp(mc, cl, appId);
      } finally {
        cl.close();
      }
    }));

  test('a graceful stop kills every container and leaves nothing to recover', () =>
    withCluster({}, async (mc) => {
      const cl = await mc.client('alice');
      try {
        const { appId, am, workers } = await runApp(mc, cl, 1, ['sleep', '60']);
        const groups = [am, ...workers].map((id) => pgidOf(mc, 0, id));
        await mc.killNode(0, 'SIGTERM');
        assert.deepEqual(groups.filter(groupLive), [], 'containers killed by the stop');
        assert.deepEqual(fs.readdirSync(path.join(mc.nms[0]!.dir, 'recovery')), []);
        assert.deepEqual(fs.readdirSync(path.join(mc.nms[0]!.dir, 'pids')), []);
        await mc.restartNode(0);
        const ids = [am, ...workers];
        assert.deepEqual(
          (await nmStatuses(mc, 0)).filter((x) => ids.includes(x.containerId)),
          [],
        );
        await endApp(mc, cl, appId);
      } finally {
        cl.close();
      }
    }));

  // Before the RM's books were rewritten, registerNode charged a reported container the RM already knew a
  // second time, so after an NM restart the queue's AM usage was counted twice and the next app waited
  // forever on maxAmPercent.
  test('after an NM restart the node and queue are accounted once: the next app runs', () =>
    withCluster({}, async (mc, release, waitForFlag) => {
      const cl = await mc.client('alice');
      try {
        const first = await runApp(mc, cl, 1, waitForFlag);
        await mc.killNode(0, 'SIGKILL');
        await mc.restartNode(0);
        release(first.workers[0]!, 0);
        await cl.waitForState(first.appId, ['FINISHED', 'FAILED', 'KILLED'], 20_000);
        const second = await mc.submitSimple(cl, { containers: 1, command: ['true'], maxAttempts: 1 });
        const r = await cl.waitForState(second, ['FINISHED', 'FAILED', 'KILLED'], 15_000).catch(async (e: Error) => {
          throw new Error(`${e.message}; its diagnostics: ${(await cl.getApplication(second)).diagnostics}`);
        });
        assert.equal(r.finalStatus, 'SUCCEEDED');
      } finally {
        cl.close();
      }
    }));
});
