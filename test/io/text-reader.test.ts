import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';
import { type TextSplit, textSplitsOf } from '../../src/io/splits.js';
import { READ_BUFFER_SIZE, readTextSplit, readWholeFiles } from '../../src/io/text-reader.js';
import { collect, removeDir, rng, tempDir } from './helpers.js';

let dir = '';
before(() => {
  dir = tempDir('reader');
});
after(() => removeDir(dir));

/** What a line reader must return for `content`: split on \n, strip one trailing \r, no phantom last line. */
function expectedLines(content: string): string[] {
  if (content.length === 0) return [];
  const parts = content.split('\n');
  if (content.endsWith('\n')) parts.pop();
  return parts.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

const ALPHABET = ['a', 'b', 'z', ' ', '\t', 'é', 'ß', '€', '中', '文', '𝄞', '😀', '\r'];

function randomContent(r: () => number, approxBytes: number, longLines: boolean): string {
  const parts: string[] = [];
  let bytes = 0;
  while (bytes < approxBytes) {
    const len = longLines && r() < 0.05 ? Math.floor(r() * 300_000) : Math.floor(r() * (r() < 0.2 ? 0 : 60));
    let line = '';
    for (let i = 0; i < len; i++) line += ALPHABET[Math.floor(r() * ALPHABET.length)];
    const eol = r() < 0.3 ? '\r\n' : '\n';
    parts.push(line + eol);
    bytes += Buffer.byteLength(line) + eol.length;
  }
  let s = parts.join('');
  if (r() < 0.5) s = s.slice(0, -1 - Math.floor(r() * 3)); // sometimes no final newline, or a cut final line
  if (r() < 0.1) s = s.slice(0, s.length - 1); // may cut a character: fine, still must tile exactly
  return s;
}

/** Reads `file` through the given contiguous splits and returns every line in order. */
async function readAll(splits: TextSplit[], batchLines?: number): Promise<string[]> {
  const out: string[] = [];
  for (const s of splits) {
    for await (const batch of readTextSplit(s, batchLines)) {
      assert.ok(batch.length > 0 && batch.length <= (batchLines ?? 4096), 'batches are non-empty and bounded');
      out.push(...batch);
    }
  }
  return out;
}

/** Arbitrary contiguous cut points (not only what the planner would produce). */
function randomCuts(r: () => number, file: string, size: number, count: number): TextSplit[] {
  const cuts = new Set<number>([0, size]);
  for (let i = 0; i < count; i++) cuts.add(Math.floor(r() * size));
  const sorted = [...cuts].sort((a, b) => a - b);
  const splits: TextSplit[] = [];
  for (let i = 1; i < sorted.length; i++) {
    splits.push({ file, start: sorted[i - 1] as number, end: sorted[i] as number, gzip: false });
  }
  return splits;
}

test('property: for random small files and random splits, the concatenated lines equal the file lines', async () => {
  const seed = 20240601;
  const r = rng(seed);
  for (let f = 0; f < 50; f++) {
    const content = randomContent(r, Math.floor(r() * 300), false);
    const file = path.join(dir, `small-${f}.txt`);
    fs.writeFileSync(file, content);
    const size = fs.statSync(file).size;
    const want = expectedLines(fs.readFileSync(file, 'utf8'));
    for (let k = 0; k < 6; k++) {
      const splits =
        k % 2 === 0
          ? textSplitsOf([{ path: file, size }], 1 + Math.floor(r() * 40))
          : randomCuts(r, file, size, Math.floor(r() * Math.min(size, 60)));
      const got = await readAll(splits, 1 + Math.floor(r() * 7));
      assert.deepEqual(got, want, `seed ${seed} file ${f} split ${k}: ${JSON.stringify(splits.map((s) => s.start))}`);
    }
    // every single-byte split: the hardest tiling
    const perByte = textSplitsOf([{ path: file, size }], size, { blockSize: 1 });
    assert.deepEqual(await readAll(perByte), want, `seed ${seed} file ${f} per-byte`);
  }
});

test('property: multi-MiB files with long lines and multibyte characters across 1 MiB read boundaries', async () => {
  const seed = 77;
  const r = rng(seed);
  for (let f = 0; f < 4; f++) {
    const content = randomContent(r, 2.5 * READ_BUFFER_SIZE, true);
    const file = path.join(dir, `big-${f}.txt`);
    fs.writeFileSync(file, content);
    const size = fs.statSync(file).size;
    const want = expectedLines(content);
    for (const n of [1, 2, 3, 5, 17]) {
      assert.deepEqual(await readAll(textSplitsOf([{ path: file, size }], n)), want, `seed ${seed} file ${f} n=${n}`);
    }
    // cuts placed right around the read-buffer boundaries
    const around = [READ_BUFFER_SIZE, 2 * READ_BUFFER_SIZE].flatMap((b) => [b - 2, b - 1, b, b + 1, b + 3]);
    const cuts = [0, ...around.filter((c) => c < size), size];
    const splits = cuts.slice(1).map((end, i) => ({ file, start: cuts[i] as number, end, gzip: false }));
    assert.deepEqual(await readAll(splits), want, `seed ${seed} file ${f} boundary cuts`);
  }
});

test('a 4-byte character straddling the 1 MiB buffer boundary and a line longer than the buffer', async () => {
  const pre = 'x'.repeat(READ_BUFFER_SIZE - 2);
  const huge = 'é'.repeat(READ_BUFFER_SIZE); // 2 MiB line
  const content = `${pre}😀tail\r\n${huge}\nlast`;
  const file = path.join(dir, 'straddle.txt');
  fs.writeFileSync(file, content);
  const size = fs.statSync(file).size;
  const want = [`${pre}😀tail`, huge, 'last'];
  assert.deepEqual(await readAll([{ file, start: 0, end: size, gzip: false }]), want);
  for (const n of [2, 3, 4, 9]) assert.deepEqual(await readAll(textSplitsOf([{ path: file, size }], n)), want);
});

test('line-ownership edge cases: newline exactly at end-1, empty lines, CRLF split between splits', async () => {
  const file = path.join(dir, 'edges.txt');
  fs.writeFileSync(file, 'ab\n\n\r\ncd\r\nef');
  const at = (start: number, end: number) => collect(readTextSplit({ file, start, end, gzip: false }));
  assert.deepEqual(await at(0, 3), ['ab']); // \n at end-1: the next line belongs to the next split
  assert.deepEqual(await at(3, 4), ['']); // the empty line starts at byte 3
  assert.deepEqual(await at(0, 1), ['ab']);
  assert.deepEqual(await at(1, 3), []); // no line starts in [1,3)
  assert.deepEqual(await at(4, 6), ['']); // '\r\n' line starting at 4, read past end
  assert.deepEqual(await at(5, 12), ['cd', 'ef']);
  assert.deepEqual(await at(9, 13), ['ef']); // the \n of 'cd\r\n' is at 10: 'ef' starts at 11
  assert.deepEqual(await at(12, 13), []);
  assert.deepEqual(await at(5, 5), []);
});

test('gzip input: streaming decompression, multi-member files, CRLF, missing file and corrupt data', async () => {
  const r = rng(5);
  const content = randomContent(r, 3 * READ_BUFFER_SIZE, true);
  const file = path.join(dir, 'data.txt.gz');
  fs.writeFileSync(file, zlib.gzipSync(content));
  const split = { file, start: 0, end: fs.statSync(file).size, gzip: true };
  assert.deepEqual(await collect(readTextSplit(split, 1000)), expectedLines(content));
  // concatenated gzip members (as `cat a.gz b.gz` produces) read as one stream
  const multi = path.join(dir, 'multi.gz');
  fs.writeFileSync(multi, Buffer.concat([zlib.gzipSync('one\r\ntw'), zlib.gzipSync('o\nthree\n')]));
  assert.deepEqual(await collect(readTextSplit({ file: multi, start: 0, end: 1, gzip: true })), [
    'one',
    'two',
    'three',
  ]);
  const bad = path.join(dir, 'bad.gz');
  fs.writeFileSync(bad, 'this is not gzip at all');
  await assert.rejects(
    collect(readTextSplit({ file: bad, start: 0, end: 23, gzip: true })),
    /Cannot decompress .*bad\.gz/,
  );
  await assert.rejects(
    collect(readTextSplit({ file: path.join(dir, 'gone.gz'), start: 0, end: 5, gzip: true })),
    /disappeared or is not visible/,
  );
  await assert.rejects(collect(readTextSplit({ ...split, start: 10 })), /not splittable/);
});

test('whole files: one record per file, gz decompressed, empty files kept, order preserved', async () => {
  const a = path.join(dir, 'w-a.txt');
  const b = path.join(dir, 'w-b.txt.gz');
  const c = path.join(dir, 'w-c.txt');
  fs.writeFileSync(a, 'héllo\nworld\n');
  fs.writeFileSync(b, zlib.gzipSync('zipped 😀'));
  fs.writeFileSync(c, '');
  assert.deepEqual(await collect(readWholeFiles({ files: [a, b, c] })), [
    [a, 'héllo\nworld\n'],
    [b, 'zipped 😀'],
    [c, ''],
  ]);
  await assert.rejects(collect(readWholeFiles({ files: [path.join(dir, 'nope')] })), /INPUT|disappeared/);
});

test('a consumer that stops early (take(n)) releases the file and the gzip stream', async () => {
  const plain = path.join(dir, 'early.txt');
  fs.writeFileSync(plain, 'line\n'.repeat(100_000));
  const gz = path.join(dir, 'early.txt.gz');
  fs.writeFileSync(gz, zlib.gzipSync('line\n'.repeat(100_000)));
  for (const split of [
    { file: plain, start: 0, end: fs.statSync(plain).size, gzip: false },
    { file: gz, start: 0, end: fs.statSync(gz).size, gzip: true },
  ]) {
    let batches = 0;
    for await (const b of readTextSplit(split, 10)) {
      assert.deepEqual(b, Array(10).fill('line'));
      if (++batches === 3) break;
    }
    assert.equal(batches, 3);
  }
  // the file can be removed and nothing is left reading it (the test runner would report a pending handle)
  fs.rmSync(plain);
  fs.rmSync(gz);
});
