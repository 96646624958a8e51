/**
 * Per-node resource cache for localization: each staged resource is downloaded once per node (by
 * sha256, concurrent requests share one download), verified against its hash, and archives are
 * unpacked once (system tar / unzip, argv only, entries escaping the directory refused). Containers
 * get symlinks into the cache. It must not launch processes other than tar/unzip.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CinderError } from '../../common/errors.js';
import type { LocalResource } from '../../protocol/cluster.js';
import { checkPlainName } from '../common/safe-path.js';

export type Fetch = (appId: string, sha256: string) => Promise<Uint8Array>;

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
        : reject(new CinderError('ARCHIVE', `${cmd} ${args[0]} failed (exit ${code}): ${err.trim()}`)),
    );
  });
}

function checkEntries(entries: string[], what: string): void {
  for (const e of entries) {
    const n = path.posix.normalize(e);
    if (e.startsWith('/') || n === '..' || n.startsWith('../'))
      throw new CinderError(
        'ARCHIVE_ESCAPE',
        `archive ${what} has an entry escaping its directory: ${JSON.stringify(e)}`,
        'rebuild the archive with relative paths only',
      );
  }
}

export class Localizer {
  private readonly inflight = new Map<string, Promise<string>>();
  /** downloads actually performed (cache misses), observable by tests */
  downloads = 0;
  hits = 0;

  constructor(
    private readonly cacheDir: string,
    private readonly fetch: Fetch,
  ) {
    fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  }

  /** Localizes every resource into containerDir as symlinks named by their link names. */
  async localize(appId: string, containerDir: string, resources: Record<string, LocalResource>): Promise<void> {
    await Promise.all(
      Object.entries(resources).map(async ([link, r]) => {
        checkPlainName(link, 'local resource link');
        const target = await this.get(appId, link, r);
        fs.symlinkSync(target, path.join(containerDir, link));
      }),
    );
  }

  private get(appId: string, link: string, r: LocalResource): Promise<string> {
    const key = `${r.sha256}:${r.type}`;
    const final = path.join(this.cacheDir, r.type === 'ARCHIVE' ? `${r.sha256}.d` : r.sha256);
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
      if (isZip) {
        checkEntries((await run('unzip', ['-Z1', file])).split('\n').filter(Boolean), link);
        await run('unzip', ['-q', file, '-d', tmp]);
      } else {
        checkEntries((await run('tar', ['-tzf', file])).split('\n').filter(Boolean), link);
        await run('tar', ['-xzf', file, '-C', tmp, '--no-same-owner']);
      }
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
