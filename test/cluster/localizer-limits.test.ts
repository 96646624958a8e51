/**
 * The NM's localizer under hostile archives and over time: symlinks pointing outside and hard links are
 * refused with a clear error (nothing left in the cache), an archive unpacking over maxUnpackedBytes is
 * refused (zip-bomb guard), containers get private copies (hard links) rather than links into the cache,
 * and an app's cache entries are evicted when it is cleaned up unless another app still uses them.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Localizer } from '../../src/cluster/nodemanager/localizer.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function setup(t: { after: (f: () => void) => void }, maxUnpacked?: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-loc-limits-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const blobs = new Map<string, Buffer>();
  const stage = (file: string) => {
    const b = fs.readFileSync(file);
    blobs.set(sha(b), b);
    return { sha256: sha(b), size: b.length, type: 'ARCHIVE' as const };
  };
  const cache = path.join(dir, 'cache');
  const loc = new Localizer(cache, async (_a, h) => blobs.get(h)!, maxUnpacked);
  let n = 0;
  const container = () => {
    const c = path.join(dir, `c${n++}`);
    fs.mkdirSync(c);
    return c;
  };
  return { dir, stage, loc, container, cache };
}

test('archives with links pointing outside, or hard links, are refused and leave nothing in the cache', async (t) => {
  const { dir, stage, loc, container, cache } = setup(t);
  const src = path.join(dir, 'src');
  fs.mkdirSync(path.join(src, 'd'), { recursive: true });
  fs.writeFileSync(path.join(src, 'd', 'f'), 'data');
  fs.symlinkSync('/etc', path.join(src, 'd', 'etc'));
  execFileSync('tar', ['-czf', path.join(dir, 'abs.tgz'), '-C', src, 'd']);
  fs.rmSync(path.join(src, 'd', 'etc'));
  fs.symlinkSync('../../../cluster.secret', path.join(src, 'd', 'up'));
  execFileSync('tar', ['-czf', path.join(dir, 'up.tgz'), '-C', src, 'd']);
  execFileSync('sh', ['-c', `cd ${src} && zip -qry ${path.join(dir, 'up.zip')} d`]);
  fs.rmSync(path.join(src, 'd', 'up'));
  fs.linkSync(path.join(src, 'd', 'f'), path.join(src, 'd', 'hard'));
  execFileSync('tar', ['-czf', path.join(dir, 'hard.tgz'), '-C', src, 'd']);
  fs.rmSync(path.join(src, 'd', 'hard'));
  fs.symlinkSync('f', path.join(src, 'd', 'inside'));
  execFileSync('tar', ['-czf', path.join(dir, 'inside.tgz'), '-C', src, 'd']);

  await assert.rejects(
    loc.localize('app', container(), { a: stage(path.join(dir, 'abs.tgz')) }),
    /archive a has a symbolic link pointing outside it: "d\/etc -> \/etc"/,
  );
  await assert.rejects(
    loc.localize('app', container(), { u: stage(path.join(dir, 'up.tgz')) }),
    /symbolic link pointing outside it: "d\/up -> ..\/..\/..\/cluster.secret"/,
  );
  await assert.rejects(
    loc.localize('app', container(), { z: stage(path.join(dir, 'up.zip')) }),
    /symbolic link pointing outside it/,
  );
  await assert.rejects(
    loc.localize('app', container(), { h: stage(path.join(dir, 'hard.tgz')) }),
    /archive h has a hard link entry \(hard links are not allowed\)/,
  );
  assert.deepEqual(loc.entries(), [], 'nothing of a refused archive stays in the cache');
  // a link inside the tree is fine; the container gets a private copy, not a link into the cache
  const c = container();
  await loc.localize('app', c, { i: stage(path.join(dir, 'inside.tgz')) });
  assert.equal(fs.readFileSync(path.join(c, 'i', 'd', 'inside'), 'utf8'), 'data');
  assert.equal(fs.lstatSync(path.join(c, 'i')).isDirectory(), true, 'a directory of its own, not a symlink');
  assert.ok(!fs.readlinkSync(path.join(c, 'i', 'd', 'inside')).startsWith(cache));
});

test('an archive unpacking over maxUnpackedBytes is refused (zip-bomb guard), before or after unpacking', async (t) => {
  const { dir, stage, loc, container } = setup(t, 1024 * 1024);
  const src = path.join(dir, 'src');
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, 'zeros'), Buffer.alloc(8 * 1024 * 1024));
  execFileSync('tar', ['-czf', path.join(dir, 'bomb.tgz'), '-C', src, 'zeros']);
  execFileSync('sh', ['-c', `cd ${src} && zip -q ${path.join(dir, 'bomb.zip')} zeros`]);
  assert.ok(fs.statSync(path.join(dir, 'bomb.tgz')).size < 100 * 1024, 'small on the wire');
  for (const f of ['bomb.tgz', 'bomb.zip'])
    await assert.rejects(
      loc.localize('app', container(), { b: stage(path.join(dir, f)) }),
      /archive b unpacks to 8\.0 MiB or more, over the NodeManager's limit of 1\.0 MiB \(maxUnpackedBytes\)/,
      f,
    );
  assert.deepEqual(loc.entries(), []);
});

test("an app's cache entries are evicted when it is cleaned up, unless another live app uses them", async (t) => {
  const { dir, stage, loc, container } = setup(t);
  const src = path.join(dir, 'src');
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, 'x'), 'x');
  execFileSync('tar', ['-czf', path.join(dir, 'shared.tgz'), '-C', src, 'x']);
  fs.writeFileSync(path.join(src, 'y'), 'y');
  execFileSync('tar', ['-czf', path.join(dir, 'own.tgz'), '-C', src, 'y']);
  const shared = stage(path.join(dir, 'shared.tgz'));
  const mine = stage(path.join(dir, 'own.tgz'));
  const ca = container();
  await loc.localize('A', ca, { s: shared, o: mine });
  await loc.localize('B', container(), { s: shared });
  assert.equal(loc.entries().length, 2);
  assert.equal(loc.release('A'), 1, "A's own archive goes");
  assert.deepEqual(loc.entries(), [`${shared.sha256}.d`], 'the shared one stays for B');
  assert.equal(fs.readFileSync(path.join(ca, 'o', 'y'), 'utf8'), 'y', "a live container's copy survives eviction");
  assert.equal(loc.release('B'), 1);
  assert.deepEqual(loc.entries(), []);
});
