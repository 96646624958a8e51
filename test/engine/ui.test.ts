/** The driver's status endpoint (tracking address): jobs, stages and executors over HTTP, no secrets. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CinderContext } from '../../src/index.js';

let sc: CinderContext;
before(async () => {
  sc = await CinderContext.getOrCreate({
    master: 'local[2]',
    appName: 'ui-test',
    conf: { 'cinder.ui.port': '0', 'my.password': 'hunter2' },
  });
});
after(async () => {
  await sc?.stop();
});

test('jobs, stages and executors are served as JSON; unknown apps get 404; secrets never appear', async () => {
  await sc
    .parallelize([1, 2, 3, 4], 2)
    .map((x) => [x % 2, x] as [number, number])
    .reduceByKey((a, b) => a + b)
    .collect();
  const base = sc.uiWebUrl!;
  assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
  const apps = (await (await fetch(`${base}/api/v1/applications`)).json()) as { id: string; name: string }[];
  assert.deepEqual(
    apps.map((a) => [a.id, a.name]),
    [[sc.applicationId, 'ui-test']],
  );
  const jobs = (await (await fetch(`${base}/api/v1/applications/${sc.applicationId}/jobs`)).json()) as {
    status: string;
    stageIds: number[];
  }[];
  assert.equal(jobs[0]!.status, 'SUCCEEDED');
  assert.equal(jobs[0]!.stageIds.length, 2);
  const stages = (await (await fetch(`${base}/api/v1/applications/${sc.applicationId}/stages`)).json()) as {
    status: string;
    numCompleteTasks: number;
  }[];
  assert.ok(stages.every((s) => s.status === 'COMPLETE' && s.numCompleteTasks === 2));
  const execs = (await (await fetch(`${base}/api/v1/applications/${sc.applicationId}/executors`)).json()) as {
    attributes: { launchToRegisterMs?: string };
  }[];
  assert.equal(execs.length, 2);
  for (const e of execs) {
    // executor start-up: from its launch request (here the local spawn) to registered with the driver
    const ms = Number(e.attributes.launchToRegisterMs);
    assert.ok(ms >= 0 && ms < 120_000, String(e.attributes.launchToRegisterMs));
  }
  assert.equal((await fetch(`${base}/api/v1/applications/nope/jobs`)).status, 404);
  const html = await (await fetch(base)).text();
  assert.match(html, /ui-test/);
  for (const body of [html, JSON.stringify(execs)]) assert.doesNotMatch(body, /hunter2/);
});

test('the UI socket holds early requests until its handler loads, moves past a taken port, and answers 503 when closed first', async () => {
  const { bindUiListener } = await import('../../src/ui/listener.js');
  const first = await bindUiListener('127.0.0.1', 0);
  const port = Number(new URL(first.url).port);
  const second = await bindUiListener('127.0.0.1', port);
  try {
    assert.notEqual(new URL(second.url).port, String(port), 'a taken port is skipped');
    let triggered = 0;
    second.onFirstRequest(() => {
      triggered++;
      setTimeout(() => second.attach((_req, res) => res.end('late handler')), 50);
    });
    const [a, b] = await Promise.all([fetch(`${second.url}/x`), fetch(`${second.url}/y`)]);
    assert.equal(await a.text(), 'late handler');
    assert.equal(await b.text(), 'late handler');
    assert.equal(triggered, 1, 'the handler is loaded once');
    const held = fetch(`${first.url}/z`);
    await new Promise((r) => setTimeout(r, 50));
    await first.close();
    assert.equal((await held).status, 503);
  } finally {
    await first.close();
    await second.close();
  }
});

test('a failing job: FAILED job and map stage, SKIPPED reduce stage, the error on the job page, the task error in the task list', async () => {
  await assert.rejects(
    sc
      .parallelize([1, 2, 3], 1)
      .map((x: number) => {
        if (x === 2) throw new Error('boom in user code');
        return [x, x] as [number, number];
      })
      .reduceByKey((a: number, b: number) => a + b)
      .collect(),
    /boom in user code/,
  );
  const base = `${sc.uiWebUrl}/api/v1/applications/${sc.applicationId}`;
  const [job] = (await (await fetch(`${base}/jobs?status=failed`)).json()) as any[];
  assert.equal(job.status, 'FAILED');
  const [stage] = (await (await fetch(`${base}/stages?status=failed`)).json()) as any[];
  assert.equal(stage.status, 'FAILED');
  assert.equal(stage.numFailedTasks, 4, 'the task failed cinder.task.maxFailures times');
  // the reduce stage never ran: pending while the job ran, skipped once it failed (as Spark shows it)
  const skipped = (await (await fetch(`${base}/stages?status=skipped`)).json()) as any[];
  assert.deepEqual(
    skipped.map((s) => [s.stageId, s.numCompleteTasks]),
    [[stage.stageId + 1, 0]],
  );
  assert.equal(job.numSkippedStages, 1);
  const tasks = (await (
    await fetch(`${base}/stages/${stage.stageId}/${stage.attemptId}/taskList?status=failed`)
  ).json()) as any[];
  assert.equal(tasks.length, 4);
  assert.match(tasks[0].errorMessage, /boom in user code/);
  const page = await (await fetch(`${sc.uiWebUrl}/jobs/job/?id=${job.jobId}`)).text();
  assert.match(page, /boom in user code/);
});
