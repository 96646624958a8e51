/**
 * The RM web UI in headless Chromium, against a real 2-node cluster running a real job (`cinder submit
 * --deploy-mode cluster` of a slow job): sign in with a token link, every page loads without console
 * errors or failed requests, the numbers shown are the ones REST answers, and the links lead where they
 * say (apps filter, app page -> container logs, app page -> the driver UI through the RM's proxy).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { browserMissing, type PageProblems, startBrowser } from '../harness/browser.js';
import { APPS, appIdFrom, deployCluster, submit } from './submit-harness.js';

const CLEAN: PageProblems = { consoleErrors: [], failedRequests: [], httpErrors: [] };

describe('RM web UI in a browser', { timeout: 180_000, skip: browserMissing() }, () => {
  const fx = deployCluster('rm-ui');

  test('a user finds their running app, its containers and logs, and opens its UI through the RM', async () => {
    const web = JSON.parse(fs.readFileSync(path.join(fx.mc.dir, 'rm.ready'), 'utf8')).webAddress as string;
    const token = fx.mc.restToken();
    const rest = async (p: string) => {
      const r = await fx.mc.fetch(web + p, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(r.status, 200, p);
      return (await r.json()) as Record<string, any>;
    };
    const run = submit(
      [
        '--master',
        fx.mc.master,
        '--deploy-mode',
        'cluster',
        '--num-executors',
        '2',
        '--executor-memory',
        '256m',
        '--driver-memory',
        '256m',
        path.join(APPS, 'slow.ts'),
        path.join(fx.tmp, 'marker'),
        '1000',
        '30',
      ],
      fx.env,
    );
    const b = await startBrowser({ spkiPins: [fx.mc.webSpkiPin] });
    try {
      await fx.mc.waitFor(async () => / RUNNING tracking=/.test(run.stdout()), 60_000, 'the app runs with a UI');
      const appId = appIdFrom(run.stdout());
      await fx.mc.waitFor(
        async () => (await rest(`/ws/v1/cluster/apps/${appId}`)).app.runningContainers === 3,
        30_000,
        'AM and 2 executors running',
      );
      // a browser without a login is sent to the sign-in form, and back where it was going once signed in
      const login = await b.open(`${web}/cluster/scheduler`);
      assert.equal(new URL(login.page.url()).pathname, '/login');
      await login.page.fill('#token', token);
      await Promise.all([login.page.waitForURL(/\/cluster\/scheduler$/), login.page.click('form button')]);
      assert.deepEqual(login.problems.consoleErrors, []);
      // a token link works too: the token leaves the address, the cookie stays
      const { page, problems } = await b.open(`${web}/cluster?token=${encodeURIComponent(token)}`);
      assert.equal(new URL(page.url()).pathname, '/cluster');
      assert.equal(new URL(page.url()).search, '');
      const m = (await rest('/ws/v1/cluster/metrics')).clusterMetrics;
      for (const k of ['appsRunning', 'appsSubmitted', 'totalMB', 'totalVirtualCores', 'activeNodes'])
        assert.equal(Number(await page.textContent(`[data-metric="${k}"]`)), m[k], k);
      assert.deepEqual(problems, CLEAN);

      // scheduler: the default queue's running apps and used share are REST's
      const sch = await b.open(`${web}/cluster/scheduler`);
      const q = (await rest('/ws/v1/cluster/scheduler')).scheduler.schedulerInfo.queues.queue[0];
      assert.equal(Number(await sch.page.textContent('[data-running="root.default"]')), q.numActiveApplications);
      assert.equal(Number(await sch.page.textContent('[data-pending="root.default"]')), q.numPendingApplications);
      assert.deepEqual(sch.problems, CLEAN);

      // applications, filtered by state through the form
      const apps = await b.open(`${web}/cluster/apps`);
      await apps.page.selectOption('#f-state', 'RUNNING');
      await Promise.all([apps.page.waitForURL(/state=RUNNING/), apps.page.click('#app-filters button')]);
      const running = (await rest('/ws/v1/cluster/apps?states=RUNNING')).apps.app as { id: string }[];
      assert.equal(Number(await apps.page.textContent('#app-count')), running.length);
      await Promise.all([apps.page.waitForURL(/\/cluster\/app\//), apps.page.click(`a[href="/cluster/app/${appId}"]`)]);
      assert.deepEqual(apps.problems, CLEAN);

      // the app page: its containers (AM and executors) with their nodes, as REST counts them
      const app = apps.page;
      const logsHref = await app.getAttribute('#am-logs', 'href');
      const uiHref = await app.getAttribute('#tracking-link', 'href');
      assert.equal(await app.textContent('#app-state'), 'RUNNING');
      // (a page expression: tsc has no DOM lib)
      const rows = (await app.evaluate(
        "Array.from(document.querySelectorAll('#containers tbody tr')).map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent))",
      )) as string[][];
      const live = rows.filter((r) => r[6] === 'RUNNING');
      assert.ok(live.length >= 3, JSON.stringify(rows));
      // the same containers REST lists for the attempt
      const attempt = (await rest(`/ws/v1/cluster/apps/${appId}/appattempts`)).appAttempts.appAttempt[0].appAttemptId;
      const viaRest = (await rest(`/ws/v1/cluster/apps/${appId}/appattempts/${attempt}/containers`)).containers
        .container as { containerId: string; containerState: string }[];
      assert.deepEqual(
        live.map((r) => r[0]).sort(),
        viaRest
          .filter((c) => c.containerState === 'RUNNING')
          .map((c) => c.containerId)
          .sort(),
      );
      assert.equal(live.filter((r) => r[1] === 'AM').length, 1);
      const nodeIds = new Set(((await rest('/ws/v1/cluster/nodes')).nodes.node as { id: string }[]).map((n) => n.id));
      for (const r of live) assert.ok(nodeIds.has(r[3]!), `container on an unknown node ${r[3]}`);

      // app page -> the AM container's logs
      const logs = await b.open(web + logsHref);
      assert.match((await logs.page.textContent('main')) ?? '', /container_\d+_\d+_01_000001/);
      assert.ok((await logs.page.$$('pre.log')).length >= 1, 'the AM container has log files');
      assert.deepEqual(logs.problems, CLEAN);

      // app page -> the driver UI, through the RM's proxy
      assert.equal(uiHref, `/proxy/${appId}/`);
      const ui = await b.open(web + uiHref);
      assert.ok(new URL(ui.page.url()).pathname.startsWith(`/proxy/${appId}/`), ui.page.url());
      assert.match((await ui.page.textContent('body')) ?? '', new RegExp(appId));
      assert.deepEqual(ui.problems.httpErrors, []);

      // nodes: one row per node REST lists
      const nodes = await b.open(`${web}/cluster/nodes`);
      assert.equal((await nodes.page.$$('#nodes tbody tr')).length, nodeIds.size);
      assert.deepEqual(nodes.problems, CLEAN);
    } finally {
      await b.close();
      run.child.kill('SIGKILL');
      await run.done;
      const id = /application_\d+_\d+/.exec(run.stdout())?.[0];
      if (id) await fx.mc.withClient((c) => c.kill(id)).catch(() => {});
    }
  });
});
