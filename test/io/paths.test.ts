import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CinderError } from '../../src/common/errors.js';
import { globToRegExp, splitPathList } from '../../src/io/glob.js';
import { expandPaths } from '../../src/io/paths.js';
import { planTextSplits, planWholeFiles, textSplitsOf, wholeFilesSplitsOf } from '../../src/io/splits.js';
import { removeDir, tempDir } from './helpers.js';

let root = '';
const p = (...s: string[]) => path.join(root, ...s);

before(() => {
  root = tempDir('paths');
  const files: Record<string, string> = {
    'logs/2024-01/a.txt': 'a\n',
    'logs/2024-01/b.txt': 'bb\n',
    'logs/2024-01/_SUCCESS': '',
    'logs/2024-01/.a.txt.crc': 'x',
    'logs/2024-02/c.txt': 'ccc\n',
    'logs/2024-02/sub/deep.txt': 'deep\n',
    'logs/2025-01/d.log': 'd\n',
    'single.txt': 'hello\n',
    '_hidden.txt': 'h\n',
    'odd[1].txt': 'odd\n',
    'empties/e1.txt': '',
    'empties/e2.txt': '',
    'big.txt': 'x'.repeat(1000),
    'z.gz': 'not really gzip but only planned here',
  };
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(p(name)), { recursive: true });
    fs.writeFileSync(p(name), content);
  }
  fs.mkdirSync(p('emptydir'));
});
after(() => removeDir(root));

test('glob translation: *, ?, classes, negated classes, braces, escapes', () => {
  const m = (g: string, s: string) => globToRegExp(g).test(s);
  assert.ok(m('*.txt', 'a.txt'));
  assert.ok(!m('*.txt', 'a.txt.crc'));
  assert.ok(m('part-?????', 'part-00001'));
  assert.ok(!m('part-?????', 'part-0001'));
  assert.ok(m('[ab]*', 'b1') && !m('[ab]*', 'c1'));
  assert.ok(m('[!ab]*', 'c1') && !m('[!ab]*', 'a1'));
  assert.ok(m('[a-c]x', 'bx') && !m('[a-c]x', 'dx'));
  assert.ok(m('{foo,ba{r,z}}.csv', 'baz.csv') && m('{foo,ba{r,z}}.csv', 'foo.csv') && !m('{foo,bar}.csv', 'bax.csv'));
  assert.ok(m('a\\*b', 'a*b') && !m('a\\*b', 'axb'));
  assert.ok(m('a.b', 'a.b') && !m('a.b', 'axb'));
  assert.throws(() => globToRegExp('{a,b'), /never closed/);
  assert.throws(() => globToRegExp('[ab'), /never closed/);
});

test('comma lists split outside braces only', () => {
  assert.deepEqual(splitPathList('a, b ,c'), ['a', 'b', 'c']);
  assert.deepEqual(splitPathList('d/{x,y}/*,e'), ['d/{x,y}/*', 'e']);
  assert.deepEqual(splitPathList(' , '), []);
});

test('a file, a directory (non-recursive, hidden files skipped) and a comma list', async () => {
  assert.deepEqual(await expandPaths(p('single.txt')), [p('single.txt')]);
  assert.deepEqual(await expandPaths(p('logs/2024-01')), [p('logs/2024-01/a.txt'), p('logs/2024-01/b.txt')]);
  // sub-directories are not descended into
  assert.deepEqual(await expandPaths(p('logs/2024-02')), [p('logs/2024-02/c.txt')]);
  assert.deepEqual(await expandPaths(`${p('single.txt')},${p('logs/2024-02')}`), [
    p('single.txt'),
    p('logs/2024-02/c.txt'),
  ]);
  // an explicitly named hidden file is used; a file named twice is read twice
  assert.deepEqual(await expandPaths(`${p('_hidden.txt')},${p('_hidden.txt')}`), [p('_hidden.txt'), p('_hidden.txt')]);
  assert.deepEqual(await expandPaths(`file://${p('single.txt')}`), [p('single.txt')]);
  assert.deepEqual(await expandPaths(p('emptydir')), []);
});

test('relative paths resolve against cwd', async () => {
  const rel = path.relative(process.cwd(), p('single.txt'));
  assert.deepEqual(await expandPaths(rel), [p('single.txt')]);
});

test('globs in any segment, braces, matched directories expand to their files', async () => {
  assert.deepEqual(await expandPaths(p('logs/2024-*/*.txt')), [
    p('logs/2024-01/a.txt'),
    p('logs/2024-01/b.txt'),
    p('logs/2024-02/c.txt'),
  ]);
  assert.deepEqual(await expandPaths(p('logs/*')), [
    p('logs/2024-01/a.txt'),
    p('logs/2024-01/b.txt'),
    p('logs/2024-02/c.txt'),
    p('logs/2025-01/d.log'),
  ]);
  assert.deepEqual(await expandPaths(p('logs/{2024-02,2025-01}/?.*')), [
    p('logs/2024-02/c.txt'),
    p('logs/2025-01/d.log'),
  ]);
  assert.deepEqual(await expandPaths(`${p('logs/202[5]-01')},${p('single.*')}`), [
    p('logs/2025-01/d.log'),
    p('single.txt'),
  ]);
  // hidden names never match a glob
  assert.deepEqual(await expandPaths(p('logs/2024-01/*')), [p('logs/2024-01/a.txt'), p('logs/2024-01/b.txt')]);
  // a literal name that looks like a glob still works
  assert.deepEqual(await expandPaths(p('odd[1].txt')), [p('odd[1].txt')]);
});

test('missing paths and empty globs fail with INPUT_NOT_FOUND naming the path', async () => {
  await assert.rejects(expandPaths(p('nope.txt')), (e: unknown) => {
    assert.ok(e instanceof CinderError);
    assert.equal(e.code, 'INPUT_NOT_FOUND');
    assert.match(e.message, /Input path does not exist: .*nope\.txt/);
    assert.match(e.message, /hint: /);
    return true;
  });
  await assert.rejects(expandPaths(`${p('single.txt')},${p('missing/x')}`), /does not exist: .*missing\/x/);
  await assert.rejects(expandPaths(p('logs/*/nothing-*')), (e: unknown) => {
    assert.ok(e instanceof CinderError);
    assert.equal(e.code, 'INPUT_NOT_FOUND');
    assert.match(e.message, /matches 0 files/);
    return true;
  });
  await assert.rejects(expandPaths(p('logs/2024-01/_*')), /matches 0 files/);
  await assert.rejects(expandPaths(''), /No input path/);
  await assert.rejects(expandPaths('hdfs://nn/x'), (e: unknown) => (e as CinderError).code === 'UNSUPPORTED_FS');
});

test('text splits follow Hadoop sizing: goal size, block cap, 10% slop, gz unsplittable, empty files skipped', async () => {
  const f = (name: string, size: number) => ({ path: `/d/${name}`, size });
  // 1000 bytes, 4 partitions -> 250-byte splits
  assert.deepEqual(
    textSplitsOf([f('a', 1000)], 4).map((s) => [s.start, s.end]),
    [
      [0, 250],
      [250, 500],
      [500, 750],
      [750, 1000],
    ],
  );
  // slop: 1050 bytes / 4 = 262 -> 3 splits of 262 then 264 (<= 1.1 x 262) merged into the last
  const slop = textSplitsOf([f('a', 1050)], 4);
  assert.equal(slop.length, 4);
  assert.equal(slop.at(-1)?.end, 1050);
  // block size caps the split size
  assert.equal(textSplitsOf([f('a', 1000)], 1, { blockSize: 100 }).length, 10);
  // min split size lifts it
  assert.equal(textSplitsOf([f('a', 1000)], 100, { minSplitSize: 500 }).length, 2);
  // gz: one split each regardless of size; empty files give none
  const mixed = textSplitsOf([f('a.gz', 5000), f('e', 0), f('b', 10)], 10);
  assert.deepEqual(mixed[0], { file: '/d/a.gz', start: 0, end: 5000, gzip: true });
  assert.ok(mixed.every((s) => s.file !== '/d/e'));
  // all-empty input still yields one empty partition; no files yields none
  assert.deepEqual(textSplitsOf([f('e1', 0), f('e2', 0)], 3), [{ file: '/d/e1', start: 0, end: 0, gzip: false }]);
  assert.deepEqual(textSplitsOf([], 3), []);
  // splits tile every file exactly
  const files = [f('x', 12345), f('y', 1), f('z', 999)];
  for (const n of [1, 2, 3, 7, 50, 20000]) {
    const splits = textSplitsOf(files, n);
    for (const file of files) {
      const mine = splits.filter((s) => s.file === file.path);
      assert.equal(mine[0]?.start, 0);
      assert.equal(mine.at(-1)?.end, file.size);
      for (let i = 1; i < mine.length; i++) assert.equal(mine[i]?.start, mine[i - 1]?.end);
    }
    // at least ~minPartitions splits (Hadoop's 10% slop can merge a tail into its neighbour)
    assert.ok(splits.length >= Math.floor(Math.min(n, 12345 + 1 + 999) / 1.1), `${n} -> ${splits.length}`);
  }
  assert.throws(() => textSplitsOf([f('a.bz2', 10)], 1), /bz2/);
});

test('planTextSplits / planWholeFiles on real paths', async () => {
  const t = await planTextSplits(`${p('big.txt')},${p('z.gz')},${p('empties')}`, 4);
  assert.equal(t.filter((s) => s.file === p('big.txt')).length, 4);
  assert.deepEqual(
    t.filter((s) => s.gzip),
    [{ file: p('z.gz'), start: 0, end: fs.statSync(p('z.gz')).size, gzip: true }],
  );
  assert.equal((await planTextSplits(p('empties'), 5)).length, 1);
  const w = await planWholeFiles(p('logs/*'), 2);
  assert.deepEqual(
    w.flatMap((s) => s.files),
    await expandPaths(p('logs/*')),
  );
  assert.ok(w.length >= 2);
  const sized = wholeFilesSplitsOf(
    [10, 10, 10, 10, 100].map((size, i) => ({ path: `/f${i}`, size })),
    2,
  );
  assert.deepEqual(
    sized.map((s) => s.files),
    [['/f0', '/f1', '/f2', '/f3'], ['/f4']],
  );
});
