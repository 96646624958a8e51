/**
 * Container isolation on real daemons, as root (skipped otherwise): each app's containers run as a uid
 * of their own from containerUidRange; a task of one app cannot read the NM dir, its cluster secret,
 * another app's container/log dirs or its processes' environ; a uid is free again once its app is cleaned
 * up; a work-preserving NM restart reacquires containers still running as their app's uid and keeps that
 * uid allocated (a new app does not get it).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { ClusterClient } from '../../src/cluster/client.js';
import { CINDER, MiniCluster, ROOT, repoClosedToOthers, sharedTempDir } from '../harness/mini-cluster.js';

const PROBE = path.join(ROOT, 'build/test/harness/isolation-probe.js');
const root = process.getuid?.() === 0;

/** The uid a process runs as, from /proc. */
function uidOf(pid: number): number {
  const m = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]);
}

/** Container dirs (not the .run dirs) of an app on node i, once there are n of them. */
async function containerDirs(mc: MiniCluster, i: number, appId: string, n: number): Promise<string[]> {
  const dir = path.join(mc.nms[i]!.dir, 'work', appId);
  let out: string[] = [];
  await mc.waitFor(
    () => {
      out = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => !f.endsWith('.run')) : [];
      return out.length >= n;
    },
    15_000,
    `${n} container dirs of ${appId}`,
  );
  return out.sort();
}

async function stdoutOf(cl: ClusterClient, appId: string): Promise<string> {
  const logs = await cl.getLogs(appId);
  return logs
    .filter((l) => l.file === 'stdout' && !l.containerId.endsWith('_000001'))
    .map((l) => l.data)
    .join('');
}

describe('container isolation (NM as root)', {
  skip: !root ? 'needs root' : repoClosedToOthers() && `other uids cannot reach the code under ${repoClosedToOthers()}`,
  timeout: 90_000,
}, () => {
  test('two users run as different uids and cannot read each other, the NM dir or the keys; a user keeps the uid', async () => {
    const range = { containerUidRange: '23000-23009' };
    const mc = await MiniCluster.start({ nodes: 1, nodeMemoryMB: 6144, rm: range, nm: range });
    try {
      const cl = await mc.client('alice');
      const bob = await mc.client('bob');
      const nmDir = mc.nms[0]!.dir;
      assert.equal(fs.statSync(nmDir).mode & 0o777, 0o711, 'the NM dir lists nothing to others');
      assert.equal(fs.existsSync(path.join(nmDir, 'cluster.secret')), false, 'no daemon secret in the NM dir');
      const victim = await mc.submitSimple(cl, {
        containers: 1,
        command: ['/bin/sh', '-c', 'echo victim-data > mine.txt; echo victim-log; exec sleep 60'],
      });
      const [am, vc] = await containerDirs(mc, 0, victim, 2);
      assert.ok(am && vc);
      await mc.waitFor(() => fs.existsSync(path.join(nmDir, 'work', victim, vc, 'mine.txt')), 15_000, 'victim runs');
      const victimUid = fs.statSync(path.join(nmDir, 'work', victim, vc)).uid;
      assert.equal(victimUid, 23000);
      assert.equal(fs.statSync(path.join(nmDir, 'work', victim, vc)).mode & 0o777, 0o700);
      assert.equal(fs.statSync(path.join(nmDir, 'logs', victim, vc)).mode & 0o777, 0o700);
      const spec = JSON.stringify({
        nmDir,
        victimApp: victim,
        victimContainer: vc,
        secretFile: mc.secretFile,
        masterKey: path.join(mc.rm.dir, 'master.key'),
      });
      const prober = await mc.submitSimple(bob, {
        containers: 1,
        command: ['/bin/sh', '-c', 'echo mine > own.txt && exec node "$0" "$1"', PROBE, spec],
      });
      const r = await bob.waitForState(prober, ['FINISHED', 'FAILED', 'KILLED'], 30_000);
      assert.equal(r.finalStatus, 'SUCCEEDED', r.diagnostics);
      await mc.waitFor(
        async () => (await bob.getApplication(prober)).logAggregationStatus === 'SUCCEEDED',
        15_000,
        'logs',
      );
      const out = JSON.parse((await stdoutOf(bob, prober)).trim()) as {
        uid: number;
        gid: number;
        groups: number[];
        reads: Record<string, string>;
        environs: number[];
        denied: number;
      };
      assert.equal(out.uid, 23001, 'the second user gets the next uid');
      assert.equal(out.gid, 23001);
      assert.deepEqual(out.groups, [23001], 'no supplementary groups of the NM');
      for (const k of [
        'nmDir',
        'clusterSecret',
        'masterKey',
        'recoveryDir',
        'cacheDir',
        'victimAppWork',
        'victimContainerDir',
        'victimFile',
        'victimLogs',
        'victimLaunchScript',
      ])
        assert.equal(out.reads[k], 'EACCES', `${k}: ${out.reads[k]}`);
      assert.match(out.reads.ownFile!, /^READ "mine/, 'a task reads its own dir');
      assert.match(out.reads.ownLogDir!, /^READ .*stdout/, 'and its own log dir');
      assert.deepEqual(out.environs, [], 'no process of the victim app had a readable environ');
      assert.ok(out.denied > 0);
      // the victim's processes really run as its uid, and the NM still kills them (another uid) on kill
      await cl.kill(victim);
      await cl.waitForState(victim, ['KILLED'], 15_000);
      await mc.waitFor(() => !fs.existsSync(path.join(nmDir, 'work', victim)), 15_000, 'victim cleaned up');
      await mc.waitFor(() => !fs.existsSync(path.join(nmDir, 'work', prober)), 15_000, 'prober cleaned up');
      // the uid follows the user: alice's next app runs as hers again (isolated-job.test.ts: across nodes)
      const next = await mc.submitSimple(cl, { containers: 4, command: ['/bin/sh', '-c', 'echo $(id -u):$(id -g)'] });
      const n = await cl.waitForState(next, ['FINISHED', 'FAILED', 'KILLED'], 30_000);
      assert.equal(n.finalStatus, 'SUCCEEDED', n.diagnostics);
      await mc.waitFor(
        async () => (await cl.getApplication(next)).logAggregationStatus === 'SUCCEEDED',
        15_000,
        'logs',
      );
      assert.deepEqual((await stdoutOf(cl, next)).trim().split('\n'), Array(4).fill('23000:23000'));
      cl.close();
      bob.close();
    } finally {
      await mc.cleanup();
    }
  });

  test('with every uid of the range taken, a new user is refused at submit and the RM serves on', async () => {
    const range = { containerUidRange: '23200-23200' };
    const mc = await MiniCluster.start({ nodes: 1, nodeMemoryMB: 6144, rm: range, nm: range });
    try {
      const cl = await mc.client('alice');
      const bob = await mc.client('bob');
      const first = await mc.submitSimple(cl, { containers: 1, command: ['true'] });
      assert.equal((await cl.waitForState(first, ['FINISHED', 'FAILED', 'KILLED'], 30_000)).finalStatus, 'SUCCEEDED');
      await assert.rejects(
        mc.submitSimple(bob, { containers: 1, command: ['true'] }),
        /no free container uid in 23200-23200: 1 users hold one, so bob's containers have none to run as/,
      );
      // alice keeps hers: her next app runs
      const next = await mc.submitSimple(cl, { containers: 1, command: ['true'] });
      assert.equal((await cl.waitForState(next, ['FINISHED', 'FAILED', 'KILLED'], 30_000)).finalStatus, 'SUCCEEDED');
      cl.close();
      bob.close();
    } finally {
      await mc.cleanup();
    }
  });

  test('an NM refuses a container whose uid is outside its own range, naming both', async () => {
    const mc = await MiniCluster.start({
      nodes: 1,
      nodeMemoryMB: 6144,
      rm: { containerUidRange: '23400-23409', maxAttempts: 1 },
      nm: { containerUidRange: '23500-23509' },
    });
    try {
      const cl = await mc.client('alice');
      const app = await mc.submitSimple(cl, { containers: 1, command: ['true'] });
      const r = await cl.waitForState(app, ['FINISHED', 'FAILED', 'KILLED'], 30_000);
      assert.equal(r.state, 'FAILED');
      assert.match(r.diagnostics, /carries uid 23400, outside this NodeManager's containerUidRange 23500-23509/);
      cl.close();
    } finally {
      await mc.cleanup();
    }
  });

  test("a work-preserving NM restart reacquires containers running as their user's uid", async () => {
    const mc = await MiniCluster.start({
      nodes: 1,
      nodeMemoryMB: 6144,
      rm: { nmLivenessMs: 15_000, containerUidRange: '23100-23109' },
      nm: { containerUidRange: '23100-23109' },
    });
    try {
      const cl = await mc.client('alice');
      const nmDir = mc.nms[0]!.dir;
      const long = await mc.submitSimple(cl, { containers: 1, command: ['/bin/sh', '-c', 'exec sleep 60'] });
      const [, c] = await containerDirs(mc, 0, long, 2);
      await mc.waitFor(() => fs.existsSync(path.join(nmDir, 'pids', c!)), 15_000, 'container launched');
      const pgid = Number(fs.readFileSync(path.join(nmDir, 'pids', c!), 'utf8'));
      assert.equal(uidOf(pgid), 23100);
      await mc.killNode(0);
      await mc.restartNode(0);
      await mc.waitFor(
        async () => (await cl.getApplication(long)).containers.some((x) => x.id === c && x.state === 'RUNNING'),
        15_000,
        'the container is still RUNNING after the restart',
      );
      assert.equal(uidOf(pgid), 23100, 'the same process, still as the app uid');
      assert.match(fs.readFileSync(mc.nms[0]!.log, 'utf8'), /reacquired a container/);
      // another user's app gets another uid on the restarted node
      const bob = await mc.client('bob');
      const other = await mc.submitSimple(bob, { containers: 1, command: ['/bin/sh', '-c', 'id -u'] });
      const o = await bob.waitForState(other, ['FINISHED', 'FAILED', 'KILLED'], 30_000);
      assert.equal(o.finalStatus, 'SUCCEEDED', o.diagnostics);
      await mc.waitFor(
        async () => (await bob.getApplication(other)).logAggregationStatus === 'SUCCEEDED',
        15_000,
        'logs',
      );
      assert.equal((await stdoutOf(bob, other)).trim(), '23101');
      bob.close();
      // the reacquired container is still killed (another uid) when its app is
      await cl.kill(long);
      await cl.waitForState(long, ['KILLED'], 15_000);
      await mc.waitFor(() => !fs.existsSync(`/proc/${pgid}`), 10_000, 'the reacquired group is gone');
      cl.close();
    } finally {
      await mc.cleanup();
    }
  });

  test('an NM that is not root says at start, as a warning, that containers are not isolated', async () => {
    const mc = await MiniCluster.start({ nodes: 1 });
    const dir = sharedTempDir('cinder-nm-nobody-');
    let nm: ChildProcess | undefined;
    try {
      const secret = path.join(dir, 'cluster.secret');
      fs.copyFileSync(mc.secretFile, secret);
      fs.chownSync(secret, 65534, 65534);
      let out = '';
      nm = spawn(
        'setpriv',
        [
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          process.execPath,
          CINDER,
          'nodemanager',
          '--rm',
          `127.0.0.1:${mc.rm.port}`,
          '--dir',
          path.join(dir, 'nm'),
          // no /metrics listener: it would need an HTTPS certificate, which this NodeManager is not given
          '--http-port',
          '-1',
        ],
        { env: { ...process.env, CINDER_SECRET_FILE: secret, HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      nm.stdout!.on('data', (d) => (out += d));
      nm.stderr!.on('data', (d) => (out += d));
      await mc.waitFor(() => /containers are NOT isolated/.test(out), 15_000, 'the warning');
      const line = JSON.parse(out.split('\n').find((l) => l.includes('containers are NOT isolated'))!) as {
        level: number;
        msg: string;
      };
      assert.equal(line.level, 40, 'a warning');
      assert.match(line.msg, /the NodeManager is not root, so every container runs as its user \(nobody\)/);
    } finally {
      nm?.kill('SIGKILL');
      await mc.cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
