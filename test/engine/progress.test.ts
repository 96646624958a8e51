/** The console progress bar: Spark's format on a TTY, nothing when not on a TTY or when turned off. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { attachProgressBar, renderBar } from '../../src/scheduler/progress.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

test('renders [Stage N:====>   (done + running) / total]', () => {
  const bar = renderBar({ stageId: 3, total: 40, done: 12, running: 2 }, 60);
  assert.match(bar, /^\[Stage 3:=+> +\(12 \+ 2\) \/ 40\]$/);
  assert.equal(bar.length, 60);
  assert.match(renderBar({ stageId: 1, total: 4, done: 4, running: 0 }, 40), /^\[Stage 1:=+\(4 \+ 0\) \/ 4\]$/);
});

function fakeStream(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, columns: 80, write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream };
}

test('draws on a TTY from scheduler events and clears when stages end; silent elsewhere', async () => {
  for (const tty of [true, false]) {
    const ev = new EventEmitter();
    const { out, stream } = fakeStream(tty);
    attachProgressBar(ev, stream);
    ev.emit('stageSubmitted', { stageId: 7, numTasks: 10 });
    ev.emit('taskStart', { stageId: 7 });
    ev.emit('taskStart', { stageId: 7 });
    ev.emit('taskEnd', { stageId: 7 });
    await new Promise((r) => setTimeout(r, 300));
    if (tty) assert.match(out.join(''), /\[Stage 7:.*\(1 \+ 1\) \/ 10\]/);
    else assert.deepEqual(out, []);
    ev.emit('stageCompleted', { stageId: 7 });
  }
});

test('a real job under a pseudo-terminal shows the bar; with showConsoleProgress=false it does not', {
  skip: !fs.existsSync('/usr/bin/script') && 'util-linux script(1) not installed',
}, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-progress-'));
  const app = path.join(dir, 'slowish.ts');
  fs.writeFileSync(
    app,
    `import { CinderContext } from 'cinder';
const sc = await CinderContext.getOrCreate({});
await sc.parallelize([...Array(8).keys()], 8).map((x) => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 150); return x; }).count();
await sc.stop();
`,
  );
  try {
    const run = (extra: string) =>
      spawnSync(
        'script',
        [
          '-qec',
          `${process.execPath} ${path.join(ROOT, 'bin/cinder.js')} submit --master local[2] ${extra} ${app}`,
          '/dev/null',
        ],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
    const on = run('');
    assert.equal(on.status, 0, on.stdout + on.stderr);
    assert.match(on.stdout, /\[Stage \d+:[=> ]+\(\d+ \+ \d+\) \/ 8\]/);
    const off = run('--conf cinder.ui.showConsoleProgress=false');
    assert.equal(off.status, 0, off.stdout + off.stderr);
    assert.doesNotMatch(off.stdout, /\[Stage/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
