/**
 * On-demand profiling of an executor from the driver UI: a CPU profile of a task thread while a task
 * runs a named user function (the profile shows its frames, not an idle thread), and a heap snapshot, both as the
 * JSON DevTools loads, asked over the driver↔executor RPC.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CinderContext } from '../../src/index.js';

let sc: CinderContext;
before(async () => {
  sc = await CinderContext.getOrCreate({
    master: 'local[1]',
    appName: 'profile',
    conf: { 'cinder.ui.port': '0', 'cinder.eventLog.enabled': 'false' },
  });
});
after(async () => {
  await sc?.stop();
});

test('a CPU profile of a busy task thread is taken while its task runs; a heap snapshot loads as JSON', {
  timeout: 60_000,
}, async () => {
  // many records, each a little work: the task thread yields between batches, when the profiler can start
  const job = sc
    .range(0, 20_000, 1, 1)
    .map(function spinForProfile(x: number) {
      let n = 0;
      for (let i = 0; i < 20_000; i++) n += Math.sqrt(i + x);
      return n > 0 ? 1 : 0;
    })
    .sum();
  job.catch(() => {});
  const base = sc.uiWebUrl!;
  const [exec] = (await (await fetch(`${base}/api/v1/applications/${sc.applicationId}/executors`)).json()) as any[];
  // profile once the task runs
  for (let i = 0; i < 200; i++) {
    const stages = (await (await fetch(`${base}/api/v1/applications/${sc.applicationId}/stages`)).json()) as any[];
    if (stages[0]?.numActiveTasks > 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 300));
  const r = await fetch(`${base}/executors/profile/?id=${exec.id}&thread=0&seconds=1`);
  assert.equal(r.status, 200, await r.clone().text());
  assert.match(r.headers.get('content-disposition') ?? '', /executor-1-t0\.cpuprofile/);
  const profile = (await r.json()) as {
    nodes: Array<{ callFrame: { functionName: string; url: string } }>;
    samples: number[];
  };
  assert.ok(profile.samples.length > 0);
  assert.ok(
    // the user function, or the task's compute loop it was inlined into: the thread was profiled while busy
    profile.nodes.some((n) => ['spinForProfile', 'applyOps', 'runResultOp'].includes(n.callFrame.functionName)),
    `the task's frames are in the profile: ${[...new Set(profile.nodes.map((n) => n.callFrame.functionName))].join(',')}`,
  );
  const heap = (await (await fetch(`${base}/executors/heap/?id=${exec.id}&thread=main`)).json()) as {
    snapshot: { node_count: number };
  };
  assert.ok(heap.snapshot.node_count > 1000);
  assert.equal((await fetch(`${base}/executors/profile/?id=${exec.id}&thread=7`)).status, 404);
  assert.equal((await fetch(`${base}/executors/profile/?id=${exec.id}&seconds=0`)).status, 400);
  assert.equal(await job, 20_000);
});
