/**
 * The event log: buffered (no write per event), rolled into parts past the size limit, replayed by the
 * history server's reader into the same status as the live store; and the driver UI's guards and
 * metrics: the proxy credential on clusters (401 page naming the RM proxy address, links under the
 * proxy prefix), Prometheus text at /metrics and /metrics/executors/prometheus.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { replay, scanLogDirs } from '../../src/history/event-logs.js';
import { CinderContext } from '../../src/index.js';
import { AppStore } from '../../src/ui/app-store.js';
import { EventLogWriter } from '../../src/ui/event-log.js';
import { bindUiListener } from '../../src/ui/listener.js';
import { serveDriverUi } from '../../src/ui/server.js';
import { PROXY_AUTH_HEADER, PROXY_BASE_HEADER, proxyAuthValue } from '../../src/web/proxy-auth.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-event-log-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('events are buffered, not written one by one; flush and close write them all and drop .inprogress', () => {
  const dir = path.join(tmp, 'buffered');
  const w = new EventLogWriter({ dir, appId: 'local-1', rollBytes: 0, flushMs: 60_000 });
  for (let i = 0; i < 500; i++) w.write({ Event: 'X', i });
  assert.equal(fs.statSync(path.join(dir, 'local-1.jsonl.inprogress')).size, 0, 'nothing written yet');
  w.flush();
  assert.equal(fs.readFileSync(path.join(dir, 'local-1.jsonl.inprogress'), 'utf8').split('\n').length, 501);
  w.write({ Event: 'Y' });
  w.close();
  assert.deepEqual(fs.readdirSync(dir), ['local-1.jsonl']);
  const lines = fs.readFileSync(path.join(dir, 'local-1.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 501);
  assert.deepEqual(JSON.parse(lines[500]!), { Event: 'Y' });
});

test('a long-lived app rolls its log into parts; the parts replay into the same status as the live store', async () => {
  const dir = path.join(tmp, 'rolling');
  const sc = await CinderContext.getOrCreate({
    master: 'local[2]',
    appName: 'rolling',
    conf: {
      'cinder.ui.port': '0',
      'cinder.eventLog.dir': dir,
      'cinder.eventLog.rolling.enabled': 'true',
      'cinder.eventLog.rolling.maxFileSize': '4k',
      'cinder.eventLog.flushInterval': '50',
    },
  });
  let live: unknown;
  try {
    for (let i = 0; i < 6; i++)
      await sc
        .parallelize([...Array(40).keys()], 4)
        .map((x: number) => [x % 5, x] as [number, number])
        .reduceByKey((a: number, b: number) => a + b)
        .collect();
    live = await (await fetch(`${sc.uiWebUrl}/api/v1/applications/${sc.applicationId}/jobs`)).json();
  } finally {
    await sc.stop();
  }
  const files = fs.readdirSync(dir).sort();
  assert.ok(files.length >= 3, `rolled into parts: ${files}`);
  assert.ok(
    files.every((f) => /^local-\d+\.\d+\.jsonl$/.test(f)),
    `all parts closed: ${files}`,
  );
  const apps = scanLogDirs([dir]);
  assert.equal(apps.size, 1);
  const store = replay([...apps.values()][0]!);
  assert.equal(store.app.name, 'rolling');
  assert.ok(store.completed);
  assert.equal(store.jobs.size, 6);
  const { jobData } = await import('../../src/ui/rest-views.js');
  const replayed = [...store.jobs.values()].reverse().map((j) => jobData(store, j));
  assert.deepEqual(
    replayed.map((j) => [j.jobId, j.status, j.numCompletedTasks, j.numTasks]),
    (live as any[]).map((j) => [j.jobId, j.status, j.numCompletedTasks, j.numTasks]),
  );
});

test('on a cluster the UI answers only the RM proxy: 401 page without the credential, proxy-prefixed links with it; /metrics', async () => {
  const store = new AppStore();
  store.apply({
    Event: 'SparkListenerApplicationStart',
    'App Name': 'p',
    'App ID': 'application_1_0001',
    Timestamp: 1,
    User: 'u',
  });
  store.apply({
    Event: 'SparkListenerExecutorAdded',
    Timestamp: 2,
    'Executor ID': '1',
    'Executor Info': {
      Host: 'h1',
      'Total Cores': 2,
      'Log Urls': {},
      Attributes: { containerId: 'container_1_0001_01_000002' },
    },
  });
  const listener = await bindUiListener('127.0.0.1', 0);
  const app = await serveDriverUi(
    {
      store,
      liveExecutor: () => ({ rssBytes: 1000, heapUsedBytes: 500, maxMemory: 2000 }),
      proxySecret: 's3cret',
      rmWebUrl: 'http://rm:8088',
    },
    listener,
  );
  try {
    const bare = await fetch(`${listener.url}/jobs/`);
    assert.equal(bare.status, 401);
    const text = await bare.text();
    assert.match(text, /http:\/\/rm:8088\/proxy\/application_1_0001\//);
    assert.equal((await fetch(`${listener.url}/api/v1/applications`)).status, 401);
    const wrong = await fetch(`${listener.url}/jobs/`, { headers: { [PROXY_AUTH_HEADER]: proxyAuthValue('other') } });
    assert.equal(wrong.status, 401);
    const headers = {
      [PROXY_AUTH_HEADER]: proxyAuthValue('s3cret'),
      [PROXY_BASE_HEADER]: '/proxy/application_1_0001',
    };
    const ok = await fetch(`${listener.url}/jobs/`, { headers });
    assert.equal(ok.status, 200);
    const page = await ok.text();
    assert.match(page, /href="\/proxy\/application_1_0001\/stages\/"/);
    assert.doesNotMatch(page, /href="\/stages\/"/);
    // executor logs: behind the proxy the page's origin is the RM's, whose UI serves container logs
    const execs = await (await fetch(`${listener.url}/executors/`, { headers })).text();
    assert.match(execs, /href="\/cluster\/containerlogs\/container_1_0001_01_000002\/u\/stdout"/);
    const metrics = await (await fetch(`${listener.url}/metrics`, { headers })).text();
    assert.match(metrics, /^cinder_app_executors\{state="active"\} 1$/m);
    assert.match(metrics, /^cinder_app_tasks_total\{result="success"\} 0$/m);
    const ex = await (await fetch(`${listener.url}/metrics/executors/prometheus`, { headers })).text();
    assert.match(
      ex,
      /^metrics_executor_ProcessTreeJVMRSSMemory_bytes\{application_id="application_1_0001", application_name="p", executor_id="1"\} 1000$/m,
    );
    assert.match(ex, /^metrics_executor_totalCores\{.*executor_id="1"\} 2$/m);
    assert.match(ex, /^metrics_executor_memoryUsed_bytes\{.*executor_id="1"\} 0$/m, 'storage memory: nothing cached');
  } finally {
    await app.close();
    await listener.close();
  }
});

test('past maxFilesToRetain the oldest parts are compacted: finished jobs dropped, the app and executors kept', async () => {
  const dir = path.join(tmp, 'compact');
  const sc = await CinderContext.getOrCreate({
    master: 'local[2]',
    appName: 'compacting',
    conf: {
      'cinder.ui.enabled': 'false',
      'cinder.eventLog.dir': dir,
      'cinder.eventLog.rolling.enabled': 'true',
      'cinder.eventLog.rolling.maxFileSize': '4k',
      'cinder.eventLog.rolling.maxFilesToRetain': '2',
      'cinder.eventLog.flushInterval': '20',
    },
  });
  const JOBS = 12;
  try {
    for (let i = 0; i < JOBS; i++) {
      await sc.parallelize([...Array(20).keys()], 4).count();
      await new Promise((r) => setTimeout(r, 30)); // let the flush timer roll parts between jobs
    }
  } finally {
    await sc.stop();
  }
  const files = fs.readdirSync(dir);
  assert.ok(files.length <= 3, `at most the retained parts plus the last: ${files}`);
  const store = replay([...scanLogDirs([dir]).values()][0]!);
  assert.equal(store.app.name, 'compacting');
  assert.ok(store.completed);
  assert.equal(store.executors.size, 2, 'executors added in a compacted part are kept');
  assert.ok(store.jobs.size > 0 && store.jobs.size < JOBS, `old finished jobs dropped: ${store.jobs.size} left`);
  assert.ok(store.jobs.has(JOBS - 1), 'the last job is there');
  for (const j of store.jobs.values()) assert.equal(j.status, 'SUCCEEDED');
});
