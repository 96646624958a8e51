/**
 * Issue 16's roles and identities on one real cluster, as alice and bob: bob cannot kill, view the
 * details of or read the logs of alice's app by the CLI, RPC or REST; CINDER_USER, X-Cinder-User and
 * user.name confer nothing; a task of bob's app finds no cluster secret or key in its env, argv or dir;
 * a fake node, a forged heartbeat or log upload, a StartContainer without a valid container token and an
 * AM acting on another attempt are refused with clear errors.
 *
 * Containers still run as the NM's uid here (per-app uids are the isolation change of issue 16), so a
 * task could still read the daemons' files by path: what is checked is what reaches the container
 * (env, argv, its dir) and that the daemons' key files are 0600.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { masterKeyFile } from '../../src/cluster/security/keys.js';
import {
  type ContainerStatus,
  type LogFile,
  parseToNm,
  type Token,
  type ToNm,
  type ToRm,
} from '../../src/protocol/cluster.js';
import { dial, type RpcConnection } from '../../src/rpc/index.js';
import { MiniCluster } from '../harness/mini-cluster.js';

/** A task that prints what it can see: its env, its argv and its container dir. */
const SNOOP = [
  'sh',
  '-c',
  'echo ENV-BEGIN; cat /proc/$$/environ | tr "\\0" "\\n"; echo ENV-END; cat /proc/$$/cmdline | tr "\\0" " "; echo; ls -la; cat .cinder-credentials.json 2>/dev/null && echo CREDS-STILL-THERE; sleep 60',
];

describe('roles, tokens and user identity (alice and bob)', { timeout: 120_000 }, () => {
  let mc: MiniCluster;
  let aliceApp: string;
  let bobApp: string;
  let aliceAttempt: string;
  let bobAttempt: string;
  const rest = () => mc.restBase;

  const rmConn = (principal: string, secret: string): Promise<RpcConnection<ToNm, ToRm>> =>
    dial<ToNm, ToRm>({
      host: '127.0.0.1',
      port: mc.rm.port,
      principal,
      secret,
      parse: parseToNm,
      name: 'probe->rm',
      connectTimeoutMs: 2_000,
    });
  const nmConn = (i: number, t: Token): Promise<RpcConnection<ToNm, ToNm>> =>
    dial<ToNm, ToNm>({
      host: '127.0.0.1',
      port: mc.nms[i]!.port,
      principal: t.identifier,
      secret: t.password,
      parse: parseToNm,
      name: 'probe->nm',
      connectTimeoutMs: 2_000,
    });

  before(async () => {
    // room for two AMs at once (an AM may use 10% of the queue)
    mc = await MiniCluster.start({ nodes: 2, nodeMemoryMB: 8192 });
    const alice = await mc.client('alice');
    const bob = await mc.client('bob');
    try {
      aliceApp = await mc.submitSimple(alice, {
        containers: 1,
        command: ['sh', '-c', 'echo alice-secret-output; sleep 60'],
      });
      bobApp = await mc.submitSimple(bob, { containers: 1, command: SNOOP });
      for (const [c, id] of [
        [alice, aliceApp],
        [bob, bobApp],
      ] as const)
        await mc.waitFor(async () => (await c.getApplication(id)).runningContainers >= 2, 20_000, `${id} running`);
      aliceAttempt = (await alice.getApplication(aliceApp)).currentAttemptId!;
      bobAttempt = (await bob.getApplication(bobApp)).currentAttemptId!;
    } finally {
      alice.close();
      bob.close();
    }
  });
  after(async () => {
    await mc?.cleanup();
  });

  test('RPC: bob cannot kill, view or read the logs of alice’s app; the listing hides its details', async () => {
    const bob = await mc.client('bob');
    try {
      await assert.rejects(bob.kill(aliceApp), /user bob may not kill application .* \(owner alice\)/);
      await assert.rejects(bob.getApplication(aliceApp), /user bob may not view/);
      await assert.rejects(bob.attempts(aliceApp), /user bob may not view/);
      await assert.rejects(bob.getLogs(aliceApp), /user bob may not read the logs of/);
      const listed = (await bob.listApplications()).find((a) => a.id === aliceApp)!;
      assert.equal(listed.user, 'alice');
      assert.equal(listed.trackingUrl, '');
      assert.equal(listed.amHost, undefined);
      assert.equal(listed.currentAttemptId, undefined);
      assert.deepEqual(listed.containers, []);
      const own = (await bob.listApplications()).find((a) => a.id === bobApp)!;
      assert.ok(own.currentAttemptId, 'bob sees the details of his own app');
      assert.equal((await bob.whoAmI()).user, 'bob');
    } finally {
      bob.close();
    }
    const alice = await mc.client('alice');
    try {
      assert.equal((await alice.getApplication(aliceApp)).state, 'RUNNING', 'nothing changed');
    } finally {
      alice.close();
    }
  });

  test('CLI: CINDER_USER=alice with bob’s identity confers nothing', async () => {
    const kill = await mc.cli(['kill', aliceApp], { user: 'bob', env: { CINDER_USER: 'alice' } });
    assert.equal(kill.code, 1);
    assert.match(kill.stderr, /user bob may not kill/);
    const st = await mc.cli(['status', aliceApp], { user: 'bob', env: { CINDER_USER: 'alice' } });
    assert.equal(st.code, 1);
    assert.match(st.stderr, /user bob may not view/);
    const logs = await mc.cli(['logs', aliceApp], { user: 'bob', env: { CINDER_USER: 'alice' } });
    assert.equal(logs.code, 1);
    assert.doesNotMatch(logs.stdout, /alice-secret-output/);
    // no identity at all (no dev cluster for this master): a clear error, not a default user
    const none = await mc.cli(['apps'], { env: { CINDER_IDENTITY: '', CINDER_DEV_DIR: mc.dir } });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no user identity/);
  });

  test('REST: bob’s token with X-Cinder-User / user.name = alice is still bob', async () => {
    const headers = { authorization: `Bearer ${mc.restToken('bob')}`, 'x-cinder-user': 'alice' };
    const app = await mc.fetch(`${rest()}/apps/${aliceApp}?user.name=alice`, { headers });
    assert.equal(app.status, 403);
    const atts = await mc.fetch(`${rest()}/apps/${aliceApp}/appattempts?user.name=alice`, { headers });
    assert.equal(atts.status, 403);
    const kill = await mc.fetch(`${rest()}/apps/${aliceApp}/state?user.name=alice`, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/json' },
      body: '{"state":"KILLED"}',
    });
    assert.equal(kill.status, 403);
    const list = (await (await mc.fetch(`${rest()}/apps`, { headers })).json()) as {
      apps: { app: { id: string; trackingUrl: string; amHostHttpAddress: string; currentAttemptId: string }[] };
    };
    const a = list.apps.app.find((x) => x.id === aliceApp)!;
    assert.deepEqual([a.trackingUrl, a.amHostHttpAddress, a.currentAttemptId], ['', '', '']);
    // a user token signed with another key, or the old cluster-secret token, is 401
    const forged = mc.restToken('alice').replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    assert.equal((await mc.fetch(`${rest()}/apps`, { headers: { authorization: `Bearer ${forged}` } })).status, 401);
    assert.equal((await mc.fetch(`${rest()}/apps`, { headers: { authorization: `Bearer ${mc.secret}` } })).status, 401);
  });

  test('a task of bob’s app sees no cluster secret, key or app secret in its env, argv or dir', async () => {
    let out = '';
    await mc.waitFor(
      async () => {
        const bob = await mc.client('bob');
        try {
          const logs: LogFile[] = await bob.getLogs(bobApp);
          out = logs.find((l) => l.file === 'stdout' && !l.containerId.endsWith('_000001'))?.data ?? '';
        } finally {
          bob.close();
        }
        return out.includes('ENV-END') && out.includes('total');
      },
      20_000,
      'the snooping task’s output',
    );
    const env = out.slice(out.indexOf('ENV-BEGIN'), out.indexOf('ENV-END'));
    assert.doesNotMatch(env, /CINDER_SECRET/);
    assert.doesNotMatch(env, /CINDER_APP_SECRET|CINDER_AM_TOKEN/);
    assert.match(env, /CINDER_CREDENTIALS_FILE=/, 'the executor got a credentials file, not env secrets');
    const state = fs.readFileSync(path.join(mc.rm.dir, 'rm-state.json'), 'utf8');
    const secrets = [...state.matchAll(/"secret":\s*"([0-9a-f]{64})"/g)].map((m) => m[1]!);
    assert.ok(secrets.length >= 2, 'the RM keeps both apps’ secrets');
    const master = fs.readFileSync(masterKeyFile(mc.rm.dir), 'utf8').trim();
    for (const s of [mc.secret, master, ...secrets]) assert.ok(!out.slice(0, out.indexOf('total')).includes(s));
    // the container dir holds its credentials file 0600 (the task itself is not the executor that deletes it)
    assert.match(out, /-rw------- .* \.cinder-credentials\.json/);
    for (const s of [mc.secret, master]) assert.ok(!out.includes(s), 'no daemon secret or key in the container dir');
    // the daemons' key files are 0600 and the NMs keep no copy of the cluster secret for containers
    assert.equal((fs.statSync(masterKeyFile(mc.rm.dir)).mode & 0o777).toString(8), '600');
    for (const n of mc.nms) assert.equal(fs.existsSync(path.join(n!.dir, 'cluster.secret')), false);
  });

  test('what a task of bob’s can hold gets no daemon role at the RM: fake node, forged heartbeat/logs refused', async () => {
    const bob = JSON.parse(fs.readFileSync(mc.identityFile('bob'), 'utf8')).token as Token;
    const asBob = await rmConn(bob.identifier, bob.password);
    try {
      await assert.rejects(
        asBob.request({
          type: 'RegisterNode',
          host: '127.0.0.1',
          port: 1,
          capacity: { memoryMB: 8192, vcores: 8 },
          labels: [],
          containers: [],
          runningApps: [],
        }),
        /RegisterNode needs the NodeManagers’ cluster credential; this connection is user bob/,
      );
      await assert.rejects(
        asBob.request({ type: 'NodeHeartbeat', nodeId: mc.nodeId(0), containers: [] }),
        /ROLE_DENIED|needs the NodeManagers/,
      );
    } finally {
      asBob.close();
    }
    const bobAm = mc.amToken(bobAttempt, bobApp, 'bob');
    const asAm = await rmConn(bobAm.identifier, bobAm.password);
    try {
      await assert.rejects(
        asAm.request({ type: 'UploadLogs', appId: aliceApp, nodeId: mc.nodeId(0), logs: [] }),
        /UploadLogs needs the NodeManagers’ cluster credential; this connection is the AM of/,
      );
    } finally {
      asAm.close();
    }
    // the cluster secret is refused without the proof; a forged principal is refused at the handshake
    await assert.rejects(rmConn('cluster', 'not-the-secret'), /authentication .* refused/);
    await assert.rejects(rmConn(bob.identifier, 'f'.repeat(64)), /authentication .* refused/);
    // even a daemon credential speaks only for the node its connection registered as
    const daemon = await rmConn('cluster', mc.secret);
    try {
      const alienAm: ContainerStatus = {
        containerId: `container_${aliceApp.slice('application_'.length)}_01_000001`,
        appId: aliceApp,
        state: 'COMPLETE',
        exitStatus: 1,
        diagnostics: 'forged',
        resource: { memoryMB: 128, vcores: 1 },
      };
      await assert.rejects(
        daemon.request({ type: 'NodeHeartbeat', nodeId: mc.nodeId(0), containers: [alienAm] }),
        /NOT_YOUR_NODE|this connection is not a registered node, not/,
      );
      await assert.rejects(
        daemon.request({
          type: 'UploadLogs',
          appId: aliceApp,
          nodeId: mc.nodeId(0),
          logs: [{ containerId: alienAm.containerId, file: 'stdout', data: Buffer.from('forged') }],
        }),
        /this connection is not a registered node/,
      );
    } finally {
      daemon.close();
    }
    const alice = await mc.client('alice');
    try {
      const r = await alice.getApplication(aliceApp);
      assert.equal(r.state, 'RUNNING', 'the forged AM completion changed nothing');
      assert.ok(!(await alice.getLogs(aliceApp)).some((l) => l.data.includes('forged')));
    } finally {
      alice.close();
    }
  });

  test('an AM may act only on its own attempt', async () => {
    const bobAm = mc.amToken(bobAttempt, bobApp, 'bob');
    const conn = await rmConn(bobAm.identifier, bobAm.password);
    try {
      await assert.rejects(
        conn.request({ type: 'Allocate', attemptId: aliceAttempt, asks: [], releases: [], progress: 0 }),
        new RegExp(`Allocate for ${aliceAttempt} refused: this connection holds the AM token of ${bobAttempt}`),
      );
      await assert.rejects(
        conn.request({
          type: 'FinishApplicationMaster',
          attemptId: aliceAttempt,
          finalStatus: 'SUCCEEDED',
          diagnostics: '',
        }),
        /NOT_YOUR_ATTEMPT|refused: this connection holds the AM token/,
      );
      await assert.rejects(
        conn.request({
          type: 'RegisterApplicationMaster',
          attemptId: aliceAttempt,
          host: 'evil',
          rpcPort: 1,
          trackingUrl: '',
        }),
        /refused: this connection holds the AM token/,
      );
      await assert.rejects(conn.request({ type: 'KillApplication', appId: aliceApp }), /needs a user identity/);
      await assert.rejects(conn.request({ type: 'GetApplicationReport', appId: aliceApp }), /needs a user identity/);
    } finally {
      conn.close();
    }
    const alice = await mc.client('alice');
    try {
      const r = await alice.getApplication(aliceApp);
      assert.equal(r.state, 'RUNNING');
      assert.notEqual(r.amHost, 'evil');
    } finally {
      alice.close();
    }
  });

  test('an NM starts only containers with a valid token for itself, and serves an app only its own', async () => {
    // bob's AM holds container tokens of his app: nothing of alice's, nothing unallocated
    const t = mc.containerToken(bobApp, 0);
    const conn = await nmConn(0, t);
    const info = (n: number, token?: Token) => ({
      id: `container_${bobApp.slice('application_'.length)}_01_${String(n).padStart(6, '0')}`,
      appId: bobApp,
      nodeId: mc.nodeId(0),
      nodeHost: '127.0.0.1',
      nodePort: mc.nms[0]!.port,
      resource: { memoryMB: 128, vcores: 1 },
      ...(token ? { token } : {}),
    });
    const start = (c: ReturnType<typeof info>) =>
      conn.request({
        type: 'StartContainer',
        container: c,
        user: 'bob',
        launchContext: { command: ['true'], env: {}, localResources: {} },
      });
    try {
      await assert.rejects(start(info(999_998)), /StartContainer .* refused: no container token/);
      await assert.rejects(start(info(999_998, t)), /the container token is for container .*_999999/);
      await assert.rejects(
        start({ ...info(999_999, t), resource: { memoryMB: 4096, vcores: 4 } }),
        /the container token is for 128 MB \/ 1 vcores/,
      );
      const other = mc.containerToken(bobApp, 1);
      await assert.rejects(start({ ...info(999_999, other) }), /the container token is for node/);
      const forged = { identifier: t.identifier, password: '0'.repeat(64) };
      await assert.rejects(start(info(999_999, forged)), /not one this cluster signed/);
      await assert.rejects(
        conn.request({ type: 'GetContainerLogs', appId: aliceApp }),
        /GetContainerLogs of .* refused: this connection is for/,
      );
      const sts = (await conn.request<{ statuses: ContainerStatus[] }>({ type: 'GetContainerStatuses' })).statuses;
      assert.ok(sts.every((s) => s.appId === bobApp));
      const aliceContainer = `container_${aliceApp.slice('application_'.length)}_01_000002`;
      await assert.rejects(
        conn.request({ type: 'StopContainer', containerId: aliceContainer }),
        /StopContainer .* refused: this connection is for/,
      );
    } finally {
      conn.close();
    }
    // the cluster secret is no credential at an NM
    await assert.rejects(
      dial({ host: '127.0.0.1', port: mc.nms[0]!.port, principal: 'cluster', secret: mc.secret, parse: parseToNm }),
      /authentication .* refused/,
    );
  });

  test('only admins issue identities; an issued identity works and is who it says', async () => {
    const out = path.join(mc.dir, 'carol.identity');
    const denied = await mc.cli(['user', 'add', 'carol', '--out', out], { user: 'bob' });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /user bob is not an admin/);
    assert.equal(fs.existsSync(out), false);
    const ok = await mc.cli(['user', 'add', 'carol', '--out', out], { user: 'root-of-ops', admin: true });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((fs.statSync(out).mode & 0o777).toString(8), '600');
    const who = await mc.cli(['whoami'], { env: { CINDER_IDENTITY: out } });
    assert.equal(who.stdout.trim(), 'carol');
    const tok = (await mc.cli(['token'], { env: { CINDER_IDENTITY: out } })).stdout.trim();
    const r = await mc.fetch(`${rest()}/apps/${aliceApp}`, { headers: { authorization: `Bearer ${tok}` } });
    assert.equal(r.status, 403, 'carol is not alice');
    // root is not an admin by name
    const root = await mc.cli(['kill', aliceApp], { user: 'root' });
    assert.equal(root.code, 1);
    assert.match(root.stderr, /user root may not kill/);
  });
});
