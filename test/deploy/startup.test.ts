/**
 * Start-up (decision 0017), as a user runs it: `cinder submit --master local[2]` of small TypeScript apps.
 * CINDER_STARTUP_TRACE=1 prints every phase of every process in order; spare executors (started before the
 * app is compiled) are adopted by the context, see the environment the app's main set before it made its
 * context, are ended (not left running) when the app sizes its executors otherwise or makes no context.
 * No timing is asserted here: speed is measured by the bench suite's startup case.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CINDER } from '../harness/mini-cluster.js';
import { submit } from './submit-harness.js';

interface Mark {
  at: number;
  took: number;
  who: string;
  phase: string;
}

/** The trace lines of a run's stderr: `cinder-startup  <ms> ms  +<ms> ms  <who>  <phase>`. */
function marks(stderr: string): Mark[] {
  const out: Mark[] = [];
  for (const line of stderr.split('\n')) {
    const m = /^cinder-startup\s+([\d.]+) ms\s+\+([\d.]+) ms\s+(\S+)\s+(.+)$/.exec(line);
    if (m) out.push({ at: Number(m[1]), took: Number(m[2]), who: m[3]!, phase: m[4]!.trim() });
  }
  return out;
}

/** pids of live processes whose environment holds `marker` (the test's own CINDER_STARTUP_T0 value). */
function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/environ`, 'utf8').split('\0').includes(marker)) out.push(Number(d));
    } catch {
      /* gone, or not ours */
    }
  }
  return out;
}

/** Waits up to 10 s for every process carrying `marker` to be gone; returns those still there. */
async function leftOver(marker: string): Promise<number[]> {
  const until = Date.now() + 10_000;
  let left = processesWith(marker);
  while (left.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    left = processesWith(marker);
  }
  return left;
}

describe('start-up: trace and spare executors (local[2])', { timeout: 120_000 }, () => {
  let dir: string;
  let n = 0;
  /** A unique command start time per run: children inherit it, so it also finds every process a run started. */
  const runEnv = () => {
    const t0 = String(Date.now() - 1_000_000 - n++);
    return { env: { CINDER_STARTUP_TRACE: '1', CINDER_STARTUP_T0: t0 }, marker: `CINDER_STARTUP_T0=${t0}` };
  };
  const app = (name: string, body: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, `import { CinderContext } from 'cinder';\n${body}\n`);
    return f;
  };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-startup-test-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('CINDER_STARTUP_TRACE=1 prints every phase of the CLI, driver, executors and task threads, in order', async () => {
    const tiny = app(
      'tiny.ts',
      `const sc = await CinderContext.getOrCreate({ appName: 'tiny' });
const sum = await sc.parallelize([1, 2, 3, 4], 2).reduce((a: number, b: number) => a + b);
await sc.stop();
console.log('sum=' + sum);`,
    );
    const { env, marker } = runEnv();
    const r = await submit(['--master', 'local[2]', tiny], env).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sum=10$/m);
    const ms = marks(r.stderr);
    const has = (who: RegExp, phase: RegExp) => ms.filter((m) => who.test(m.who) && phase.test(m.phase));
    const expected: Array<[RegExp, RegExp, number]> = [
      [/^cli$/, /^CLI loaded \(code cache: (used|made)\)$/, 1],
      [/^cli$/, /^2 spare executors spawned$/, 1],
      [/^cli$/, /^app compile-checked \(cache: (made|used)\)$/, 1],
      [/^driver$/, /^app loaded/, 1],
      [/^driver$/, /^driver endpoint listening$/, 1],
      [/^driver$/, /^2 executors spawned$/, 1],
      [/^executor-spare\d+$/, /^process started, entry loaded \(code cache: (used|made)\)$/, 2],
      [/^executor-spare\d+$/, /^task threads started$/, 2],
      [/^executor-spare\/t0$/, /^task thread: task code loaded \(code cache: (used|made)\)$/, 2],
      [/^executor-[12]$/, /^assigned to its driver$/, 2],
      [/^executor-[12]$/, /^modules loaded$/, 2],
      [/^executor-[12]$/, /^connected to the driver \(handshake\)$/, 2],
      [/^executor-[12]$/, /^registered$/, 2],
      [/^driver$/, /^executors registered$/, 1],
      [/^executor-[12]\/t0$/, /^first task finished$/, 2],
      [/^driver$/, /^stop requested$/, 1],
      [/^executor-[12]$/, /^stop received$/, 2],
      [/^driver$/, /^stopped$/, 1],
      [/^driver$/, /^process exit$/, 1],
    ];
    for (const [who, phase, count] of expected)
      assert.equal(has(who, phase).length, count, `${who} ${phase} in:\n${r.stderr}`);
    // each process's marks come in the order its phases happen, and every figure is a time
    const driverOrder = ms.filter((m) => m.who === 'cli' || m.who === 'driver').map((m) => m.phase);
    assert.deepEqual(
      driverOrder
        .filter((p) => !/^app main returned|^submit done/.test(p))
        .map((p) => p.replace(/ \((code )?cache: \w+\)$/, '')),
      [
        'CLI loaded',
        '2 spare executors spawned',
        'app compile-checked',
        'app loaded (transpile, imports, main up to the context)',
        'driver endpoint listening',
        '2 executors spawned',
        'executors registered',
        'stop requested',
        'stopped',
        'process exit',
      ],
    );
    for (const m of ms) assert.ok(m.at >= 0 && m.took >= 0, JSON.stringify(m));
    const driverAt = ms.filter((m) => m.who === 'cli' || m.who === 'driver').map((m) => m.at);
    assert.deepEqual(
      driverAt,
      [...driverAt].sort((a, b) => a - b),
    );
    const first = has(/^executor-1\/t0$/, /^first task finished$/)[0]!;
    assert.ok(first.at > has(/^driver$/, /^executors registered$/)[0]!.at);
    assert.deepEqual(await leftOver(marker), []);
  });

  test('executors make a V8 code cache on their first run and start from it after; a bad or unwritable cache only costs the cache', async () => {
    const cacheApp = app(
      'cache.ts',
      `const sc = await CinderContext.getOrCreate();
console.log('sum=' + (await sc.parallelize([1, 2, 3, 4], 2).reduce((a: number, b: number) => a + b)));
await sc.stop();`,
    );
    const cacheDir = path.join(dir, 'code-cache');
    // how each executor process and task thread loaded its code, from the trace
    const states = async (extra: Record<string, string>) => {
      const { env, marker } = runEnv();
      const r = await submit(['--master', 'local[2]', cacheApp], { ...env, ...extra }).done;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^sum=10$/m);
      assert.deepEqual(await leftOver(marker), []);
      return marks(r.stderr)
        .map((m) => /\(code cache: (\w+)\)$/.exec(m.phase)?.[1])
        .filter(Boolean)
        .sort();
    };
    const caches = () => (fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir).sort() : []);
    // the CLI (one bundle, decision 0035), each executor process and each task thread
    const all = (s: string) => [s, s, s, s, s];
    assert.deepEqual(await states({ CINDER_CODE_CACHE_DIR: cacheDir }), all('made'));
    const made = caches();
    assert.equal(made.length, 3, made.join());
    assert.match(made[0]!, /^cli\.bundle\.cjs-[0-9a-f]{20}\.v8$/);
    assert.match(made[1]!, /^main\.bundle\.cjs-[0-9a-f]{20}\.v8$/);
    assert.match(made[2]!, /^worker\.bundle\.cjs-[0-9a-f]{20}\.v8$/);
    assert.deepEqual(await states({ CINDER_CODE_CACHE_DIR: cacheDir }), all('used'));
    // a damaged cache is refused by V8: the executors compile as without one and write a good one
    for (const f of made) fs.writeFileSync(path.join(cacheDir, f), 'not a code cache');
    // writing it removes the caches of an earlier build (older than the bundle), not those of other flags
    const stale = path.join(cacheDir, 'main.bundle.cjs-00000000000000000000.v8');
    const otherFlags = path.join(cacheDir, 'worker.bundle.cjs-11111111111111111111.v8');
    fs.writeFileSync(stale, 'an earlier build');
    fs.utimesSync(stale, new Date(2000, 0, 1), new Date(2000, 0, 1));
    fs.writeFileSync(otherFlags, 'this build, other flags');
    assert.deepEqual(await states({ CINDER_CODE_CACHE_DIR: cacheDir }), all('rejected'));
    for (const f of made) assert.ok(fs.statSync(path.join(cacheDir, f)).size > 1000, f);
    assert.equal(fs.existsSync(stale), false);
    assert.equal(fs.existsSync(otherFlags), true);
    fs.rmSync(otherFlags);
    assert.deepEqual(await states({ CINDER_CODE_CACHE_DIR: cacheDir }), all('used'));
    assert.deepEqual(caches(), made, 'no temporary files are left');
    // a place that cannot hold a cache (under a regular file): the job runs, every start is a first one
    const blocked = path.join(dir, 'a-file');
    fs.writeFileSync(blocked, '');
    assert.deepEqual(await states({ CINDER_CODE_CACHE_DIR: path.join(blocked, 'cache') }), all('made'));
    assert.deepEqual(await states({ CINDER_CODE_CACHE: '0', CINDER_CODE_CACHE_DIR: cacheDir }), all('off'));
  });

  test('a local job loads only the packages it uses: no HTTP client or framework in the driver', async () => {
    // the app runs in the driver's process, so it sees the packages the driver loaded (CommonJS ones are in
    // require.cache; undici alone cost ~0.1 s of a tiny job's start when the UI's TLS module pulled it in)
    const probe = app(
      'probe.mjs',
      `import { createRequire } from 'node:module';
createRequire(import.meta.url)('./probe-dep.cjs');
const sc = await CinderContext.getOrCreate();
console.log('n=' + (await sc.parallelize([1, 2, 3], 2).count()) + ' ui=' + sc.uiWebUrl);
const pkgs = new Set(Object.keys(createRequire(import.meta.url).cache).map((f) => /node_modules\\/((@[^/]+\\/)?[^/]+)/.exec(f)?.[1]).filter(Boolean));
console.log('packages=' + [...pkgs].sort().join(','));
console.log('probe-dep=' + Object.keys(createRequire(import.meta.url).cache).some((f) => f.endsWith('probe-dep.cjs')));
await sc.stop();`,
    );
    fs.writeFileSync(path.join(dir, 'probe-dep.cjs'), 'module.exports = 1;\n');
    const r = await submit(['--master', 'local[2]', probe]).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^n=3 ui=http:\/\/127\.0\.0\.1:\d+$/m, 'the UI is up: its modules were loaded');
    const pkgs = /^packages=(.*)$/m.exec(r.stdout)?.[1]?.split(',') ?? [];
    assert.match(r.stdout, /^probe-dep=true$/m, 'the probe sees the CommonJS modules loaded');
    for (const p of ['undici', 'fastify', 'playwright-core']) assert.ok(!pkgs.includes(p), `${p} loaded: ${pkgs}`);
  });

  test('the app gets the engine its submit runs (the CLI bundle or the per-file build), by any name it imports it', async () => {
    const engineIndex = path.join(path.dirname(CINDER), '..', 'build', 'src', 'index.js');
    const same = app(
      'same-engine.mjs',
      `const byPath = await import(${JSON.stringify(engineIndex)});
console.log('same=' + (byPath.CinderContext === CinderContext));
// a context left running: the submit stops it (it sees the app's context only if it is its own engine's)
const sc = await CinderContext.getOrCreate();
console.log('n=' + (await sc.parallelize([1, 2, 3], 2).count()));`,
    );
    for (const bundle of ['1', '0']) {
      const { env, marker } = runEnv();
      const r = await submit(['--master', 'local[2]', same], { ...env, CINDER_CLI_BUNDLE: bundle }).done;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^same=true$/m);
      assert.match(r.stdout, /^n=3$/m);
      const loaded = marks(r.stderr).find((m) => m.phase.startsWith('CLI loaded'))!.phase;
      assert.equal(loaded === 'CLI loaded', bundle === '0', loaded);
      assert.deepEqual(await leftOver(marker), []);
    }
  });

  test("operations that ship the engine's own functions work from the CLI bundle as from the per-file build", async () => {
    const ops = app(
      'engine-closures.ts',
      `const sc = await CinderContext.getOrCreate();
const nums = sc.parallelize([5, 3, 9, 1, 7, 2], 3);
const pairs = sc.parallelize([['a', 1], ['b', 2], ['a', 3], ['c', 4], ['b', 5]] as [string, number][], 2);
const out = {
  takeOrdered: await nums.takeOrdered(3),
  top: await nums.top(2, (x: number) => -x),
  aggregateByKey: (await pairs.aggregateByKey(10, (acc: number, v: number) => acc + v, (a: number, b: number) => a + b).collect()).sort(),
  reduceByKeyLocally: [...(await pairs.reduceByKeyLocally((a: number, b: number) => a * b)).entries()].sort(),
};
console.log('out=' + JSON.stringify(out));
await sc.stop();`,
    );
    const expected = JSON.stringify({
      takeOrdered: [1, 2, 3],
      top: [1, 2],
      aggregateByKey: [
        // zeroValue once per key and partition (slices [a1, b2] and [a3, c4, b5])
        ['a', 24],
        ['b', 27],
        ['c', 14],
      ],
      reduceByKeyLocally: [
        ['a', 3],
        ['b', 10],
        ['c', 4],
      ],
    });
    for (const bundle of ['1', '0']) {
      const r = await submit(['--master', 'local[2]', ops], { CINDER_CLI_BUNDLE: bundle }).done;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(/^out=(.*)$/m.exec(r.stdout)?.[1], expected, `CINDER_CLI_BUNDLE=${bundle}`);
    }
  });

  test("executors' logs come out at the level asked, through the bundles' pino loaded on first use (decision 0032)", async () => {
    const job = app(
      'logs.ts',
      `const sc = await CinderContext.getOrCreate();
console.log('n=' + (await sc.parallelize([1, 2, 3], 2).count()));
await sc.stop();`,
    );
    const r = await submit(['--master', 'local[2]', job], { CINDER_LOG_LEVEL: 'debug', CINDER_LOG_FORMAT: 'json' })
      .done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^n=3$/m);
    const lines = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; component?: string; executorId?: string; msg: string });
    const loaded = lines.filter((l) => l.component === 'executor' && l.msg === 'executor modules loaded');
    assert.deepEqual(loaded.map((l) => [l.level, l.executorId]).sort(), [
      [20, '1'],
      [20, '2'],
    ]);
    // the harness's default level (warn) drops them
    const quiet = await submit(['--master', 'local[2]', job], { CINDER_LOG_FORMAT: 'json' }).done;
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /executor modules loaded/);
  });

  test("task threads start with the full young generation (32 MiB semi-space, decision 0031), every thread of a 2-core executor too, while the executors' V8 flags are put back to their defaults once the threads run (decision 0032)", async () => {
    const young = app(
      'young.ts',
      `const sc = await CinderContext.getOrCreate();
type Node = { getBuiltinModule(m: string): unknown };
const sizes = await sc.parallelize([1, 2, 3, 4, 5, 6, 7, 8], 8).map(() => {
  const v8 = (process as unknown as Node).getBuiltinModule('node:v8') as typeof import('node:v8');
  const { threadId } = (process as unknown as Node).getBuiltinModule('node:worker_threads') as typeof import('node:worker_threads');
  return process.pid + '/' + threadId + '=' + v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;
}).collect();
console.log('new_space ' + [...new Set(sizes)].sort().join(' '));
await sc.stop();`,
    );
    const args = ['--master', 'local[2]', '--executor-cores', '2', young];
    const first = await submit(args, runEnv().env).done; // makes the code caches if no run did yet
    assert.equal(first.code, 0, first.stderr);
    const r = await submit(args, runEnv().env).done;
    assert.equal(r.code, 0, r.stderr);
    const threads = /^new_space (.*)$/m.exec(r.stdout)?.[1]?.split(' ') ?? [];
    assert.ok(threads.length >= 2, r.stdout);
    // V8 starts a thread's semi-space at 1 MiB without the flag
    for (const t of threads) assert.match(t, /^\d+\/\d+=33554432$/, r.stdout);
    // and both main threads and every task thread ran from the code caches the first run made or used
    // (a cache made under other V8 flags than it is used under is rejected)
    const states = [...r.stderr.matchAll(/code cache: (\w+)\)/g)].map((m) => m[1]);
    // (the CLI's bundle, decision 0035, then two executors' main threads and their four task threads)
    assert.deepEqual(states, ['used', 'used', 'used', 'used', 'used', 'used', 'used'], r.stderr);
  });

  test('without CINDER_STARTUP_TRACE nothing is printed', async () => {
    const quiet = app(
      'quiet.ts',
      `const sc = await CinderContext.getOrCreate();
console.log('n=' + (await sc.parallelize([1, 2, 3], 2).count()));
await sc.stop();`,
    );
    const r = await submit(['--master', 'local[2]', quiet]).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^n=3$/m);
    assert.doesNotMatch(r.stderr, /cinder-startup/);
  });

  test("spare executors run the app's tasks and see the environment its main set before the context", async () => {
    const envApp = app(
      'env.ts',
      `process.env.STARTUP_TEST_VALUE = 'set-by-main';
delete process.env.STARTUP_TEST_REMOVED;
const sc = await CinderContext.getOrCreate();
const seen = await sc.parallelize([1, 2], 2).map(() => [process.env.STARTUP_TEST_VALUE, process.env.STARTUP_TEST_REMOVED ?? 'gone', process.pid, process.env.CINDER_APP_ID, process.env.CINDER_EXECUTOR_ID]).collect();
await sc.stop();
console.log('app=' + sc.applicationId);
console.log('seen=' + JSON.stringify(seen));`,
    );
    const { env, marker } = runEnv();
    const r = await submit(['--master', 'local[2]', envApp], { ...env, STARTUP_TEST_REMOVED: 'present' }).done;
    assert.equal(r.code, 0, r.stderr);
    const seen = JSON.parse(/^seen=(.*)$/m.exec(r.stdout)![1]!) as Array<[string, string, number, string, string]>;
    // and the variables a freshly spawned executor has: its app and its id
    const appId = /^app=(.*)$/m.exec(r.stdout)![1]!;
    assert.deepEqual(seen.map(([, , , a, id]) => [a, id]).sort(), [
      [appId, '1'],
      [appId, '2'],
    ]);
    assert.deepEqual(
      seen.map(([v, removed]) => [v, removed]),
      [
        ['set-by-main', 'gone'],
        ['set-by-main', 'gone'],
      ],
    );
    // the tasks ran in the spares (their pids are in their trace labels), not in fresh executors
    const spares = new Set(
      marks(r.stderr)
        .map((m) => /^executor-spare(\d+)$/.exec(m.who)?.[1])
        .filter(Boolean)
        .map(Number),
    );
    assert.equal(spares.size, 2, r.stderr);
    for (const [, , pid] of seen) assert.ok(spares.has(pid), `task ran in ${pid}, spares were ${[...spares]}`);
    assert.deepEqual(await leftOver(marker), []);
  });

  test('an app that sizes its executors in code gets fresh ones; the spares end and nothing is left running', async () => {
    const sized = app(
      'sized.ts',
      `const sc = await CinderContext.getOrCreate({ conf: { 'cinder.executor.memory': '300m' } });
const pids = await sc.parallelize([1, 2], 2).map(() => process.pid).collect();
await sc.stop();
console.log('pids=' + JSON.stringify(pids));`,
    );
    const { env, marker } = runEnv();
    const r = await submit(['--master', 'local[2]', sized], env).done;
    assert.equal(r.code, 0, r.stderr);
    const ms = marks(r.stderr);
    assert.equal(ms.filter((m) => m.phase === 'assigned to its driver').length, 0, r.stderr);
    const pids = JSON.parse(/^pids=(.*)$/m.exec(r.stdout)![1]!) as number[];
    const spares = ms
      .map((m) => /^executor-spare(\d+)$/.exec(m.who)?.[1])
      .filter(Boolean)
      .map(Number);
    for (const p of pids) assert.ok(!spares.includes(p), `task ran in spare ${p}`);
    assert.deepEqual(await leftOver(marker), []);
  });

  test('an app that makes no context exits and leaves no spare running', async () => {
    const none = app('none.ts', "void CinderContext;\nconsole.log('no context');");
    const { env, marker } = runEnv();
    const r = await submit(['--master', 'local[2]', none], env).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^no context$/m);
    assert.deepEqual(await leftOver(marker), []);
  });

  test('an app that does not compile: exit 1 with the error, and the spares started before the check are gone', async () => {
    const bad = path.join(dir, 'bad.ts');
    fs.writeFileSync(bad, "import { CinderContext } from 'cinder';\nconst x: number = ;\nvoid CinderContext;\n");
    const { env, marker } = runEnv();
    const r = await submit(['--master', 'local[2]', bad], env).done;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /does not compile/);
    assert.match(r.stderr, /2 spare executors spawned/);
    assert.deepEqual(await leftOver(marker), []);
  });

  test('a multi-file TS app: the files transpiled once by the driver run, and its shipped functions use their imports', async () => {
    fs.writeFileSync(path.join(dir, 'lib.ts'), 'export const scale = (x: number): number => x * 3;\n');
    const multi = app(
      'multi.ts',
      `import { scale } from './lib.js';
const sc = await CinderContext.getOrCreate();
const out = await sc.parallelize([1, 2, 3, 4], 2).map((x: number) => scale(x)).collect();
await sc.stop();
console.log('out=' + JSON.stringify(out));`,
    );
    const r = await submit(['--master', 'local[2]', multi]).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^out=\[3,6,9,12\]$/m);
  });

  test('compile cache: an unchanged app runs without esbuild; a changed file, a new error or the cache turned off compile again', async () => {
    const cacheDir = path.join(dir, 'compile-cache');
    const helper = path.join(dir, 'cached-lib.ts');
    fs.writeFileSync(helper, 'export const scale = (x: number): number => x * 3;\n');
    const cached = app(
      'cached.ts',
      `import { createRequire } from 'node:module';
import { scale } from './cached-lib.js';
const sc = await CinderContext.getOrCreate();
// the shipped function uses no import (one that did would be bundled for the executors, with esbuild)
const out = (await sc.parallelize([1, 2, 3, 4], 2).map((x: number) => x * 10).collect()).map((x: number) => scale(x) / 10);
await sc.stop();
const esbuildLoaded = Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes('/node_modules/esbuild/'));
console.log('out=' + JSON.stringify(out) + ' esbuild=' + esbuildLoaded);`,
    );
    const run = async (extra: Record<string, string> = {}) => {
      const { env, marker } = runEnv();
      const r = await submit(['--master', 'local[2]', cached], { ...env, CINDER_COMPILE_CACHE_DIR: cacheDir, ...extra })
        .done;
      assert.deepEqual(await leftOver(marker), []);
      const state = /app compile-checked \(cache: ([\w ]+)\)/.exec(r.stderr)?.[1];
      return { ...r, state };
    };
    const first = await run();
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.state, 'made');
    assert.match(first.stdout, /^out=\[3,6,9,12\] esbuild=true$/m);
    assert.equal(fs.statSync(cacheDir).mode & 0o777, 0o700);
    const [entry] = fs.readdirSync(cacheDir);
    assert.equal(fs.statSync(path.join(cacheDir, entry!)).mode & 0o777, 0o600);

    // the same files again: no esbuild at all (no check, no transpile), the same answer
    const second = await run();
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.state, 'used');
    assert.match(second.stdout, /^out=\[3,6,9,12\] esbuild=false$/m);

    // an imported file changed, even with its old size and mtime: compiled again, and it runs as it is now
    const st = fs.statSync(helper);
    fs.writeFileSync(helper, 'export const scale = (x: number): number => x * 5;\n');
    fs.utimesSync(helper, st.atime, st.mtime);
    const changed = await run();
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(changed.state, 'made');
    assert.match(changed.stdout, /^out=\[5,10,15,20\] esbuild=true$/m);

    // an error introduced after a cached run is reported as a compile error, not run from the cache
    fs.writeFileSync(helper, 'export const scale = (x: number): number => x * ;\n');
    const broken = await run();
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /does not compile:\n.*cached-lib\.ts:1:\d+/);
    fs.writeFileSync(helper, 'export const scale = (x: number): number => x * 7;\n');
    assert.match((await run()).stdout, /^out=\[7,14,21,28\] esbuild=true$/m);
    assert.equal((await run()).state, 'used');

    // turned off: compiled every time, nothing read
    const off = await run({ CINDER_COMPILE_CACHE: '0' });
    assert.equal(off.state, 'off');
    assert.match(off.stdout, /^out=\[7,14,21,28\] esbuild=true$/m);

    // a cache directory others can write is not trusted (its entries would be code run by this driver)
    fs.chmodSync(cacheDir, 0o777);
    const open = await run();
    assert.equal(open.state, 'not kept');
    assert.match(open.stdout, /esbuild=true$/m);
    fs.chmodSync(cacheDir, 0o700);
    assert.equal((await run()).state, 'used');
    assert.deepEqual(
      fs.readdirSync(cacheDir).filter((f) => !f.endsWith('.json')),
      [],
      'no temporary files are left',
    );
  });

  test('a TS file changed after the submit transpiled it runs as it is now, not as it was', async () => {
    const later = path.join(dir, 'later.ts');
    fs.writeFileSync(later, "export const version: string = 'old';\n");
    const changing = app(
      'changing.ts',
      `import fs from 'node:fs';
// the check and the driver's transpile saw 'old' (the dynamic import is part of the app's sources);
// the file changes before it is first imported
fs.writeFileSync(${JSON.stringify(later)}, "export const version: string = 'new';\\n");
const t = new Date(Date.now() + 5000);
fs.utimesSync(${JSON.stringify(later)}, t, t);
const { version } = await import('./later.js');
console.log('version=' + version);
void CinderContext;`,
    );
    const r = await submit(['--master', 'local[2]', changing]).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^version=new$/m);
  });

  test('--conf cinder.local.spareExecutors=false starts executors only with the context', async () => {
    const off = app(
      'off.ts',
      `const sc = await CinderContext.getOrCreate();
console.log('n=' + (await sc.parallelize([1, 2, 3], 2).count()));
await sc.stop();`,
    );
    const { env, marker } = runEnv();
    const r = await submit(['--master', 'local[2]', '--conf', 'cinder.local.spareExecutors=false', off], env).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^n=3$/m);
    const ms = marks(r.stderr);
    assert.equal(ms.filter((m) => m.who.startsWith('executor-spare')).length, 0, r.stderr);
    assert.equal(ms.filter((m) => /^executor-[12]$/.test(m.who) && m.phase === 'registered').length, 2, r.stderr);
    assert.deepEqual(await leftOver(marker), []);
  });
});
