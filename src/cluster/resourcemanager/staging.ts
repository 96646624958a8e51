/**
 * The RM's staging store for application files: content-addressed blobs (sha256) under
 * <dir>/blobs, each checked on upload (against the client's hash) and on every download (so a file
 * changed after submit fails localization), size-limited per file and per app, and garbage-collected
 * when no live app refers to it any more. It must not know about app states.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CinderError } from '../../common/errors.js';
import { checkPlainName } from '../common/safe-path.js';

export interface StagedFile {
  sha256: string;
  size: number;
}

export class StagingStore {
  private readonly blobs: string;
  constructor(
    dir: string,
    private readonly maxFileBytes: number,
    private readonly maxAppBytes: number,
  ) {
    this.blobs = path.join(dir, 'blobs');
    fs.mkdirSync(this.blobs, { recursive: true, mode: 0o700 });
  }

  /** Stores bytes for name; `appBytes` is what the app already staged. Returns the content address. */
  put(name: string, data: Uint8Array, appBytes: number, expectedSha?: string): StagedFile {
    checkPlainName(name, 'staged file');
    if (data.length > this.maxFileBytes)
      throw new CinderError(
        'STAGING_TOO_LARGE',
        `staged file ${name} is ${data.length} bytes, over the limit of ${this.maxFileBytes} bytes (stagingMaxFileBytes)`,
      );
    if (appBytes + data.length > this.maxAppBytes)
      throw new CinderError(
        'STAGING_TOO_LARGE',
        `staging ${name} would bring the app to ${appBytes + data.length} bytes, over the limit of ${this.maxAppBytes} (stagingMaxAppBytes)`,
      );
    const sha256 = createHash('sha256').update(data).digest('hex');
    if (expectedSha && expectedSha !== sha256)
      throw new CinderError(
        'STAGING_CORRUPT',
        `staged file ${name} arrived with sha256 ${sha256}, but the client sent ${expectedSha}`,
        'upload it again',
      );
    const p = path.join(this.blobs, sha256);
    if (!fs.existsSync(p)) {
      const tmp = `${p}.${process.pid}.${Date.now()}.tmp`;
      fs.writeFileSync(tmp, data, { mode: 0o600 });
      fs.renameSync(tmp, p);
    }
    return { sha256, size: data.length };
  }

  /** Reads a blob and verifies its hash; a changed or missing blob is a clear error. */
  get(sha256: string): Buffer {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new CinderError('BAD_FILE_NAME', `not a sha256: ${sha256}`);
    let data: Buffer;
    try {
      data = fs.readFileSync(path.join(this.blobs, sha256));
    } catch {
      throw new CinderError(
        'STAGING_MISSING',
        `staged resource ${sha256} is not in the staging store (app ended or never uploaded)`,
      );
    }
    const got = createHash('sha256').update(data).digest('hex');
    if (got !== sha256)
      throw new CinderError(
        'STAGING_CHANGED',
        `staged resource ${sha256} changed on the staging store after it was uploaded (now ${got})`,
        'resubmit the application so the file is staged again',
      );
    return data;
  }

  /** Deletes every blob not in `live`. */
  gc(live: Set<string>): number {
    let n = 0;
    for (const f of fs.readdirSync(this.blobs)) {
      if (!live.has(f)) {
        fs.rmSync(path.join(this.blobs, f), { force: true });
        n++;
      }
    }
    return n;
  }

  has(sha256: string): boolean {
    return fs.existsSync(path.join(this.blobs, sha256));
  }
}
