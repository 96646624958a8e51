// The reproduced failure of issue 15, with real executor processes (local[2], one task slot each): an
// executor SIGKILLed while the reduce side of a join runs, then, while one side's map output is being
// recomputed, the executor holding the other side's freshly recomputed output is SIGKILLed too. The old
// scheduler launched the reduce side as soon as the last parent finished and aborted with
// "internal: map output 0 of shuffle N missing at stage launch"; the job must return the exact join.
// The kills come from inside the tasks (join-kill-fns.ts), elected by marker files, so the order of
// events is the same on every run.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { sharedContext, sorted, tempDir } from '../api/ctx.js';
import { reduceSide, sideA, sideB } from './join-kill-fns.js';

const ctx = sharedContext();

test('an executor SIGKILLed while the reduce side of a join runs (and another while a parent recomputes): exact join', {
  timeout: 120_000,
}, async () => {
  const sc = ctx();
  const dir = tempDir('join-kill');
  const a = sc
    .parallelize(
      Array.from({ length: 200 }, (_, x) => x),
      2,
    )
    .mapPartitionsWithIndex((i, it) => sideA(dir, i, [...it]), { dir });
  const b = sc
    .parallelize(
      Array.from({ length: 100 }, (_, y) => y),
      2,
    )
    .mapPartitionsWithIndex((i, it) => sideB(dir, i, [...it]), { dir });
  const joined = a.join(b, 2).mapPartitionsWithIndex((i, it) => reduceSide(dir, i, [...it]), { dir });
  const out = await joined.collect();

  const expected: Array<[number, [number, string]]> = [];
  for (let x = 0; x < 200; x++)
    for (let y = 0; y < 100; y++) if (x % 50 === y % 50) expected.push([x % 50, [x, `b${y}`]]);
  assert.equal(out.length, 400);
  assert.deepEqual(sorted(out), sorted(expected));

  // the story happened as told: both sides ran on both executors, the reduce side killed its executor,
  // and the executor of B's recomputed output was killed while A recomputed
  const files = fs.readdirSync(dir);
  const firstRunPids = (side: string) =>
    new Set(files.filter((n) => n.startsWith(`${side}-`) && n.split('-')[2] === '0').map((n) => n.split('-')[3]));
  assert.equal(firstRunPids('a').size, 2, files.join(' '));
  assert.equal(firstRunPids('b').size, 2, files.join(' '));
  assert.ok(files.includes('reduce-kill'), files.join(' '));
  assert.ok(files.includes('killer'), `side A was recomputed: ${files.join(' ')}`);
  assert.equal(
    files.filter((n) => n.startsWith('killed-')).length,
    1,
    `B's recomputed output was lost: ${files.join(' ')}`,
  );
});
