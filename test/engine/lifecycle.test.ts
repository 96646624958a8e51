// A context's whole lifecycle leaves nothing behind: after stop() no executor process is alive and no
// temp file remains (TMPDIR points at a private dir, inherited by executors, so the check is exact
// even while other tests use /tmp). Actions after stop() fail with a clear error.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { CinderContext, CinderError } from '../../src/index.js';

const privateTmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-lifecycle-'));
const savedTmp = process.env.TMPDIR;
after(() => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  fs.rmSync(privateTmp, { recursive: true, force: true });
});

function children(): number[] {
  try {
    const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
    return out
      .split('\n')
      .map((s) => s.trim().split(/\s+/))
      .filter(([pid, comm]) => Number(pid) > 0 && comm !== 'ps') // ps lists itself
      .map(([pid]) => Number(pid));
  } catch {
    return []; // ps exits 1 when there are no children
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('no process or temp file remains after a context with shuffles, spills, caches and failures', async () => {
  process.env.TMPDIR = privateTmp;
  assert.equal(os.tmpdir(), privateTmp);
  const before = children();
  const sc = await CinderContext.getOrCreate({
    master: 'local[2]',
    conf: { 'cinder.ui.showConsoleProgress': 'false', 'cinder.executor.memory': '64m' },
  });
  const pids = (sc._backend as unknown as { pids(): number[] }).pids();
  assert.equal(pids.length, 2);
  assert.ok(fs.readdirSync(privateTmp).length > 0, 'the context works under TMPDIR');
  // shuffle + sort with spills, a cached RDD on disk, a pipe, and a failing job
  const big = sc.range(0, 40_000, 1, 4).map((i) => [i % 100, 'z'.repeat(500)] as [number, string]);
  assert.equal(await big.sortByKey().count(), 40_000);
  const cached = big.persist('DISK_ONLY');
  assert.equal(await cached.count(), 40_000);
  assert.deepEqual(await sc.parallelize(['a']).pipe('cat').collect(), ['a']);
  await assert.rejects(
    sc
      .parallelize([1])
      .map((): number => {
        throw new Error('user bug');
      })
      .collect(),
    /user bug/,
  );
  assert.equal(await sc.parallelize([1, 2, 3]).sum(), 6, 'the driver survives a failing job');
  for (const pid of pids) assert.ok(children().includes(pid), `executor ${pid} is a child process`);
  await sc.stop();
  await sc.stop(); // idempotent
  for (const pid of pids) assert.equal(alive(pid), false, `executor ${pid} is still running`);
  assert.deepEqual(
    children().filter((p) => !before.includes(p)),
    [],
  );
  assert.deepEqual(fs.readdirSync(privateTmp), [], 'temp files left behind');
  // actions and new RDDs after stop() fail clearly
  await assert.rejects(
    cached.count(),
    (e: Error) => e instanceof CinderError && e.code === 'CONTEXT_STOPPED' && /getOrCreate/.test(e.message),
  );
  assert.throws(
    () => sc.parallelize([1]),
    (e: Error) => e instanceof CinderError && e.code === 'CONTEXT_STOPPED',
  );
});

test('an app that throws without stop() leaves no executor process and no temp file', async () => {
  const { spawnSync } = await import('node:child_process');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-crashapp-'));
  const index = new URL('../../src/index.js', import.meta.url).href;
  const script = `import { CinderContext } from ${JSON.stringify(index)};
const sc = await CinderContext.getOrCreate({ master: 'local[2]', conf: { 'cinder.ui.enabled': 'false' } });
await sc.range(100).map((x) => x * 2).count();
throw new Error('app dies without stop()');`;
  try {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, TMPDIR: tmp },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /app dies without stop\(\)/);
    await new Promise((res) => setTimeout(res, 300));
    assert.deepEqual(fs.readdirSync(tmp), [], 'temp files left behind');
    const left = fs.readdirSync('/proc').filter((d) => {
      try {
        return /^\d+$/.test(d) && fs.readFileSync(`/proc/${d}/environ`, 'utf8').includes(`TMPDIR=${tmp}`);
      } catch {
        return false;
      }
    });
    assert.deepEqual(left, [], 'processes left behind');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
