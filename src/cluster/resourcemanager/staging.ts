/**
 * The RM's staging store for application files: content-addressed blobs (sha256) under
 * <dir>/blobs, each checked on upload (against the client's hash) and on every download (so a file
 * changed after submit fails localization), size-limited per file and per app, and garbage-collected
 * when no live app refers to it any more. Large files arrive in chunks (UploadFile offset/size): the
 * declared size is checked against both limits before any byte is kept, the bytes go to a file under
 * <dir>/partial (never all in memory), and an upload left unfinished for partialExpiryMs is dropped.
 * It must not know about app states.
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

/** The largest chunk of one UploadFile message. */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;

interface Partial {
  appId: string;
  name: string;
  size: number;
  sha256: string | undefined;
  file: string;
  received: number;
  hash: ReturnType<typeof createHash>;
  touched: number;
}

export class StagingStore {
  private readonly blobs: string;
  private readonly partialDir: string;
  private readonly partials = new Map<string, Partial>();
  constructor(
    dir: string,
    private readonly maxFileBytes: number,
    private readonly maxAppBytes: number,
    private readonly partialExpiryMs = 600_000,
  ) {
    this.blobs = path.join(dir, 'blobs');
    this.partialDir = path.join(dir, 'partial');
    fs.mkdirSync(this.blobs, { recursive: true, mode: 0o700 });
    fs.rmSync(this.partialDir, { recursive: true, force: true });
    fs.mkdirSync(this.partialDir, { recursive: true, mode: 0o700 });
  }

  /** Declared bytes of the app's unfinished uploads (they count against its quota). */
  private reserved(appId: string, except?: string): number {
    let n = 0;
    for (const [k, p] of this.partials) if (p.appId === appId && k !== except) n += p.size;
    return n;
  }

  private checkSize(name: string, size: number, appBytes: number): void {
    if (size > this.maxFileBytes)
      throw new CinderError(
        'STAGING_TOO_LARGE',
        `staged file ${name} is ${size} bytes, over the limit of ${this.maxFileBytes} bytes (stagingMaxFileBytes)`,
        'ship less (or ask the operator to raise stagingMaxFileBytes)',
      );
    if (appBytes + size > this.maxAppBytes)
      throw new CinderError(
        'STAGING_TOO_LARGE',
        `staging ${name} (${size} bytes) would bring the app to ${appBytes + size} bytes, over the limit of ${this.maxAppBytes} (stagingMaxAppBytes)`,
        'ship less (or ask the operator to raise stagingMaxAppBytes)',
      );
  }

  private drop(key: string): void {
    const p = this.partials.get(key);
    if (!p) return;
    this.partials.delete(key);
    fs.rmSync(p.file, { force: true });
  }

  /** Drops unfinished uploads untouched for partialExpiryMs (or all of an app's, given appId). */
  expirePartials(now: number, appId?: string): void {
    for (const [k, p] of this.partials) if (p.appId === appId || now - p.touched > this.partialExpiryMs) this.drop(k);
  }

  /**
   * One chunk of a file of declared `size` at `offset`; `appBytes` is what the app already staged. The
   * first chunk (offset 0) checks the declared size against both limits before anything is kept. Returns
   * the content address once the last byte arrived, else how many bytes are in.
   */
  receive(
    appId: string,
    name: string,
    chunk: { size: number; offset: number; data: Uint8Array; sha256?: string | undefined },
    appBytes: number,
    now: number,
  ): { file: StagedFile } | { received: number } {
    checkPlainName(name, 'staged file');
    const key = `${appId}/${name}`;
    this.expirePartials(now);
    if (chunk.data.length > MAX_CHUNK_BYTES)
      throw new CinderError(
        'STAGING_CHUNK_TOO_LARGE',
        `an UploadFile chunk carries at most ${MAX_CHUNK_BYTES} bytes; got ${chunk.data.length}`,
      );
    let p = this.partials.get(key);
    if (chunk.offset === 0 && (!p || p.received > 0 || p.size !== chunk.size)) {
      this.drop(key);
      this.checkSize(name, chunk.size, appBytes + this.reserved(appId, key));
      p = {
        appId,
        name,
        size: chunk.size,
        sha256: chunk.sha256,
        file: path.join(this.partialDir, `${createHash('sha256').update(key).digest('hex')}.part`),
        received: 0,
        hash: createHash('sha256'),
        touched: now,
      };
      fs.writeFileSync(p.file, '', { mode: 0o600 });
      this.partials.set(key, p);
    }
    if (!p || p.size !== chunk.size)
      throw new CinderError(
        'STAGING_NOT_STARTED',
        `no upload of ${name} for ${appId} is in progress at offset ${chunk.offset} (it expired or never began)`,
        'upload the file again from the start',
      );
    p.touched = now;
    // a chunk sent again after a lost answer is acknowledged, not appended twice
    if (chunk.offset + chunk.data.length <= p.received && chunk.offset < p.received) return { received: p.received };
    if (chunk.offset !== p.received || p.received + chunk.data.length > p.size) {
      this.drop(key);
      throw new CinderError(
        'STAGING_OUT_OF_ORDER',
        `upload of ${name}: chunk at ${chunk.offset} (+${chunk.data.length}) does not follow the ${p.received} bytes received of ${p.size} declared`,
        'upload the file again from the start',
      );
    }
    fs.appendFileSync(p.file, chunk.data);
    p.hash.update(chunk.data);
    p.received += chunk.data.length;
    if (p.received < p.size) return { received: p.received };
    this.partials.delete(key);
    const sha256 = p.hash.digest('hex');
    try {
      if (p.sha256 && p.sha256 !== sha256)
        throw new CinderError(
          'STAGING_CORRUPT',
          `staged file ${name} arrived with sha256 ${sha256}, but the client sent ${p.sha256}`,
          'upload it again',
        );
      const blob = path.join(this.blobs, sha256);
      if (!fs.existsSync(blob)) fs.renameSync(p.file, blob);
      return { file: { sha256, size: p.size } };
    } finally {
      fs.rmSync(p.file, { force: true });
    }
  }

  /** Stores bytes for name; `appBytes` is what the app already staged. Returns the content address. */
  put(name: string, data: Uint8Array, appBytes: number, expectedSha?: string): StagedFile {
    checkPlainName(name, 'staged file');
    this.checkSize(name, data.length, appBytes);
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
