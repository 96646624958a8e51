/**
 * Per-node resource cache for localization: each staged resource is downloaded once per node (by
 * sha256, concurrent requests share one download), verified against its hash, and archives are
 * unpacked once (system tar / unzip, argv only) after their listing is checked (archive-check.ts:
 * no escaping names, no hard links or special files, declared size under maxUnpackedBytes) and, once
 * unpacked, walked (symlinks must stay inside, real size under the cap, modes made read-only for others).
 * The cache dir is private to the NM; a container gets its own copy of the tree it needs in its dir
 * (directories made, files hard-linked, so a container reads only its own resources and an evicted entry
 * does not break it). The cache is capped at maxCacheBytes in all (YARN's localizer target size): an entry
 * no live app uses stays for later apps until room is needed, then the least recently used such entries
 * are evicted; entries of live apps are never evicted, and a resource that does not fit beside them is
 * refused with the sizes and the cap. A restarted NM finds what is on disk as unused entries. It must not
 * launch processes other than tar/unzip.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CinderError } from '../../common/errors.js';
import type { LocalResource } from '../../protocol/cluster.js';
import { checkPlainName } from '../common/safe-path.js';
import { checkListing, checkNames, checkUnpacked, parseTarListing, parseZipListing } from './archive-check.js';

export type Fetch = (appId: string, sha256: string) => Promise<Uint8Array>;

/** 1 GiB: the largest tree one archive may unpack to (zip-bomb guard). */
export const DEFAULT_MAX_UNPACKED_BYTES = 1024 * 1024 * 1024;
/** 10 GiB: the whole cache (yarn.nodemanager.localizer.cache.target-size-mb is 10240). */
export const DEFAULT_MAX_CACHE_BYTES = 10 * 1024 * 1024 * 1024;

/** Bytes of a file or of the regular files of a tree (symlinks count nothing). */
function treeBytes(p: string): number {
  const st = fs.lstatSync(p);
  if (st.isDirectory()) return fs.readdirSync(p).reduce((n, e) => n + treeBytes(path.join(p, e)), 0);
  return st.isFile() ? st.size : 0;
}

function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

interface Entry {
  bytes: number;
  /** apps that localized it and have not been cleaned up */
  apps: Set<string>;
  /** order of last use (a counter, not a clock): lower is older */
  used: number;
}

function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      err += d;
    });
    p.on('error', (e) => reject(new CinderError('ARCHIVE', `${cmd} could not run: ${e.message}`)));
    p.on('exit', (code) =>
      code === 0
        ? resolve(out)
        : reject(new CinderError('ARCHIVE', `${cmd} ${args[0]} failed (exit ${code}): ${err.trim().slice(0, 2000)}`)),
    );
  });
}

/** Copies a tree: directories made (owned by the caller), files hard-linked (copied across devices), symlinks re-made. */
function linkTree(from: string, to: string): void {
  const st = fs.lstatSync(from);
  if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
  else if (st.isDirectory()) {
    fs.mkdirSync(to, { mode: 0o755 });
    for (const e of fs.readdirSync(from)) linkTree(path.join(from, e), path.join(to, e));
  } else {
    try {
      fs.linkSync(from, to);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
      fs.copyFileSync(from, to);
    }
  }
}

export class Localizer {
  private readonly inflight = new Map<string, Promise<string>>();
  /** cache entry (its final path) -> size, users, last use */
  private readonly cache = new Map<string, Entry>();
  private tick = 0;
  /** downloads actually performed (cache misses), observable by tests */
  downloads = 0;
  hits = 0;
  /** entries evicted to make room, observable by tests */
  evicted = 0;

  constructor(
    private readonly cacheDir: string,
    private readonly fetch: Fetch,
    private readonly maxUnpackedBytes = DEFAULT_MAX_UNPACKED_BYTES,
    private readonly maxCacheBytes = DEFAULT_MAX_CACHE_BYTES,
  ) {
    fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(cacheDir, 0o700);
    // a previous NM's entries: unused (oldest first by mtime); its half-done downloads go
    const found: string[] = [];
    for (const e of fs.readdirSync(cacheDir)) {
      const p = path.join(cacheDir, e);
      if (p.endsWith('.tmp') || p.endsWith('.archive')) fs.rmSync(p, { recursive: true, force: true });
      else found.push(p);
    }
    found.sort((a, b) => fs.lstatSync(a).mtimeMs - fs.lstatSync(b).mtimeMs);
    for (const p of found) this.cache.set(p, { bytes: treeBytes(p), apps: new Set(), used: this.tick++ });
    this.makeRoom(0);
  }

  /** Bytes in the cache (tests, logs). */
  get totalBytes(): number {
    let n = 0;
    for (const e of this.cache.values()) n += e.bytes;
    return n;
  }

  /**
   * Evicts entries no live app uses, least recently used first, until `more` bytes fit under the cap;
   * returns the bytes live apps hold when they still do not fit, else undefined.
   */
  private makeRoom(more: number): number | undefined {
    let total = this.totalBytes;
    if (total + more <= this.maxCacheBytes) return undefined;
    const unused = [...this.cache].filter(([, e]) => e.apps.size === 0).sort((a, b) => a[1].used - b[1].used);
    for (const [p, e] of unused) {
      if (total + more <= this.maxCacheBytes) break;
      if (this.busy(p)) continue;
      fs.rmSync(p, { recursive: true, force: true });
      this.cache.delete(p);
      this.evicted++;
      total -= e.bytes;
    }
    return total + more <= this.maxCacheBytes ? undefined : total;
  }

  private busy(entry: string): boolean {
    const base = path.basename(entry).replace(/\.d$/, '');
    return [...this.inflight.keys()].some((k) => k.startsWith(base));
  }

  /** Bytes of the entries appId uses. */
  private bytesOf(appId: string): number {
    let n = 0;
    for (const e of this.cache.values()) if (e.apps.has(appId)) n += e.bytes;
    return n;
  }

  /** Makes room for a new entry of `bytes` for appId, or refuses naming the sizes and the cap. */
  private admit(appId: string, link: string, bytes: number): void {
    const held = this.makeRoom(bytes);
    if (held === undefined) return;
    const own = this.bytesOf(appId);
    const why =
      own + bytes > this.maxCacheBytes
        ? `${appId}'s resources need ${mib(own + bytes)} here, over the node's resource cache limit of ${mib(this.maxCacheBytes)} (maxCacheBytes)`
        : `running applications hold ${mib(held)} of the node's ${mib(this.maxCacheBytes)} resource cache (maxCacheBytes), and ${link} needs ${mib(bytes)} more`;
    throw new CinderError(
      'CACHE_FULL',
      `cannot localize ${link}: ${why}`,
      own + bytes > this.maxCacheBytes
        ? 'ship fewer or smaller --files/--archives, or raise maxCacheBytes on the NodeManagers'
        : 'retry when other applications end, or raise maxCacheBytes on the NodeManagers',
    );
  }

  /** Localizes every resource into containerDir under its link name (a private copy: hard links). */
  async localize(appId: string, containerDir: string, resources: Record<string, LocalResource>): Promise<void> {
    await Promise.all(
      Object.entries(resources).map(async ([link, r]) => {
        checkPlainName(link, 'local resource link');
        const target = await this.get(appId, link, r);
        linkTree(target, path.join(containerDir, link));
      }),
    );
  }

  /**
   * The app was cleaned up: entries no other live app uses become evictable (kept for later apps while
   * the cache is under its cap). Returns how many became unused.
   */
  release(appId: string): number {
    let n = 0;
    for (const e of this.cache.values()) if (e.apps.delete(appId) && e.apps.size === 0) n++;
    this.makeRoom(0);
    return n;
  }

  /** Entries in the cache dir (tests). */
  entries(): string[] {
    return fs.readdirSync(this.cacheDir);
  }

  private get(appId: string, link: string, r: LocalResource): Promise<string> {
    const key = `${r.sha256}:${r.type}`;
    const final = path.join(this.cacheDir, r.type === 'ARCHIVE' ? `${r.sha256}.d` : r.sha256);
    const e = this.cache.get(final);
    if (e && fs.existsSync(final)) {
      e.apps.add(appId);
      e.used = this.tick++;
      this.hits++;
      return Promise.resolve(final);
    }
    let p = this.inflight.get(key);
    if (p) {
      this.hits++;
      return p.then((f) => {
        const got = this.cache.get(f);
        if (got) got.apps.add(appId);
        return f;
      });
    }
    p = this.download(appId, link, r, final).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async download(appId: string, link: string, r: LocalResource, final: string): Promise<string> {
    this.downloads++;
    const data = await this.fetch(appId, r.sha256);
    const got = createHash('sha256').update(data).digest('hex');
    if (got !== r.sha256 || data.length !== r.size)
      throw new CinderError(
        'LOCALIZATION_FAILED',
        `resource ${link} changed on the staging store: expected sha256 ${r.sha256} (${r.size} bytes), got ${got} (${data.length} bytes)`,
      );
    const tmp = `${final}.${process.pid}.${Date.now()}.tmp`;
    // the download itself must fit (an archive's tree is checked again once unpacked)
    this.admit(appId, link, data.length);
    if (r.type === 'FILE') {
      fs.writeFileSync(tmp, data, { mode: 0o644 });
      fs.renameSync(tmp, final);
      this.cache.set(final, { bytes: data.length, apps: new Set([appId]), used: this.tick++ });
      return final;
    }
    const file = `${tmp}.archive`;
    fs.writeFileSync(file, data, { mode: 0o600 });
    try {
      fs.mkdirSync(tmp, { mode: 0o755 });
      const isZip = data[0] === 0x50 && data[1] === 0x4b;
      const what = { link, maxBytes: this.maxUnpackedBytes };
      if (isZip) {
        checkNames((await run('unzip', ['-Z1', file])).split('\n').filter(Boolean), what);
        checkListing(parseZipListing(await run('unzip', ['-Z', '-l', file])), what);
        await run('unzip', ['-q', file, '-d', tmp]);
      } else {
        checkNames((await run('tar', ['-tzf', file])).split('\n').filter(Boolean), what);
        checkListing(parseTarListing(await run('tar', ['-tvzf', file, '--numeric-owner'])), what);
        await run('tar', ['-xzf', file, '-C', tmp, '--no-same-owner', '--no-same-permissions']);
      }
      checkUnpacked(tmp, what);
      this.admit(appId, link, treeBytes(tmp));
      fs.renameSync(tmp, final);
      this.cache.set(final, { bytes: treeBytes(final), apps: new Set([appId]), used: this.tick++ });
      return final;
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw e;
    } finally {
      fs.rmSync(file, { force: true });
    }
  }
}
