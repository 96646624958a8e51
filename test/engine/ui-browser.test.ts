/**
 * The driver UI of a running local-mode job and the history server afterwards, in headless Chromium:
 * a stage's tasks are seen progressing, the numbers a page shows match the REST answers taken around
 * it, the DAG is drawn as SVG by the served dagre, pages load without console errors, links lead to
 * the pages they name.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { CinderContext } from '../../src/index.js';
import { browserMissing, startBrowser, type TestBrowser } from '../harness/browser.js';
import { CINDER } from '../harness/mini-cluster.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ui-browser-'));
const cleanup: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const NO_PROBLEMS = { consoleErrors: [], failedRequests: [], httpErrors: [] };

async function rest(base: string, p: string): Promise<any> {
  const r = await fetch(base + p);
  assert.equal(r.status, 200, `${p}: ${r.status}`);
  return r.json();
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** "done/total" shown in a progress cell */
function counts(text: string | null): [number, number] {
  const m = /(\d+)\/(\d+)/.exec(text ?? '');
  assert.ok(m, `no counts in ${text}`);
  return [Number(m[1]), Number(m[2])];
}

test('driver UI of a running job, then the history server after it ended', {
  skip: browserMissing(),
  timeout: 120_000,
}, async () => {
  const logDir = path.join(tmp, 'events');
  const sc = await CinderContext.getOrCreate({
    master: 'local[2]',
    appName: 'browser-watch',
    conf: { 'cinder.ui.port': '0', 'cinder.eventLog.dir': logDir },
  });
  cleanup.push(() => sc.stop());
  const base = sc.uiWebUrl!;
  const app = `/api/v1/applications/${sc.applicationId}`;
  // the browser starts before the job: under load its start took longer than the stage's ~2 s, and the
  // stage was then past the part-way window this test watches
  const b: TestBrowser = await startBrowser();
  cleanup.push(() => b.close());
  const TASKS = 16;
  const job = sc
    .parallelize([...Array(TASKS).keys()], TASKS)
    .map((x: number) => {
      const end = Date.now() + 250;
      while (Date.now() < end) {
        // a task that takes a while, so its progress can be watched
      }
      return [x % 3, x] as [number, number];
    })
    .groupByKey(2)
    .collect();
  // the map stage is running: some tasks done, not all
  const running = await until('stage 0 to be part way', async () => {
    const s = (await rest(base, `${app}/stages/0/0?details=false`)) as any;
    return s.status === 'ACTIVE' && s.numCompleteTasks >= 1 && s.numCompleteTasks < TASKS - 4 ? s : undefined;
  });
  const { page, problems } = await b.open(`${base}/stages/stage/?id=0&attempt=0`);
  const after1 = (await rest(base, `${app}/stages/0/0?details=false`)) as any;
  const [shown, total] = counts(await page.textContent('#stage-progress .counts'));
  assert.equal(total, TASKS);
  assert.ok(
    shown >= running.numCompleteTasks && shown <= after1.numCompleteTasks,
    `page shows ${shown} done, REST said ${running.numCompleteTasks} before and ${after1.numCompleteTasks} after`,
  );
  // the stage's DAG: one SVG node per RDD of the stage, as REST lists them
  await page.waitForSelector('#stage-dag svg g.dag-node', { timeout: 10_000 });
  assert.equal(await page.locator('#stage-dag svg g.dag-node').count(), after1.rddIds.length);
  // watch it progress
  let later = shown;
  for (let i = 0; i < 100 && later <= shown; i++) {
    await new Promise((r) => setTimeout(r, 200));
    await page.reload({ waitUntil: 'load' });
    later = counts(await page.textContent('#stage-progress .counts'))[0];
  }
  assert.ok(later > shown, `progress: ${shown} then ${later}`);
  const taskRows = await page.locator('#tasks tbody tr').count();
  const restTasks = (await rest(base, `${app}/stages/0/0/taskList?length=1000`)) as any[];
  assert.ok(taskRows <= restTasks.length && taskRows >= later, `${taskRows} task rows, REST ${restTasks.length}`);
  assert.deepEqual(problems, NO_PROBLEMS);

  await job;
  // jobs page: the finished job, its call site, and numbers equal to REST's
  const jobs = await b.open(`${base}/jobs/`);
  const restJobs = (await rest(base, `${app}/jobs`)) as any[];
  const row = jobs.page.locator('#jobs tbody tr').first();
  assert.match((await row.textContent()) ?? '', /SUCCEEDED/);
  assert.match((await row.textContent()) ?? '', /collect at .*ui-browser\.test/);
  assert.deepEqual(counts(await row.locator('.counts').textContent()), [
    restJobs[0].numCompletedTasks,
    restJobs[0].numTasks,
  ]);
  // the job id links to the job page, whose DAG shows both stages
  await row.locator('a').first().click();
  await jobs.page.waitForSelector('#job-dag svg g.dag-cluster', { timeout: 10_000 });
  assert.equal(await jobs.page.locator('#job-dag svg g.dag-cluster').count(), 2);
  assert.match(jobs.page.url(), /\/jobs\/job\/\?id=0$/);
  // executors and topology
  const ex = await b.open(`${base}/executors/`);
  assert.equal(await ex.page.locator('#executors tbody tr').count(), (await rest(base, `${app}/executors`)).length);
  const topo = await b.open(`${base}/topology/`);
  assert.match((await topo.page.textContent('#deploy-mode')) ?? '', /local mode/);
  await topo.page.waitForSelector('#topology-dag svg g.dag-node');
  for (const p of [jobs, ex, topo]) assert.deepEqual(p.problems, NO_PROBLEMS);

  // after the end: the history server shows the same job from the event log
  await sc.stop();
  const hs: ChildProcess = spawn(process.execPath, [CINDER, 'history-server', '--dir', logDir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanup.push(() => hs.kill('SIGTERM'));
  const hsUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    hs.stdout!.on('data', (d) => {
      out += d;
      const m = /history server at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    hs.once('exit', (c) => reject(new Error(`history server exited ${c}: ${out}`)));
  });
  const list = await b.open(`${hsUrl}/`);
  await list.page.locator(`#apps a:has-text("${sc.applicationId}")`).click();
  await list.page.waitForSelector('#jobs');
  assert.match(list.page.url(), new RegExp(`/history/${sc.applicationId}/jobs/$`));
  const hrow = list.page.locator('#jobs tbody tr').first();
  assert.match((await hrow.textContent()) ?? '', /SUCCEEDED/);
  assert.deepEqual(counts(await hrow.locator('.counts').textContent()), [TASKS + 2, TASKS + 2]);
  const hstage = await b.open(`${hsUrl}/history/${sc.applicationId}/stages/stage/?id=0&attempt=0`);
  await hstage.page.waitForSelector('#stage-dag svg g.dag-node');
  assert.equal(await hstage.page.locator('#tasks tbody tr').count(), TASKS);
  assert.equal((await hstage.page.locator('#task-summary tbody tr').count()) > 0, true);
  for (const p of [list, hstage]) assert.deepEqual(p.problems, NO_PROBLEMS);
});
