/**
 * Per-node resource cache for localization: each staged resource is downloaded once per node (by
 * sha256, concurrent requests share one download), verified against its hash, and archives are
 * unpacked once (system tar / unzip, argv only) after their listing is checked (archive-check.ts:
 * no escaping names, no hard links or special files, declared size under maxUnpackedBytes) and, once
 * unpacked, walked (symlinks must stay inside, real size under the cap, modes made read-only for others).
 * The cache dir is private to the NM; a container gets its own copy of the tree it needs in its dir
 * (directories made, files hard-linked, so a container reads only its own resources and an evicted entry
 * does not break it). An entry is evicted when the last app that used it is cleaned up. It must not
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
  /** cache entry (its final path) -> apps that localized it and have not been cleaned up */
  private readonly users = new Map<string, Set<string>>();
  /** downloads actually performed (cache misses), observable by tests */
  downloads = 0;
  hits = 0;

  constructor(
    private readonly cacheDir: string,
    private readonly fetch: Fetch,
    private readonly maxUnpackedBytes = DEFAULT_MAX_UNPACKED_BYTES,
  ) {
    fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(cacheDir, 0o700);
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

  /** The app was cleaned up: entries no other app uses are deleted. Returns how many. */
  release(appId: string): number {
    let n = 0;
    for (const [entry, apps] of this.users) {
      if (!apps.delete(appId) || apps.size > 0) continue;
      this.users.delete(entry);
      if ([...this.inflight.keys()].some((k) => k.startsWith(path.basename(entry).replace(/\.d$/, '')))) continue;
      fs.rmSync(entry, { recursive: true, force: true });
      n++;
    }
    return n;
  }

  /** Entries in the cache dir (tests). */
  entries(): string[] {
    return fs.readdirSync(this.cacheDir);
  }

  private get(appId: string, link: string, r: LocalResource): Promise<string> {
    const key = `${r.sha256}:${r.type}`;
    const final = path.join(this.cacheDir, r.type === 'ARCHIVE' ? `${r.sha256}.d` : r.sha256);
    let apps = this.users.get(final);
    if (!apps) this.users.set(final, (apps = new Set()));
    apps.add(appId);
    if (fs.existsSync(final)) {
      this.hits++;
      return Promise.resolve(final);
    }
    let p = this.inflight.get(key);
    if (p) {
      this.hits++;
      return p;
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
    if (r.type === 'FILE') {
      fs.writeFileSync(tmp, data, { mode: 0o644 });
      fs.renameSync(tmp, final);
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
      fs.renameSync(tmp, final);
      return final;
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw e;
    } finally {
      fs.rmSync(file, { force: true });
    }
  }
}
