/**
 * The RM's HTTP surface on real daemons (RM + 2 NMs as processes, apps with real containers), over real
 * sockets: YARN REST contract (each endpoint's shape against a fixture transcribed from YARN's docs),
 * browser login (cookie) and REST's 401, view ACLs on pages, REST and proxy, the web proxy (headers,
 * Location rewrite, streaming, 502/404 pages), and Prometheus /metrics on the RM and an NM.
 */
import assert from 'node:assert/strict';
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type tls from 'node:tls';
import { MiniCluster, ROOT } from '../harness/mini-cluster.js';

type Json = Record<string, unknown>;
const shapes = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/yarn-rest/shapes.json'), 'utf8'));

/** Checks that obj has every documented field with the documented JSON type (and enum value). */
function assertShape(obj: Json, fields: Record<string, string>, enums: Record<string, string[]> = {}, what = ''): void {
  for (const [k, t] of Object.entries(fields)) {
    assert.ok(k in obj, `${what}: field ${k} missing (has ${Object.keys(obj).join(', ')})`);
    assert.equal(typeof obj[k], t, `${what}: field ${k} is ${typeof obj[k]}, YARN documents ${t}`);
  }
  for (const [k, vals] of Object.entries(enums))
    assert.ok(vals.includes(obj[k] as string), `${what}: ${k}=${obj[k]} is not one of YARN's ${vals.join('|')}`);
}

/** TLS server options of a driver UI for this app secret, derived here as decision 0027 documents it */
function uiTls(secret: string, psk = (id: string) => (id === 'cinder-ui' ? uiKey(secret) : null)): tls.TlsOptions {
  return {
    minVersion: 'TLSv1.3',
    ciphers: 'TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256',
    pskCallback: (_s: tls.TLSSocket, id: string) => psk(id),
  } as tls.TlsOptions;
}
function uiKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'cinder ui tls psk v1', 32));
}

describe('RM web: YARN REST contract, login, ACLs, proxy, metrics', { timeout: 120_000 }, () => {
  let mc: MiniCluster;
  let web: string;
  let alice: string;
  let bob: string;
  let appId: string;
  const appSecret = randomBytes(32).toString('hex');
  /** what the app's "UI" (a server in this test) received */
  const seen: { url: string; headers: http.IncomingHttpHeaders }[] = [];
  let ui: https.Server;
  let uiPort = 0;

  const get = (p: string, token?: string, headers: Record<string, string> = {}) =>
    mc.fetch(web + p, {
      redirect: 'manual',
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    });
  const json = async (p: string, token = alice) => {
    const r = await get(p, token);
    assert.equal(r.status, 200, `${p}: ${r.status} ${await r.clone().text()}`);
    return (await r.json()) as Json;
  };

  before(async () => {
    // the app's "UI" speaks what a driver UI on a cluster does (decision 0027): HTTPS over TLS 1.3 keyed by
    // HKDF-SHA256(app secret, "", "cinder ui tls psk v1"), identity cinder-ui, no certificate
    ui = https.createServer(uiTls(appSecret), (req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      if (req.url === '/go') {
        res.writeHead(302, { location: `https://127.0.0.1:${uiPort}/jobs/?x=1` });
        res.end();
      } else if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        // a streamed body larger than any single buffer
        let n = 0;
        const more = () => {
          while (n < 64) {
            n++;
            if (!res.write('x'.repeat(64 * 1024))) return void res.once('drain', more);
          }
          res.end();
        };
        more();
      } else {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'set-cookie': 'app=1' });
        res.end(`<p>driver ui ${req.url}</p>`);
      }
    });
    await new Promise<void>((r) => ui.listen(0, '127.0.0.1', () => r()));
    uiPort = (ui.address() as { port: number }).port;
    mc = await MiniCluster.start({ nodes: 2, nodeMemoryMB: 3072, rm: { historyAddress: 'history.example:18080' } });
    // the RM says where its web UI is (scheme included): tests do not assume http
    web = JSON.parse(fs.readFileSync(path.join(mc.dir, 'rm.ready'), 'utf8')).webAddress;
    assert.match(web, /^https?:\/\/[^/]+:\d+$/);
    alice = mc.restToken('alice');
    bob = mc.restToken('bob');
    const cl = await mc.client('alice');
    try {
      appId = await mc.submitSimple(cl, {
        containers: 2,
        command: ['/bin/sh', '-c', 'echo started; sleep 60'],
        trackingUrl: `https://127.0.0.1:${uiPort}/`,
        appSecret,
      });
      await mc.waitFor(
        async () => {
          const r = await cl.getApplication(appId);
          return r.state === 'RUNNING' && r.runningContainers === 3;
        },
        30_000,
        'the app runs its AM and 2 containers',
      );
    } finally {
      cl.close();
    }
  });
  after(async () => {
    await mc?.cleanup();
    ui?.close();
  });

  test('cluster info and metrics have YARN fields, and the metrics count what was asked for', async () => {
    const info = (await json(shapes.info.path))[shapes.info.root] as Json;
    assertShape(info, shapes.info.fields, shapes.info.enums, 'clusterInfo');
    assert.deepEqual(await json('/ws/v1/cluster'), await json(shapes.info.path));
    const m = (await json(shapes.metrics.path))[shapes.metrics.root] as Json;
    assertShape(m, shapes.metrics.fields, {}, 'clusterMetrics');
    // an AM of 256 MB and 2 containers of 128 MB (minAllocationMB=128 in the mini cluster), 1 vcore each
    assert.equal(m.allocatedMB, 512);
    assert.equal(m.allocatedVirtualCores, 3);
    assert.equal(m.containersAllocated, 3);
    assert.equal(m.appsRunning, 1);
    assert.equal(m.activeNodes, 2);
    assert.equal(m.totalMB, 2 * 3072);
    assert.equal((m.availableMB as number) + (m.allocatedMB as number), m.totalMB);
  });

  test('scheduler: capacityScheduler with a leaf queue in YARN shape showing the running app', async () => {
    const s = ((await json(shapes.scheduler.path))[shapes.scheduler.root] as Json).schedulerInfo as Json;
    assertShape(s, shapes.scheduler.schedulerInfo.fields, {}, 'schedulerInfo');
    assert.equal(s.type, shapes.scheduler.schedulerInfo.type);
    const queues = (s.queues as { queue: Json[] }).queue;
    assert.ok(Array.isArray(queues) && queues.length > 0);
    const q = queues.find((x) => x.queueName === 'default')!;
    assertShape(q, shapes.scheduler.queue.fields, {}, 'queue');
    assertShape(q, shapes.scheduler.queue.leafFields, {}, 'leaf queue');
    assert.equal(q.type, shapes.scheduler.queue.leafType);
    assertShape(q.resourcesUsed as Json, shapes.scheduler.queue.resourceFields, {}, 'resourcesUsed');
    assert.deepEqual(q.resourcesUsed, { memory: 512, vCores: 3 });
    assert.equal(q.numActiveApplications, 1);
    assert.equal(q.numContainers, 3);
  });

  test('apps, app and appattempts: YARN fields, the proxy tracking URL and amContainerLogs', async () => {
    const list = (await json(shapes.app.listPath)) as Json;
    const apps = (list[shapes.app.listRoot[0]] as Json)[shapes.app.listRoot[1]] as Json[];
    const mine = apps.find((a) => a.id === appId)!;
    assertShape(mine, shapes.app.fields, shapes.app.enums, 'apps.app[]');
    const one = (await json(shapes.app.path.replace('{appid}', appId)))[shapes.app.root] as Json;
    assertShape(one, shapes.app.fields, shapes.app.enums, 'app');
    assert.equal(one.trackingUI, 'ApplicationMaster');
    assert.equal(one.trackingUrl, `${web}${shapes.app.trackingUrlPattern.replace('{appid}', appId)}`);
    assert.ok((one.amContainerLogs as string).includes(shapes.app.amContainerLogsPattern), String(one.amContainerLogs));
    assert.equal(one.runningContainers, 3);
    // the CLI shows users the same proxy address
    const cli = await mc.cli(['apps'], { user: 'alice' });
    assert.equal(cli.code, 0, cli.stderr);
    assert.ok(cli.stdout.includes(`${web}/proxy/${appId}/`), cli.stdout);
    // filters
    assert.equal(((await json('/ws/v1/cluster/apps?states=FINISHED')) as Json).apps, null);
    const byUser = (await json('/ws/v1/cluster/apps?user=alice&states=running')) as { apps: { app: Json[] } };
    assert.deepEqual(
      byUser.apps.app.map((a) => a.id),
      [appId],
    );
    const future = Date.now() + 3_600_000;
    assert.equal(((await json(`/ws/v1/cluster/apps?startedTimeBegin=${future}`)) as Json).apps, null);
    assert.equal(((await json('/ws/v1/cluster/apps?applicationTypes=NOPE')) as Json).apps, null);
    assert.equal(((await json(`/ws/v1/cluster/apps?finishedTimeEnd=${future}`)) as Json).apps, null, 'not finished');
    const inRange = (await json(`/ws/v1/cluster/apps?startedTimeEnd=${future}&queue=default`)) as {
      apps: { app: Json[] };
    };
    assert.ok(inRange.apps.app.some((a) => a.id === appId));
    assert.equal((await get('/ws/v1/cluster/apps?limit=-1', alice)).status, 400);
    const at = (await json(shapes.appattempts.path.replace('{appid}', appId))) as Json;
    const attempts = (at[shapes.appattempts.listRoot[0]] as Json)[shapes.appattempts.listRoot[1]] as Json[];
    assert.equal(attempts.length, 1);
    assertShape(attempts[0]!, shapes.appattempts.fields, {}, 'appAttempt');
    assert.equal(attempts[0]!.id, 1);
    const attemptId = attempts[0]!.appAttemptId as string;
    const single = (await json(`/ws/v1/cluster/apps/${appId}/appattempts/${attemptId}`)).appAttempt as Json;
    assert.deepEqual(single, attempts[0]);
    const cs = (await json(
      shapes.attemptContainers.path.replace('{appid}', appId).replace('{attemptid}', attemptId),
    )) as Json;
    const containers = (cs[shapes.attemptContainers.listRoot[0]] as Json)[
      shapes.attemptContainers.listRoot[1]
    ] as Json[];
    assert.equal(containers.length, 3, 'the AM and the 2 containers it asked for');
    for (const c of containers) {
      assertShape(c, shapes.attemptContainers.fields, shapes.attemptContainers.enums, 'container');
      assert.equal(c.containerState, 'RUNNING');
    }
    assert.deepEqual(containers.map((c) => c.allocatedMB).sort(), [128, 128, 256]);
    assert.equal((await get(`/ws/v1/cluster/apps/${appId}/appattempts/appattempt_1_0001_000009`, alice)).status, 404);
    // the logs link leads to the AM container's log page, which shows what it wrote
    const logs = await get(new URL(attempts[0]!.logsLink as string).pathname, alice, { accept: 'text/html' });
    assert.equal(logs.status, 200);
    assert.match(await logs.text(), /simple-am: registered/);
  });

  test('nodes and nodes/{id}: YARN fields, with used resources adding up to the cluster metrics', async () => {
    const list = (await json(shapes.node.listPath)) as Json;
    const nodes = (list[shapes.node.listRoot[0]] as Json)[shapes.node.listRoot[1]] as Json[];
    assert.equal(nodes.length, 2);
    for (const n of nodes) assertShape(n, shapes.node.fields, shapes.node.enums, 'nodes.node[]');
    assert.equal(
      nodes.reduce((s, n) => s + (n.usedMemoryMB as number), 0),
      512,
    );
    assert.equal(
      nodes.reduce((s, n) => s + (n.numContainers as number), 0),
      3,
    );
    const id = nodes[0]!.id as string;
    const one = (await json(shapes.node.path.replace('{nodeid}', id)))[shapes.node.root] as Json;
    assertShape(one, shapes.node.fields, shapes.node.enums, 'node');
    assert.equal(one.id, id);
    assert.match(one.nodeHTTPAddress as string, /^127\.0\.0\.1:\d+$/);
    assert.equal((await get('/ws/v1/cluster/nodes/nope:1', alice)).status, 404);
  });

  test('REST keeps 401 JSON; a browser is sent to the login page and signs in once with a cookie', async () => {
    const r = await get('/ws/v1/cluster/apps');
    assert.equal(r.status, 401);
    assert.equal(((await r.json()) as { RemoteException: Json }).RemoteException.exception, 'AuthenticationException');
    const page = await get('/cluster/apps?user=alice', undefined, { accept: 'text/html' });
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('location'), `/login?next=${encodeURIComponent('/cluster/apps?user=alice')}`);
    const bad = await get('/cluster?token=nope', undefined, { accept: 'text/html' });
    assert.equal(bad.status, 401);
    assert.equal(bad.headers.get('set-cookie'), null);
    const signIn = await get(`/cluster/apps?user=alice&token=${encodeURIComponent(alice)}`, undefined, {
      accept: 'text/html',
    });
    assert.equal(signIn.status, 303);
    assert.equal(signIn.headers.get('location'), '/cluster/apps?user=alice');
    const cookie = signIn.headers.get('set-cookie') ?? '';
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const jar = cookie.split(';')[0]!;
    const withCookie = await get('/cluster/apps?user=alice', undefined, { accept: 'text/html', cookie: jar });
    assert.equal(withCookie.status, 200);
    const body = await withCookie.text();
    assert.match(body, new RegExp(`href="/cluster/app/${appId}"`));
    assert.match(body, /signed in as <b>alice<\/b>/);
    // the form login works too
    const form = await mc.fetch(`${web}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: alice, next: '//evil.example/x' }).toString(),
    });
    assert.equal(form.status, 303);
    assert.equal(form.headers.get('location'), '/cluster', 'no redirect to another origin');
    // a cookie is not enough to change anything (only GET/HEAD accept it)
    const kill = await mc.fetch(`${web}/ws/v1/cluster/apps/${appId}/state`, {
      method: 'PUT',
      headers: { cookie: jar, 'content-type': 'application/json' },
      body: JSON.stringify({ state: 'KILLED' }),
    });
    assert.equal(kill.status, 401);
  });

  test('another user sees the app listed without its details and is refused its page, REST and proxy', async () => {
    const list = (await json('/ws/v1/cluster/apps', bob)) as { apps: { app: Json[] } };
    const a = list.apps.app.find((x) => x.id === appId)!;
    assert.deepEqual([a.trackingUrl, a.amContainerLogs, a.amHostHttpAddress, a.diagnostics], ['', '', '', '']);
    assert.equal((await get(`/ws/v1/cluster/apps/${appId}`, bob)).status, 403);
    assert.equal((await get(`/ws/v1/cluster/apps/${appId}/appattempts`, bob)).status, 403);
    const page = await get(`/cluster/app/${appId}`, bob, { accept: 'text/html' });
    assert.equal(page.status, 403);
    assert.match(await page.text(), /may not view/);
    const n = seen.length;
    assert.equal((await get(`/proxy/${appId}/`, bob)).status, 403);
    const logs = await get(
      `/cluster/containerlogs/${appId.replace('application_', 'container_')}_01_000001/alice`,
      bob,
      {
        accept: 'text/html',
      },
    );
    assert.equal(logs.status, 403);
    assert.equal(seen.length, n, 'nothing reached the app UI');
  });

  test('the proxy forwards to the tracking URL with the proxy credential, rewrites Location and streams bodies', async () => {
    const r = await get(`/proxy/${appId}/stages/?id=3`, alice, { cookie: 'cinder_token=should-not-leak' });
    assert.equal(r.status, 200);
    assert.equal(await r.text(), '<p>driver ui /stages/?id=3</p>');
    assert.equal(r.headers.get('set-cookie'), null, "the app's cookies are not passed to the RM's origin");
    const h = seen.at(-1)!.headers;
    // the credential the app's UI checks: HMAC-SHA256 of the fixed label under the app secret
    assert.equal(
      h['x-cinder-proxy-auth'],
      createHmac('sha256', appSecret).update('cinder-ui-proxy/v1').digest('base64url'),
    );
    assert.equal(h['x-cinder-proxy-base'], `/proxy/${appId}`);
    assert.equal(h['x-cinder-proxy-user'], 'alice');
    assert.equal(h.authorization, undefined);
    assert.equal(h.cookie, undefined);
    const go = await get(`/proxy/${appId}/go`, alice);
    assert.equal(go.status, 302);
    assert.equal(go.headers.get('location'), `/proxy/${appId}/jobs/?x=1`);
    const big = await get(`/proxy/${appId}/big`, alice);
    assert.equal((await big.text()).length, 64 * 64 * 1024);
    const bare = await get(`/proxy/${appId}`, alice);
    assert.equal(bare.status, 302);
    assert.equal(bare.headers.get('location'), `/proxy/${appId}/`);
    assert.equal((await get('/proxy/application_1_9999/', alice)).status, 404);
  });

  test('/metrics on the RM (user or metrics token) and on an NM (metrics token only)', async () => {
    assert.equal((await get('/metrics')).status, 401);
    const mt = (await mc.cli(['metrics-token', '--secret-file', mc.secretFile])).stdout.trim();
    assert.match(mt, /^metrics\./);
    for (const token of [alice, mt]) {
      const r = await get('/metrics', token);
      assert.equal(r.status, 200);
      const text = await r.text();
      assert.match(text, /^cinder_rm_apps\{state="RUNNING"\} 1$/m);
      assert.match(text, /^cinder_rm_memory_used_mb 512$/m);
      assert.match(text, /^cinder_rm_vcores_used 3$/m);
      assert.match(text, /^cinder_rm_containers_allocated 3$/m);
      assert.match(text, /^cinder_rm_nodes\{state="RUNNING"\} 2$/m);
      assert.match(text, /^cinder_rm_queue_apps\{queue="root.default",state="running"\} 1$/m);
      assert.match(text, /^cinder_rm_rpc_requests_total\{type="Allocate"\} \d+$/m);
    }
    // the metrics token opens nothing else
    assert.equal((await get('/ws/v1/cluster/apps', mt)).status, 401);
    const nm = JSON.parse(fs.readFileSync(path.join(mc.nms[0]!.dir, 'nm.ready'), 'utf8')).httpAddress as string;
    assert.match(nm, /^127\.0\.0\.1:\d+$/);
    // HTTPS with a certificate of the cluster CA: plain HTTP and clients that do not trust the CA get nothing
    const auth = { headers: { authorization: `Bearer ${mt}` } };
    await assert.rejects(fetch(`http://${nm}/metrics`, auth), 'plain HTTP to the NM is refused');
    await assert.rejects(fetch(`https://${nm}/metrics`, auth), 'the system roots do not vouch for the NM');
    assert.equal((await mc.fetch(`https://${nm}/metrics`)).status, 401);
    assert.equal(
      (await mc.fetch(`https://${nm}/metrics`, { headers: { authorization: `Bearer ${alice}` } })).status,
      401,
    );
    const r = await mc.fetch(`https://${nm}/metrics`, auth);
    assert.equal(r.status, 200);
    const text = await r.text();
    const launched = [0, 1].map(() => 0);
    launched[0] = Number(/^cinder_nm_container_launches_total (\d+)$/m.exec(text)?.[1]);
    assert.ok(launched[0]! >= 1, text.slice(0, 400));
    assert.match(text, /^cinder_nm_containers_running \d+$/m);
    assert.match(text, /^cinder_nm_cache_entries \d+$/m);
    assert.match(text, /^cinder_nm_cache_bytes \d+$/m);
  });

  test('cinder logs -f prints what the containers write while they run and returns when the app ends', async () => {
    const cl = await mc.client('alice');
    let followed: string;
    try {
      const id = await mc.submitSimple(cl, {
        containers: 2,
        command: ['/bin/sh', '-c', 'for i in 1 2 3; do echo "tick$i $CINDER_CONTAINER_ID"; sleep 1; done'],
      });
      await mc.waitFor(async () => (await cl.getApplication(id)).state === 'RUNNING', 20_000, 'running');
      const started = Date.now();
      const r = await mc.cli(['logs', id, '-f'], { user: 'alice' });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`${id} ended FINISHED/SUCCEEDED`));
      followed = r.stdout;
      assert.ok(Date.now() - started < 60_000);
      const containers = (await cl.getLogs(id)).filter(
        (l) => l.file === 'stdout' && !l.containerId.endsWith('_000001'),
      );
      assert.equal(containers.length, 2);
      for (const c of containers)
        for (const i of [1, 2, 3]) {
          const line = `tick${i} ${c.containerId}`;
          assert.equal(followed.split(line).length - 1, 1, `${line} printed once:\n${followed}`);
        }
    } finally {
      cl.close();
    }
  });

  test('the proxy forwards to no server on the tracking address that lacks the app key: nothing reaches it', async () => {
    // an ordinary HTTPS server with a cluster-CA certificate (the RM's own), which answers the key offer
    // either with its certificate or with the key of another secret; and a plain HTTP server
    let mode: 'cert' | 'other-key' = 'cert';
    const reached = { tls: 0, requests: 0, plain: 0 };
    const imp = https.createServer(
      {
        ...uiTls('', (id) => (mode === 'other-key' && id === 'cinder-ui' ? uiKey('another secret') : null)),
        cert: fs.readFileSync(path.join(mc.dir, 'rm', 'web.pem')),
        key: fs.readFileSync(path.join(mc.dir, 'rm', 'web.key')),
      },
      (_req, res) => {
        reached.requests++;
        res.end('impostor');
      },
    );
    imp.on('secureConnection', () => reached.tls++);
    const { createServer } = await import('node:http');
    const plain = createServer((_req, res) => {
      reached.plain++;
      res.end('plain');
    });
    const listen = (srv: http.Server | https.Server) =>
      new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));
    const [impPort, plainPort] = [await listen(imp), await listen(plain)];
    const cl = await mc.client('alice');
    const ids: string[] = [];
    try {
      for (const trackingUrl of [`https://127.0.0.1:${impPort}/`, `http://127.0.0.1:${plainPort}/`])
        ids.push(
          await mc.submitSimple(cl, {
            containers: 1,
            command: ['/bin/sh', '-c', 'sleep 60'],
            trackingUrl,
            amMemoryMB: 128,
          }),
        );
      await mc.waitFor(
        async () => (await Promise.all(ids.map((id) => cl.getApplication(id)))).every((r) => r.state === 'RUNNING'),
        30_000,
        'both apps run',
      );
      for (const m of ['cert', 'other-key'] as const) {
        mode = m;
        const r = await get(`/proxy/${ids[0]}/jobs/`, alice, { accept: 'text/html' });
        assert.equal(r.status, 502, m);
        assert.match(await r.text(), /does not answer \(the (TLS handshake|application UI presented a certificate)/, m);
      }
      const p = await get(`/proxy/${ids[1]}/jobs/`, alice, { accept: 'text/html' });
      assert.equal(p.status, 502);
      assert.match(await p.text(), /registered a UI that is not HTTPS/);
      assert.deepEqual(reached, { tls: 0, requests: 0, plain: 0 }, 'no request, so no proxy credential, reached them');
    } finally {
      for (const id of ids) await cl.kill(id).catch(() => undefined);
      cl.close();
      imp.close();
      plain.close();
    }
  });

  test('after the app ends the proxy says so and links the history server; the app page shows exit statuses', async () => {
    // first its UI goes away while the app still runs: a clear 502 page
    await new Promise<void>((r) => {
      ui.close(() => r());
      ui.closeAllConnections();
    });
    const down = await get(`/proxy/${appId}/`, alice, { accept: 'text/html' });
    assert.equal(down.status, 502);
    assert.match(await down.text(), /does not answer/);
    const k = await mc.fetch(`${web}/ws/v1/cluster/apps/${appId}/state`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ state: 'KILLED' }),
    });
    assert.ok([200, 202].includes(k.status));
    await mc.waitFor(
      async () => ((await json(`/ws/v1/cluster/apps/${appId}`)).app as Json).state === 'KILLED',
      15_000,
      'app killed',
    );
    const r = await get(`/proxy/${appId}/`, alice, { accept: 'text/html' });
    assert.equal(r.status, 404);
    const body = await r.text();
    assert.match(body, /has ended \(KILLED\)/);
    assert.match(body, new RegExp(`href="http://history.example:18080/history/${appId}/"`));
    const page = await (await get(`/cluster/app/${appId}`, alice, { accept: 'text/html' })).text();
    // the ended app's page links its history instead of the gone UI
    assert.match(page, new RegExp(`id="history-link" href="http://history.example:18080/history/${appId}/"`));
    const rows = page.split('<table id="containers"')[1]!.split('</table>')[0]!.split('<tr>').slice(2);
    assert.equal(rows.length, 3, 'the AM and both containers are listed');
    for (const row of rows) assert.match(row, /KILLED.*-10[0-9]/s, row);
  });
});
