/**
 * Spark-compatible REST on the driver and the history server: one contract test per endpoint compares
 * the answer with Spark's documented object shape (test/fixtures/spark-api/shapes.json), on the live
 * driver of a local app and on `cinder history-server` replaying that app's event log afterwards.
 * The numbers are checked against what the job did (records read, shuffled, partitions cached).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CinderContext } from '../../src/index.js';
import { CINDER } from '../harness/mini-cluster.js';
import { checkShape } from '../harness/spark-shape.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-rest-contract-'));
const logDir = path.join(tmp, 'events');
const input = path.join(tmp, 'words.txt');
const LINES = 3000;
fs.writeFileSync(input, Array.from({ length: LINES }, (_, i) => `w${i % 7} x${i % 3}`).join('\n') + '\n');

let sc: CinderContext;
let appId: string;
let driverUrl: string;
let history: ChildProcess | undefined;
let historyUrl: string;

async function get(base: string, p: string): Promise<{ status: number; body: unknown; text: string }> {
  const r = await fetch(base + p);
  const text = await r.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: r.status, body, text };
}

before(async () => {
  sc = await CinderContext.getOrCreate({
    master: 'local[2]',
    appName: 'rest-contract',
    conf: { 'cinder.ui.port': '0', 'cinder.eventLog.dir': logDir, 'my.secret.password': 'hunter2' },
  });
  appId = sc.applicationId;
  driverUrl = sc.uiWebUrl!;
  const counts = sc
    .textFile(input, 3)
    .flatMap((l: string) => l.split(' '))
    .map((w: string) => [w, 1] as [string, number])
    .reduceByKey((a: number, b: number) => a + b, 2)
    .cache();
  assert.equal((await counts.collect()).length, 10);
  assert.equal(await counts.count(), 10);
});

after(async () => {
  await sc?.stop();
  history?.kill('SIGTERM');
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Every endpoint, the Spark shape it answers with, and what must hold of the numbers. */
function endpoints(): Array<{ p: string; shape: string; list?: boolean; check?: (b: any) => void }> {
  return [
    { p: '/api/v1/applications', shape: 'ApplicationInfo', list: true, check: (b) => assert.equal(b[0].id, appId) },
    { p: '/api/v1/applications/{id}', shape: 'ApplicationInfo' },
    {
      p: '/api/v1/applications/{id}/jobs',
      shape: 'JobData',
      list: true,
      check: (b) => {
        assert.deepEqual(
          b.map((j: any) => j.status),
          ['SUCCEEDED', 'SUCCEEDED'],
        );
        // the second job reads the cached shuffle output: its map stage is skipped
        assert.equal(b[0].numSkippedStages, 1);
        assert.match(b[1].name, /collect at .*ui-rest-contract/);
      },
    },
    { p: '/api/v1/applications/{id}/jobs/0', shape: 'JobData', check: (b) => assert.equal(b.numTasks, 5) },
    {
      p: '/api/v1/applications/{id}/stages',
      shape: 'StageData',
      list: true,
      check: (b) => {
        const map = b.find((s: any) => s.stageId === 0);
        assert.equal(map.status, 'COMPLETE');
        assert.equal(map.inputRecords, LINES, 'every input line counted once');
        assert.equal(map.shuffleWriteRecords > 0, true);
        const reduce = b.find((s: any) => s.stageId === 1);
        assert.equal(reduce.shuffleReadRecords, map.shuffleWriteRecords, 'what was written was read');
      },
    },
    { p: '/api/v1/applications/{id}/stages/0', shape: 'StageData', list: true },
    {
      p: '/api/v1/applications/{id}/stages/0/0',
      shape: 'StageData',
      check: (b) => assert.equal(Object.keys(b.tasks).length, 3),
    },
    {
      p: '/api/v1/applications/{id}/stages/0/0/taskSummary?quantiles=0,0.5,1',
      shape: 'TaskMetricDistributions',
      check: (b) => {
        assert.deepEqual(b.quantiles, [0, 0.5, 1]);
        assert.equal(b.duration.length, 3);
      },
    },
    {
      p: '/api/v1/applications/{id}/stages/0/0/taskList?sortBy=-runtime',
      shape: 'TaskData',
      list: true,
      check: (b) => {
        assert.equal(b.length, 3);
        assert.equal(
          b.reduce((n: number, t: any) => n + t.taskMetrics.inputMetrics.recordsRead, 0),
          LINES,
        );
        assert.ok(b[0].duration >= b[2].duration, 'sorted by decreasing run time');
      },
    },
    {
      p: '/api/v1/applications/{id}/allexecutors',
      shape: 'ExecutorSummary',
      list: true,
      check: (b) =>
        assert.equal(
          b.reduce((n: number, e: any) => n + e.completedTasks, 0),
          7,
        ),
    },
    { p: '/api/v1/applications/{id}/executors', shape: 'ExecutorSummary', list: true },
    {
      p: '/api/v1/applications/{id}/storage/rdd',
      shape: 'RDDStorageInfo',
      list: true,
      check: (b) => {
        assert.equal(b.length, 1);
        assert.equal(b[0].numCachedPartitions, 2);
        assert.ok(b[0].memoryUsed > 0, 'cached partitions have a measured size');
      },
    },
    {
      p: '/api/v1/applications/{id}/environment',
      shape: 'ApplicationEnvironmentInfo',
      check: (b) => {
        const props = new Map(b.sparkProperties as Array<[string, string]>);
        assert.equal(props.get('cinder.app.name'), 'rest-contract');
        assert.notEqual(props.get('my.secret.password'), 'hunter2', 'secrets are redacted');
      },
    },
    { p: '/api/v1/version', shape: 'VersionInfo' },
  ];
}

function contract(where: () => string) {
  for (const e of endpoints()) {
    test(`${e.p} has Spark's ${e.shape} shape`, async () => {
      const url = e.p.replace('{id}', appId);
      const r = await get(where(), url);
      assert.equal(r.status, 200, r.text);
      const items = e.list ? (r.body as unknown[]) : [r.body];
      assert.ok(Array.isArray(items) && items.length > 0, `${url} answered ${r.text.slice(0, 200)}`);
      const problems = items.flatMap((x) => checkShape(x, e.shape));
      assert.deepEqual(problems, []);
      e.check?.(r.body);
      assert.doesNotMatch(r.text, /hunter2/);
    });
  }
  test('errors: unknown app, job and stage are 404; bad enum and quantiles are 400', async () => {
    const base = where();
    assert.equal((await get(base, '/api/v1/applications/nope/jobs')).status, 404);
    assert.equal((await get(base, `/api/v1/applications/${appId}/jobs/99`)).status, 404);
    assert.equal((await get(base, `/api/v1/applications/${appId}/stages/99/0`)).status, 404);
    const bad = await get(base, `/api/v1/applications/${appId}/jobs?status=bogus`);
    assert.equal(bad.status, 400);
    assert.match(bad.text, /status/);
    assert.equal((await get(base, `/api/v1/applications/${appId}/stages/0/0/taskSummary?quantiles=2`)).status, 400);
  });
}

describe('driver (live)', () => contract(() => driverUrl));

describe('history server (replayed event log)', () => {
  before(async () => {
    await sc.stop();
    history = spawn(process.execPath, [CINDER, 'history-server', '--dir', logDir, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    historyUrl = await new Promise<string>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error(`history server did not start: ${out}`)), 20_000);
      history!.stdout!.on('data', (d) => {
        out += d;
        const m = /history server at (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(m[1] as string);
        }
      });
      history!.once('exit', (c) => reject(new Error(`history server exited ${c}: ${out}`)));
    });
  });
  contract(() => historyUrl);
  test('the finished app is listed as completed, with its event log closed', async () => {
    const r = await get(historyUrl, '/api/v1/applications?status=completed');
    assert.deepEqual(
      (r.body as any[]).map((a) => [a.id, a.attempts[0].completed]),
      [[appId, true]],
    );
    assert.deepEqual(fs.readdirSync(logDir), [`${appId}.jsonl`]);
  });
});
