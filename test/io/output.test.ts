import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { CinderError } from '../../src/common/errors.js';
import { abortJob, commitJob, commitTask, prepareOutput, writeTaskOutput } from '../../src/io/output.js';
import { removeDir, tempDir } from './helpers.js';

const run = promisify(execFile);
let root = '';
before(() => {
  root = tempDir('output');
});
after(() => removeDir(root));

async function* batches(...bs: string[][]): AsyncIterable<string[]> {
  for (const b of bs) yield b;
}

const ls = (d: string) => fs.readdirSync(d).sort();

test('prepare, write, commit tasks, commit job: _SUCCESS only after commitJob, _temporary gone', async () => {
  const out = path.join(root, 'job1');
  await prepareOutput(out, false);
  const t0 = await writeTaskOutput(out, 0, 'attempt_0_0', batches(['a', 'b'], [], ['c']));
  const t1 = await writeTaskOutput(out, 1, 'attempt_1_0', batches());
  assert.match(t0, /_temporary\/attempt_0_0\/part-00000$/);
  assert.ok(!fs.existsSync(path.join(out, 'part-00000')), 'nothing visible before commitTask');
  assert.equal(await commitTask(out, 0, t0), true);
  assert.equal(await commitTask(out, 1, t1), true);
  assert.ok(!fs.existsSync(path.join(out, '_SUCCESS')), 'no _SUCCESS before commitJob');
  await commitJob(out, 2);
  assert.deepEqual(ls(out), ['_SUCCESS', 'part-00000', 'part-00001']);
  assert.equal(fs.readFileSync(path.join(out, 'part-00000'), 'utf8'), 'a\nb\nc\n');
  assert.equal(fs.readFileSync(path.join(out, 'part-00001'), 'utf8'), '');
  // a zombie attempt after the job committed is refused and cannot recreate _temporary
  await assert.rejects(writeTaskOutput(out, 0, 'attempt_0_9', batches(['late'])), /OUTPUT_JOB_GONE|already committed/);
  assert.deepEqual(ls(out), ['_SUCCESS', 'part-00000', 'part-00001']);
});

test('commitJob refuses missing partitions and names them', async () => {
  const out = path.join(root, 'job-missing');
  await prepareOutput(out, false);
  await commitTask(out, 1, await writeTaskOutput(out, 1, 'a1', batches(['x'])));
  await assert.rejects(commitJob(out, 3), (e: unknown) => {
    assert.ok(e instanceof CinderError);
    assert.equal(e.code, 'OUTPUT_INCOMPLETE');
    assert.match(e.message, /partitions 0, 2 have no committed part file/);
    return true;
  });
  assert.ok(!fs.existsSync(path.join(out, '_SUCCESS')));
});

test('abort leaves nothing behind, and the path can then be reused', async () => {
  const out = path.join(root, 'job-abort');
  await prepareOutput(out, false);
  await commitTask(out, 0, await writeTaskOutput(out, 0, 'a0', batches(['x'])));
  await writeTaskOutput(out, 1, 'a1', batches(['y'])); // written, never committed
  await abortJob(out);
  assert.ok(!fs.existsSync(out));
  await abortJob(out); // idempotent
  await prepareOutput(out, false);
  // a directory with foreign files is kept, with only our files removed
  fs.writeFileSync(path.join(out, 'README'), 'keep');
  await commitTask(out, 0, await writeTaskOutput(out, 0, 'b0', batches(['x'])));
  await abortJob(out);
  assert.deepEqual(ls(out), ['README']);
});

test('an existing output is refused unless overwrite, which replaces it', async () => {
  const out = path.join(root, 'job-exists');
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, 'part-00000'), 'old\n');
  await assert.rejects(prepareOutput(out, false), (e: unknown) => {
    assert.ok(e instanceof CinderError);
    assert.equal(e.code, 'OUTPUT_EXISTS');
    assert.match(e.message, /job-exists already exists[\s\S]*hint: .*overwrite/);
    return true;
  });
  assert.equal(fs.readFileSync(path.join(out, 'part-00000'), 'utf8'), 'old\n');
  await prepareOutput(out, true);
  assert.deepEqual(ls(out), ['_temporary']);
});

test('gzip output, large batches, a failing source leaves no temp file, bad attempt ids refused', async () => {
  const out = path.join(root, 'job-gz');
  await prepareOutput(out, false);
  const lines = Array.from({ length: 200_000 }, (_, i) => `line ${i} é`);
  const tmp = await writeTaskOutput(out, 7, 'a7', batches(lines.slice(0, 1000), lines.slice(1000)), {
    compress: 'gzip',
  });
  assert.ok(tmp.endsWith('part-00007.gz'));
  assert.equal(await commitTask(out, 7, tmp), true);
  const text = zlib.gunzipSync(fs.readFileSync(path.join(out, 'part-00007.gz'))).toString('utf8');
  assert.equal(text, `${lines.join('\n')}\n`);

  async function* failing(): AsyncIterable<string[]> {
    yield ['ok'];
    throw new Error('user function exploded');
  }
  await assert.rejects(writeTaskOutput(out, 3, 'a3', failing()), /user function exploded/);
  assert.deepEqual(ls(path.join(out, '_temporary', 'a3')), []);
  await assert.rejects(writeTaskOutput(out, 3, '../escape', batches()), /Invalid task attempt id/);
  await assert.rejects(commitTask(out, 4, tmp), /not the output of partition 4/);
});

test('a second commit of the same partition loses; the first stays intact', async () => {
  const out = path.join(root, 'job-twice');
  await prepareOutput(out, false);
  const a = await writeTaskOutput(out, 0, 'attempt_a', batches(['from a']));
  const b = await writeTaskOutput(out, 0, 'attempt_b', batches(['from b']));
  assert.equal(await commitTask(out, 0, a), true);
  assert.equal(await commitTask(out, 0, b), false);
  assert.equal(await commitTask(out, 0, a), false); // repeated call by the winner: already committed
  assert.equal(fs.readFileSync(path.join(out, 'part-00000'), 'utf8'), 'from a\n');
  assert.ok(!fs.existsSync(b), "the loser's temp file is discarded");
});

// Each child writes PARTS partitions under its own attempt id, waits for a common start instant, then commits all
// of them at once, printing which partitions it won.
const PARTS = 40;
const child = (outputJs: string, dir: string, who: string, startAt: number) => `
import { writeTaskOutput, commitTask } from ${JSON.stringify(outputJs)};
async function* lines(p) { yield Array.from({ length: 2000 }, (_, i) => '${who} p' + p + ' line ' + i); }
const temps = [];
for (let p = 0; p < ${PARTS}; p++) temps.push(await writeTaskOutput(${JSON.stringify(dir)}, p, 'attempt_${who}', lines(p)));
while (Date.now() < ${startAt}) {}
const won = await Promise.all(temps.map((t, p) => commitTask(${JSON.stringify(dir)}, p, t)));
process.stdout.write(JSON.stringify(won));
`;

test('concurrent commits of the same partitions from two processes leave exactly one complete file each', async () => {
  const out = path.join(root, 'job-race');
  await prepareOutput(out, false);
  const outputJs = new URL('../../src/io/output.js', import.meta.url).href;
  const startAt = Date.now() + 1500;
  const kids = ['x', 'y'].map((who) =>
    run(process.execPath, ['--input-type=module', '-e', child(outputJs, out, who, startAt)], { timeout: 15_000 }),
  );
  const [wx, wy] = (await Promise.all(kids)).map((r) => JSON.parse(r.stdout) as boolean[]);
  assert.ok(wx && wy);
  for (let p = 0; p < PARTS; p++) {
    assert.ok(wx[p] !== wy[p], `partition ${p}: exactly one winner (x=${wx[p]}, y=${wy[p]})`);
    const winner = wx[p] ? 'x' : 'y';
    const content = fs.readFileSync(path.join(out, `part-${String(p).padStart(5, '0')}`), 'utf8').split('\n');
    assert.equal(content.length, 2001);
    assert.ok(
      content.slice(0, -1).every((l, i) => l === `${winner} p${p} line ${i}`),
      `partition ${p} is ${winner}'s`,
    );
  }
  await commitJob(out, PARTS);
  assert.equal(ls(out).length, PARTS + 1);
});

test('a later attempt of the same application takes over an output dir an earlier attempt left uncommitted', async () => {
  const out = path.join(root, 'takeover');
  await prepareOutput(out, false, { app: 'application_1_0001', attempt: 'appattempt_1_0001_000001' });
  fs.mkdirSync(path.join(out, '_temporary', 'attempt-3'));
  fs.writeFileSync(path.join(out, 'part-00003'), 'half\n');
  // another application, or the same attempt (two saves at once), is refused
  await assert.rejects(
    prepareOutput(out, false, { app: 'application_1_0002', attempt: 'appattempt_1_0002_000001' }),
    /already exists/,
  );
  await assert.rejects(
    prepareOutput(out, false, { app: 'application_1_0001', attempt: 'appattempt_1_0001_000001' }),
    /already exists/,
  );
  await prepareOutput(out, false, { app: 'application_1_0001', attempt: 'appattempt_1_0001_000002' });
  assert.deepEqual(fs.readdirSync(out), ['_temporary']);
  assert.deepEqual(fs.readdirSync(path.join(out, '_temporary')), ['.owner']);
  // committed output is never taken over: a later attempt of the same app keeps it, anyone else is refused
  await commitJob(out, 0, { app: 'application_1_0001', attempt: 'appattempt_1_0001_000002' });
  assert.equal(
    await prepareOutput(out, false, { app: 'application_1_0001', attempt: 'appattempt_1_0001_000003' }),
    'committed-earlier',
  );
  assert.deepEqual(fs.readdirSync(out), ['_SUCCESS']);
  for (const who of [
    { app: 'application_1_0001', attempt: 'appattempt_1_0001_000002' },
    { app: 'application_1_0009', attempt: 'appattempt_1_0009_000001' },
  ])
    await assert.rejects(prepareOutput(out, false, who), /already exists/);
});
