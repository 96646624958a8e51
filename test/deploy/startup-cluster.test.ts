/**
 * Start-up in cluster mode (decision 0030), as a user traces it: `CINDER_STARTUP_TRACE=1 cinder submit
 * --deploy-mode cluster` on real daemons. The trace follows the app into its containers: the AM and every
 * executor and task thread stamp their marks from the submit command's start, so the CLI's lines and
 * the containers' logs make one timeline. No timing is asserted (the bench's launch-latency case measures).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { appIdFrom, deployCluster, submit } from './submit-harness.js';

interface Mark {
  at: number;
  who: string;
  phase: string;
}

function marks(text: string): Mark[] {
  const out: Mark[] = [];
  for (const line of text.split('\n')) {
    const m = /^cinder-startup\s+([\d.]+) ms\s+\+[\d.]+ ms\s+(\S+)\s+(.+)$/.exec(line);
    if (m) out.push({ at: Number(m[1]), who: m[2]!, phase: m[3]!.trim() });
  }
  return out;
}

describe('start-up trace in cluster mode', { timeout: 120_000 }, () => {
  const fx = deployCluster('startup-cluster');

  /** a traced cluster-mode submit of a small job: the CLI's and every container's trace lines */
  async function tracedRun(extra: string[] = []): Promise<string> {
    const app = path.join(fx.tmp, 'sum.ts');
    fs.writeFileSync(
      app,
      `import { CinderContext } from 'cinder';
const sc = await CinderContext.getOrCreate({ appName: 'traced' });
console.log('sum=' + (await sc.parallelize([1, 2, 3, 4], 2).reduce((a: number, b: number) => a + b)));
await sc.stop();
`,
    );
    const t0 = Date.now();
    const r = await submit(
      [
        '--master',
        fx.mc.master,
        '--deploy-mode',
        'cluster',
        '--executor-memory',
        '256m',
        '--driver-memory',
        '256m',
        ...extra,
        app,
      ],
      { ...fx.env, CINDER_STARTUP_TRACE: '1', CINDER_STARTUP_T0: String(t0) },
    ).done;
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const appId = appIdFrom(r.stdout);
    const cl = await fx.mc.client();
    let text = r.stderr;
    try {
      await fx.mc.waitFor(
        async () => (await cl.getApplication(appId)).logAggregationStatus === 'SUCCEEDED',
        15_000,
        'log aggregation',
      );
      for (const l of await cl.getLogs(appId)) if (l.file === 'stderr') text += `\n${l.data}`;
    } finally {
      cl.close();
    }
    return text;
  }

  test('CINDER_STARTUP_TRACE=1 marks the CLI, the AM, its executors and their task threads on one timeline', async () => {
    const text = await tracedRun();
    const ms = marks(text);
    const first = (who: RegExp, phase: RegExp) => {
      const m = ms.find((x) => who.test(x.who) && phase.test(x.phase));
      assert.ok(m, `${who} ${phase} in:\n${text}`);
      return m.at;
    };
    // each step happens after the one that causes it, on the submit command's clock
    const order = [
      first(/^cli$/, /^application submitted to the RM$/),
      first(/^am$/, /^process started, modules loaded \(code cache: (made|used)\)$/),
      first(/^am$/, /^registered with the RM$/),
      first(/^am$/, /^executor 1: container allocated, launch sent to its NM$/),
      first(/^executor-1$/, /^process started, entry loaded \(code cache: (made|used)\)$/),
      first(/^executor-1$/, /^registered$/),
      first(/^executor-[12]\/t0$/, /^first task finished$/),
    ];
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      text,
    );
    // both executors and their task threads report how they loaded their code
    for (const who of ['executor-1', 'executor-2', 'executor-1/t0', 'executor-2/t0'])
      assert.ok(
        ms.some((m) => m.who === who && /\(code cache: (made|used)\)$/.test(m.phase)),
        `${who} code cache mark in:\n${text}`,
      );
    // and the marks are times since the command started, not since each process started
    assert.ok(first(/^am$/, /^process started/) > first(/^cli$/, /^CLI loaded( \(code cache: \w+\))?$/));
  });

  test("the AM runs from its code cache: the next app of the same user uses the cache the first one's AM made", async () => {
    // the first test's app made the AM's cache (or found one); the same user's containers share a uid
    // (decision 0015), so this AM reads it unless V8 rejected it (made under other flags: it is made
    // before the driver sets --expose-gc) or it was not written
    const text = await tracedRun();
    const am = marks(text).find((m) => m.who === 'am' && m.phase.startsWith('process started'));
    assert.equal(am?.phase, 'process started, modules loaded (code cache: used)', text);
  });

  test('with cinder.am.earlyExecutors=false the AM registers only when the context starts, and the job runs', async () => {
    const text = await tracedRun(['--conf', 'cinder.am.earlyExecutors=false']);
    const ms = marks(text);
    // no early registration: the AM's own "registered with the RM" mark (startEarly) is absent
    assert.ok(!ms.some((m) => m.who === 'am' && m.phase === 'registered with the RM'), text);
    assert.ok(
      ms.some((m) => /^executor-[12]\/t0$/.test(m.who) && m.phase === 'first task finished'),
      text,
    );
  });
});
