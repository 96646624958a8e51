// Output locations that cannot be written: a read-only file system, a directory this user may not write,
// a path through a regular file, a full device. Each must fail with what is wrong and where (the deepest
// existing ancestor and the path asked for), before any task runs when that can be known, and leave
// nothing behind. The tests run as root, where chmod denies nothing: read-only and full file systems are
// small tmpfs mounts (skipped where mounting is not allowed), "permission denied" runs as user nobody.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CinderError } from '../../src/common/errors.js';
import { abortJob, prepareOutput, writeTaskOutput } from '../../src/io/output.js';
import { sharedContext } from '../api/ctx.js';
import { repoClosedToOthers } from '../harness/mini-cluster.js';
import { removeDir, tempDir } from './helpers.js';

let root = '';
before(() => {
  root = tempDir('outloc');
});
after(() => removeDir(root));

const ctx = sharedContext();

/** Runs fn with a tmpfs mounted on a fresh dir (`opts`: mount -o), unmounted afterwards; skips where mount is refused. */
async function withTmpfs(
  t: { skip(m: string): void },
  opts: string,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = fs.mkdtempSync(path.join(root, 'mnt-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    t.skip('cannot mount a tmpfs here (not root?)');
    return;
  }
  try {
    await fn(dir);
  } finally {
    execFileSync('umount', [dir]);
    fs.rmdirSync(dir);
  }
}

function cinderError(code: string, message: string | RegExp) {
  return (e: Error) => {
    assert.ok(e instanceof CinderError, `not a CinderError: ${e.stack}`);
    assert.equal(e.code, code);
    if (typeof message === 'string') assert.ok(e.message.startsWith(message), e.message);
    else assert.match(e.message, message);
    assert.ok(e.hint, 'a hint');
    return true;
  };
}

async function* lines(n: number): AsyncIterable<string[]> {
  for (let i = 0; i < n; i++) yield Array.from({ length: 100 }, (_, j) => `line ${i} ${j} ${'x'.repeat(80)}`);
}

test('a read-only file system: says so, names the mount point reached and the path asked for, creates nothing', async (t) => {
  await withTmpfs(t, 'ro,size=1m', async (ro) => {
    const out = path.join(ro, 'a', 'b', 'out');
    await assert.rejects(
      prepareOutput(out, false),
      cinderError(
        'OUTPUT_READ_ONLY',
        `Cannot create output directory ${out}: ${ro} is on a read-only file system (EROFS)`,
      ),
    );
    await assert.rejects(prepareOutput(path.join(ro, 'out'), true), /OUTPUT_READ_ONLY|read-only file system/);
    assert.deepEqual(fs.readdirSync(ro), []);
  });
});

test('replacing an output on a file system remounted read-only fails clearly and keeps the old output', async (t) => {
  await withTmpfs(t, 'size=1m', async (mnt) => {
    const out = path.join(mnt, 'old');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'part-00000'), 'kept\n');
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    await assert.rejects(
      prepareOutput(out, true),
      cinderError('OUTPUT_READ_ONLY', `Cannot replace output directory ${out}: ${out} is on a read-only file system`),
    );
    assert.equal(fs.readFileSync(path.join(out, 'part-00000'), 'utf8'), 'kept\n');
  });
});

test('a path through a regular file: names the file in the way', async () => {
  const file = path.join(root, 'notes.txt');
  fs.writeFileSync(file, 'not a directory');
  const out = path.join(file, 'out', 'x');
  await assert.rejects(
    prepareOutput(out, false),
    cinderError('OUTPUT_NOT_A_DIRECTORY', `Cannot create output directory ${out}: ${file} is not a directory`),
  );
  assert.equal(fs.readFileSync(file, 'utf8'), 'not a directory');
  // the output path itself being a file is still "already exists"
  await assert.rejects(prepareOutput(file, false), /OUTPUT_EXISTS|already exists/);
});

test('permission denied (as user nobody): names the directory it may not write to; nothing created', (t) => {
  const closed = repoClosedToOthers();
  if (closed) {
    t.skip(`user nobody cannot reach the code under ${closed}`);
    return;
  }
  const parent = fs.mkdtempSync(path.join(root, 'locked-'));
  fs.chmodSync(root, 0o755);
  fs.chmodSync(parent, 0o755); // root's; others may enter but not write
  const out = path.join(parent, 'sub', 'out');
  const mod = new URL('../../src/io/output.js', import.meta.url).href;
  const script = `import(${JSON.stringify(mod)}).then((m) => m.prepareOutput(${JSON.stringify(out)}, false)).then(
    () => console.log(JSON.stringify({ ok: true })),
    (e) => console.log(JSON.stringify({ code: e.code, message: e.message })));`;
  const r = spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) {
    t.skip(`cannot run as nobody here: ${r.error?.message ?? r.stderr}`);
    return;
  }
  const got = JSON.parse(r.stdout.trim()) as { ok?: boolean; code?: string; message?: string };
  assert.equal(got.code, 'OUTPUT_PERMISSION_DENIED', r.stdout);
  assert.ok(got.message?.startsWith(`Cannot create output directory ${out}: permission denied in ${parent} (EACCES)`));
  assert.deepEqual(fs.readdirSync(parent), []);
});

test('a full device: refused before any task runs, nothing left behind', async (t) => {
  await withTmpfs(t, 'size=64k', async (mnt) => {
    try {
      fs.writeFileSync(path.join(mnt, 'filler'), Buffer.alloc(256 * 1024));
    } catch (e) {
      assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
    }
    const out = path.join(mnt, 'deep', 'out');
    await assert.rejects(
      prepareOutput(out, false),
      cinderError('OUTPUT_NO_SPACE', `Cannot create output directory ${out}: no space left on the device of ${mnt}`),
    );
    assert.deepEqual(fs.readdirSync(mnt), ['filler']);
  });
});

test('a device that fills up while a task writes: the task fails with OUTPUT_NO_SPACE, its temp file is removed', async (t) => {
  await withTmpfs(t, 'size=64k', async (mnt) => {
    const out = path.join(mnt, 'out');
    await prepareOutput(out, false);
    await assert.rejects(
      writeTaskOutput(out, 3, 'attempt_3_0', lines(30)),
      cinderError(
        'OUTPUT_NO_SPACE',
        `Cannot write partition 3 of ${out}: no space left on the device of ${out}/_temporary/attempt_3_0`,
      ),
    );
    assert.deepEqual(fs.readdirSync(path.join(out, '_temporary', 'attempt_3_0')), []);
    await abortJob(out);
    assert.deepEqual(fs.readdirSync(mnt), []);
  });
});

test('saveAsTextFile to a read-only location fails before any job starts', async (t) => {
  await withTmpfs(t, 'ro,size=1m', async (ro) => {
    const sc = ctx();
    let jobs = 0;
    const onJob = () => jobs++;
    const dag = (sc as any).driver.dag as import('node:events').EventEmitter;
    dag.on('jobStart', onJob);
    try {
      const out = path.join(ro, 'words');
      await assert.rejects(
        sc.parallelize(['a', 'b'], 2).saveAsTextFile(out),
        cinderError('OUTPUT_READ_ONLY', `Cannot create output directory ${out}: ${ro} is on a read-only file system`),
      );
      assert.equal(jobs, 0, 'no task ran');
    } finally {
      dag.off('jobStart', onJob);
    }
  });
});

test('saveAsTextFile filling the device: the job fails saying so and leaves no partial output', async (t) => {
  await withTmpfs(t, 'size=64k', async (mnt) => {
    const sc = ctx();
    const out = path.join(mnt, 'big');
    const rows = Array.from({ length: 4000 }, (_, i) => `row ${i} ${'y'.repeat(60)}`);
    await assert.rejects(sc.parallelize(rows, 2).saveAsTextFile(out), (e: Error) => {
      assert.match(e.message, /no space left on the device/);
      assert.match(e.message, new RegExp(`Cannot write partition \\d of ${out}`));
      return true;
    });
    assert.deepEqual(fs.readdirSync(mnt), []);
  });
});
