/**
 * The NM's localizer under hostile archives and over time: symlinks pointing outside and hard links are
 * refused with a clear error (nothing left in the cache), an archive unpacking over maxUnpackedBytes is
 * refused (zip-bomb guard), containers get private copies (hard links) rather than links into the cache;
 * the whole cache is capped: entries of cleaned-up apps stay for later apps until room is needed, then go
 * least recently used first, entries of live apps never go, and an app whose resources do not fit is
 * refused naming the sizes and the cap; a restarted NM counts what is on disk.
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

function setup(t: { after: (f: () => void) => void }, maxUnpacked?: number, maxCache?: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-loc-limits-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const blobs = new Map<string, Buffer>();
  const stage = (file: string) => {
    const b = fs.readFileSync(file);
    blobs.set(sha(b), b);
    return { sha256: sha(b), size: b.length, type: 'ARCHIVE' as const };
  };
  const cache = path.join(dir, 'cache');
  const fetch = async (_a: string, h: string) => blobs.get(h)!;
  const loc = new Localizer(cache, fetch, maxUnpacked, maxCache);
  let n = 0;
  const container = () => {
    const c = path.join(dir, `c${n++}`);
    fs.mkdirSync(c);
    return c;
  };
  return { dir, stage, loc, container, cache, blobs, fetch };
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

test("a cleaned-up app's entries stay for later apps; a live app's copies survive eviction", async (t) => {
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
  assert.equal(loc.release('A'), 1, "A's own archive is unused now");
  assert.equal(loc.entries().length, 2, 'under the cap, it stays cached');
  const downloads = loc.downloads;
  await loc.localize('C', container(), { o: mine });
  assert.equal(loc.downloads, downloads, 'a later app gets it from the cache');
  assert.equal(fs.readFileSync(path.join(ca, 'o', 'y'), 'utf8'), 'y');
});

test('the cache stays under maxCacheBytes: LRU entries of ended apps go, live ones stay, a too-big app is refused', async (t) => {
  const MiB = 1024 * 1024;
  const { dir, blobs, loc, container, fetch, cache } = setup(t, undefined, 3 * MiB + 1024);
  // incompressible files of 1 MiB each (random bytes), staged as FILE resources
  const file = (seed: number) => {
    const b = Buffer.alloc(MiB);
    for (let i = 0; i < b.length; i += 32) createHash('sha256').update(`${seed}:${i}`).digest().copy(b, i);
    const h = sha(b);
    blobs.set(h, b);
    return { sha256: h, size: b.length, type: 'FILE' as const };
  };
  const [f1, f2, f3, f4, f5] = [1, 2, 3, 4, 5].map(file);
  await loc.localize('old1', container(), { a: f1! });
  await loc.localize('old2', container(), { b: f2! });
  await loc.localize('live', container(), { c: f3! });
  loc.release('old1');
  loc.release('old2');
  // old2's entry is used again by a later app: old1's is now the least recently used
  await loc.localize('again', container(), { b: f2! });
  loc.release('again');
  assert.equal(loc.entries().length, 3, 'three of 1 MiB fit under the 3 MiB cap');
  await loc.localize('next', container(), { d: f4! });
  assert.equal(loc.evicted, 1);
  assert.deepEqual(new Set(loc.entries()), new Set([f2!.sha256, f3!.sha256, f4!.sha256]), 'the LRU unused entry went');
  assert.ok(loc.totalBytes <= 3 * MiB + 1024);
  // live apps hold 2 MiB (live, next); one more of 1 MiB fits only by evicting f2 (unused)
  await loc.localize('next', container(), { e: f5! });
  assert.equal(fs.existsSync(path.join(cache, f2!.sha256)), false);
  assert.ok(fs.existsSync(path.join(cache, f3!.sha256)), "a live app's entry is never evicted");
  // now every entry is live: a new app's 1 MiB does not fit beside them
  const big = file(6);
  await assert.rejects(
    loc.localize('late', container(), { f: big }),
    /cannot localize f: running applications hold 3\.0 MiB of the node's 3\.0 MiB resource cache \(maxCacheBytes\), and f needs 1\.0 MiB more/,
  );
  // one app whose own resources exceed the cap is told so
  const small = new Localizer(path.join(dir, 'cache2'), fetch, undefined, 1536 * 1024);
  await small.localize('greedy', container(), { a: f1! });
  await assert.rejects(
    small.localize('greedy', container(), { b: f2! }),
    /cannot localize b: greedy's resources need 2\.0 MiB here, over the node's resource cache limit of 1\.5 MiB \(maxCacheBytes\)/,
  );
  assert.deepEqual(small.entries(), [f1!.sha256], 'nothing of the refused resource is left');
  // a restarted NM counts what the last one left, as unused entries it may evict
  const restarted = new Localizer(cache, fetch, undefined, 3 * MiB + 1024);
  assert.equal(restarted.totalBytes, 3 * MiB);
  await restarted.localize('fresh', container(), { g: big });
  assert.equal(restarted.evicted, 1, 'room made by evicting the oldest entry found on disk');
});
