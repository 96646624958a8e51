/** End-to-end on real daemons (RM + 2 NMs as processes): happy path, logs, security, rejections, memory kill. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ClusterClient } from '../../src/cluster/client.js';
import { MiniCluster } from '../harness/mini-cluster.js';

describe('cluster end to end', { timeout: 60_000 }, () => {
  let mc: MiniCluster;
  before(async () => {
    mc = await MiniCluster.start({ nodes: 2, rm: { admins: 'boss' } });
  });
  after(async () => {
    await mc?.cleanup();
  });

  test('an app runs its containers with localized files and archives, finishes SUCCEEDED, and its logs are aggregated', async () => {
    const src = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-arch-'));
    fs.mkdirSync(path.join(src, 'sub'));
    fs.writeFileSync(path.join(src, 'sub', 'inner.txt'), 'from the archive');
    const tgz = path.join(src, 'd.tgz');
    execFileSync('tar', ['-czf', tgz, '-C', src, 'sub']);
    const cl = await mc.client('alice');
    try {
      const appId = await mc.submitSimple(cl, {
        containers: 3,
        command: [
          '/bin/sh',
          '-c',
          // the app secret is in the 0600 credentials file, not the env
          'cat b.txt; cat d/sub/inner.txt; echo " $CINDER_CONTAINER_ID"; test -z "$CINDER_APP_SECRET" && grep -q CINDER_APP_SECRET "$CINDER_CREDENTIALS_FILE"',
        ],
        files: { 'b.txt': { data: 'hello ' }, d: { data: fs.readFileSync(tgz), type: 'ARCHIVE' } },
      });
      const r = await cl.waitForState(appId, ['FINISHED', 'FAILED', 'KILLED'], 20_000);
      assert.equal(r.state, 'FINISHED', r.diagnostics);
      assert.equal(r.finalStatus, 'SUCCEEDED');
      await mc.waitFor(
        async () => (await cl.getApplication(appId)).logAggregationStatus === 'SUCCEEDED',
        10_000,
        'log aggregation',
      );
      // logs come from the RM's store even with every node gone
      await Promise.all([mc.killNode(0), mc.killNode(1)]);
      const logs = await cl.getLogs(appId);
      const outs = logs.filter((l) => l.file === 'stdout' && !l.containerId.endsWith('_000001'));
      assert.equal(outs.length, 3);
      for (const l of outs) assert.match(l.data, new RegExp(`^hello from the archive ${l.containerId}`));
      const am = logs.find((l) => l.containerId.endsWith('_000001') && l.file === 'stdout');
      assert.match(am!.data, /finished SUCCEEDED/);
      const one = await cl.getLogs(appId, outs[0]!.containerId);
      assert.deepEqual(new Set(one.map((l) => l.containerId)), new Set([outs[0]!.containerId]));
      // the staging store no longer holds the app's files
      assert.deepEqual(fs.readdirSync(path.join(mc.rm.dir, 'staging', 'blobs')), []);
      const cli = await mc.cli(['logs', appId, '--container', outs[0]!.containerId], { user: 'alice' });
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, /hello from the archive/);
    } finally {
      cl.close();
      await Promise.all([mc.restartNode(0), mc.restartNode(1)]);
      await mc.waitFor(
        async () => (await mc.withClient((c) => c.nodes(['RUNNING']))).length === 2,
        10_000,
        'nodes back',
      );
      fs.rmSync(src, { recursive: true, force: true });
    }
  });

  test('a caller without a valid identity is refused and nothing changes', async () => {
    const before = (await mc.withClient((c) => c.listApplications())).length;
    const forged = JSON.parse(fs.readFileSync(mc.identityFile('alice'), 'utf8'));
    forged.token.password = 'f'.repeat(64);
    await assert.rejects(ClusterClient.connect(mc.master, { identity: forged }), /authentication .* refused/);
    const badFile = path.join(mc.dir, 'forged.identity');
    fs.writeFileSync(badFile, JSON.stringify(forged), { mode: 0o600 });
    const bad = await mc.cli(['kill', 'application_1_0001'], { env: { CINDER_IDENTITY: badFile } });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /authentication to .* refused/);
    const after = (await mc.withClient((c) => c.listApplications())).length;
    assert.equal(after, before);
    // REST: 401 without the token, 200 with it, and never the secret in the output
    const base = mc.restBase;
    assert.equal((await mc.fetch(`${base}/apps`)).status, 401);
    assert.equal((await mc.fetch(`${base}/apps`, { headers: { authorization: `Bearer ${mc.secret}` } })).status, 401);
    const ok = await mc.fetch(`${base}/nodes`, { headers: { authorization: `Bearer ${mc.restToken()}` } });
    assert.equal(ok.status, 200);
    const body = await ok.text();
    assert.equal(JSON.parse(body).nodes.node.length, 2);
    assert.ok(!body.includes(mc.secret));
    for (const f of fs.readdirSync(mc.dir).filter((x) => x.endsWith('.log')))
      assert.ok(!fs.readFileSync(path.join(mc.dir, f), 'utf8').includes(mc.secret), `${f} must not contain the secret`);
  });

  test('a request larger than any node, an unknown queue and a staged ../../x are refused with reasons', async () => {
    const cl = await mc.client('alice');
    try {
      const { appId } = await cl.newApplication();
      await assert.rejects(
        cl.uploadFile(appId, '../../x', Buffer.from('x')),
        /not allowed: it must be a plain file name/,
      );
      await assert.rejects(
        cl.submitApplication({
          appId,
          amResource: { memoryMB: 4096, vcores: 1 },
          amLaunchContext: { command: ['true'] },
        }),
        /larger than any node \(largest: 2048 MB/,
      );
      const r = await cl.getApplication(appId);
      assert.equal(r.state, 'FAILED');
      assert.match(r.diagnostics, /rejected at submission/);
      const b = await cl.newApplication();
      await assert.rejects(
        cl.submitApplication({
          appId: b.appId,
          queue: 'nope',
          amResource: { memoryMB: 256, vcores: 1 },
          amLaunchContext: { command: ['true'] },
        }),
        /queue "nope" does not exist/,
      );
      const c = await cl.newApplication();
      await assert.rejects(
        cl.submitApplication({
          appId: c.appId,
          amResource: { memoryMB: 100_000, vcores: 1 },
          amLaunchContext: { command: ['true'] },
        }),
        /exceeds the maximum allocation of 8192 MB/,
      );
    } finally {
      cl.close();
    }
  });

  test('only the owner or an admin may kill or read logs; a kill ends the app KILLED with no containers left', async () => {
    const alice = await mc.client('alice');
    const bob = await mc.client('bob');
    const boss = await mc.client('boss');
    try {
      const appId = await mc.submitSimple(alice, { containers: 2, command: ['sleep', '60'] });
      await mc.waitFor(
        async () => (await alice.getApplication(appId)).runningContainers === 3,
        15_000,
        '3 containers running',
      );
      await assert.rejects(bob.kill(appId), /user bob may not kill/);
      await assert.rejects(bob.getLogs(appId), /user bob may not read the logs/);
      assert.equal((await alice.getApplication(appId)).state, 'RUNNING');
      const cli = await mc.cli(['kill', appId]);
      assert.notEqual(cli.code, 0, 'root is neither owner nor admin');
      assert.match(cli.stderr, /may not kill/);
      await boss.kill(appId);
      const r = await alice.getApplication(appId);
      assert.deepEqual([r.state, r.finalStatus], ['KILLED', 'KILLED']);
      assert.match(r.diagnostics, /killed by user boss/);
      await mc.waitFor(() => mc.liveContainerGroups().length === 0, 10_000, 'every container process gone');
      assert.equal((await alice.kill(appId)).alreadyTerminal, true);
    } finally {
      alice.close();
      bob.close();
      boss.close();
    }
  });

  test('a container over its memory limit is killed with -104 and a diagnostic naming used vs limit', async () => {
    const cl = await mc.client('alice');
    try {
      const hog = 'const a=[];for(;;){a.push(Buffer.alloc(8<<20,1));await new Promise(r=>setTimeout(r,5))}';
      const appId = await mc.submitSimple(cl, {
        containers: 1,
        memoryMB: 128,
        command: ['node', '--input-type=module', '-e', hog],
      });
      const r = await cl.waitForState(appId, ['FINISHED', 'FAILED', 'KILLED'], 20_000);
      assert.equal(r.finalStatus, 'FAILED');
      assert.match(
        r.diagnostics,
        /exited with -104: Container \S+ is running beyond physical memory limits. Current usage: [\d.]+ MB of 128.0 MB physical memory used/,
      );
    } finally {
      cl.close();
    }
  });

  test('CLI listings take --json', async () => {
    const apps = await mc.cli(['apps', '--json', '--state', 'KILLED']);
    assert.equal(apps.code, 0, apps.stderr);
    const list = JSON.parse(apps.stdout) as { state: string }[];
    assert.ok(list.length >= 1 && list.every((a) => a.state === 'KILLED'));
    const nodes = JSON.parse((await mc.cli(['nodes', '--json'])).stdout) as { state: string }[];
    assert.equal(nodes.filter((n) => n.state === 'RUNNING').length, 2);
    const id = (list[0] as unknown as { id: string }).id;
    const st = await mc.cli(['status', id, '--json'], { user: 'alice' });
    assert.equal(JSON.parse(st.stdout).finalStatus, 'KILLED');
  });
});
