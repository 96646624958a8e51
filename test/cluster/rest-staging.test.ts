/** REST API shapes and ACLs, and localization of a staged file changed after upload, on real daemons. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MiniCluster } from '../harness/mini-cluster.js';

describe('REST API and staging checks', { timeout: 60_000 }, () => {
  let mc: MiniCluster;
  let base: string;
  let auth: Record<string, string>;
  before(async () => {
    mc = await MiniCluster.start({ nodes: 1 });
    base = mc.restBase;
    auth = { authorization: `Bearer ${mc.restToken('alice')}` };
  });
  after(async () => {
    await mc?.cleanup();
  });

  test('YARN-shaped info, metrics, apps, app and appattempts; PUT state needs the modify ACL and kills', async () => {
    const cl = await mc.client('alice');
    try {
      const appId = await mc.submitSimple(cl, {
        containers: 1,
        command: ['sleep', '60'],
        acls: { view: ['*'], modify: [] },
      });
      await mc.waitFor(async () => (await cl.getApplication(appId)).state === 'RUNNING', 10_000, 'RUNNING');
      const get = async (p: string) => {
        const r = await mc.fetch(`${base}${p}`, { headers: auth });
        assert.equal(r.status, 200, p);
        return (await r.json()) as Record<string, any>;
      };
      assert.equal((await get('/info')).clusterInfo.state, 'STARTED');
      const m = (await get('/metrics')).clusterMetrics;
      assert.equal(m.activeNodes, 1);
      assert.equal(m.appsRunning, 1);
      const apps = (await get('/apps?states=RUNNING')).apps.app;
      assert.deepEqual(
        apps.map((a: { id: string }) => a.id),
        [appId],
      );
      // bob may view (the view ACL is "*"), and his token says he is bob whatever user.name claims
      const bobAuth = { authorization: `Bearer ${mc.restToken('bob')}` };
      const asBob = await mc.fetch(`${base}/apps/${appId}?user.name=alice`, { headers: bobAuth });
      assert.equal(asBob.status, 200);
      const app = ((await asBob.json()) as Record<string, any>).app;
      assert.equal(app.user, 'alice');
      assert.equal(app.finalStatus, 'UNDEFINED');
      const atts = (await get(`/apps/${appId}/appattempts`)).appAttempts.appAttempt;
      assert.equal(atts.length, 1);
      assert.equal(atts[0].appAttemptState, 'RUNNING');
      assert.match(atts[0].containerId, /_01_000001$/);
      const put = (user: string) =>
        mc.fetch(`${base}/apps/${appId}/state?user.name=alice`, {
          method: 'PUT',
          headers: {
            authorization: `Bearer ${mc.restToken(user)}`,
            'x-cinder-user': 'alice',
            'content-type': 'application/json',
          },
          body: '{"state":"KILLED"}',
        });
      const denied = await put('bob');
      assert.equal(denied.status, 403);
      assert.match(((await denied.json()) as any).RemoteException.message, /user bob may not kill/);
      assert.equal((await cl.getApplication(appId)).state, 'RUNNING');
      const unauth = await mc.fetch(`${base}/apps/${appId}/state`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: '{"state":"KILLED"}',
      });
      assert.equal(unauth.status, 401);
      assert.equal((await cl.getApplication(appId)).state, 'RUNNING');
      const ok = await put('alice');
      assert.equal(ok.status, 202);
      assert.deepEqual(await ok.json(), { state: 'KILLED' });
      assert.equal((await mc.fetch(`${base}/apps/application_1_0001`, { headers: auth })).status, 404);
    } finally {
      cl.close();
    }
  });

  test('a staged file changed after upload fails localization with -1000 and a clear diagnostic', async () => {
    const cl = await mc.client('alice');
    try {
      const { appId } = await cl.newApplication();
      const f = await cl.uploadFile(appId, 'data.txt', Buffer.from('original'));
      fs.writeFileSync(path.join(mc.rm.dir, 'staging', 'blobs', f.sha256), 'modified!');
      await cl.submitApplication({
        appId,
        maxAttempts: 1,
        amResource: { memoryMB: 128, vcores: 1 },
        amLaunchContext: { command: ['cat', 'data.txt'], localResources: { 'data.txt': { ...f, type: 'FILE' } } },
      });
      const r = await cl.waitForState(appId, ['FAILED', 'FINISHED', 'KILLED'], 10_000);
      assert.equal(r.state, 'FAILED');
      assert.match(r.diagnostics, /exited with status -1000: localization failed: .*changed on the staging store/);
    } finally {
      cl.close();
    }
  });
});
