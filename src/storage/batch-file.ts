/**
 * The on-disk form of record batches, shared by shuffle files, spill runs and cached blocks:
 * a sequence of frames `[u32 little-endian length][batch body]` (body: src/storage/record-codec.ts).
 * Owns only encoding, big buffered writes (>= 1 MiB per syscall) and buffered sequential reads of a byte
 * range. It knows nothing about partitions, keys or file naming.
 */
import fs from 'node:fs/promises';
import { CinderError } from '../common/errors.js';
import { decodeBatch, encodeBatch } from './record-codec.js';

export const WRITE_BUFFER_BYTES = 1 << 20;
export const READ_BUFFER_BYTES = 1 << 20;
/** Target encoded size of one batch. */
export const BATCH_TARGET_BYTES = 1 << 20;
export const MAX_BATCH_RECORDS = 4096;

/** One framed batch: length prefix + msgpack body. */
export function encodeFramed(records: readonly unknown[]): Buffer {
  const body = encodeBatch(records);
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32LE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/** Decodes every framed batch of an in-memory byte range (a fetched shuffle block). */
export function* parseFramed(buf: Uint8Array, what = 'block'): Generator<unknown[]> {
  for (const body of framedBodies(buf, what)) yield decodeBatch(body);
}

/** The undecoded batch bodies of an in-memory byte range (views of it). */
export function* framedBodies(buf: Uint8Array, what = 'block'): Generator<Buffer> {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off < b.length) {
    if (off + 4 > b.length) throw corrupt(what, off);
    const len = b.readUInt32LE(off);
    if (off + 4 + len > b.length) throw corrupt(what, off);
    yield b.subarray(off + 4, off + 4 + len);
    off += 4 + len;
  }
}

function corrupt(what: string, off: number): CinderError {
  return new CinderError(
    'CORRUPT_BLOCK',
    `${what} is truncated or corrupt at byte ${off}`,
    'the file was probably damaged or written by a crashed task; recompute it',
  );
}

/**
 * Picks batch sizes so that each encoded batch is about BATCH_TARGET_BYTES (at most MAX_BATCH_RECORDS
 * records), learning bytes-per-record from the batches already encoded.
 */
export class BatchSizer {
  /** small until the first batch is measured: a first batch of 1024 big records could be 100s of MB */
  records = 32;
  observe(count: number, bytes: number): void {
    if (count === 0) return;
    const per = Math.max(1, bytes / count);
    this.records = Math.max(1, Math.min(MAX_BATCH_RECORDS, Math.floor(BATCH_TARGET_BYTES / per)));
  }
}

/** Appends frames to a file with big writes. */
export class BatchFileWriter {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** bytes written so far, including buffered ones */
  position = 0;
  readonly sizer = new BatchSizer();

  private constructor(
    readonly path: string,
    private readonly fh: fs.FileHandle,
  ) {}

  static async create(path: string): Promise<BatchFileWriter> {
    return new BatchFileWriter(path, await fs.open(path, 'w'));
  }

  /** Encodes and appends records as one or more batches. */
  async writeRecords(records: readonly unknown[]): Promise<void> {
    let i = 0;
    while (i < records.length) {
      const n = Math.min(this.sizer.records, records.length - i);
      const slice = i === 0 && n === records.length ? records : records.slice(i, i + n);
      const f = encodeFramed(slice);
      this.sizer.observe(n, f.length);
      await this.writeRaw(f);
      i += n;
    }
  }

  /** Appends bytes that are already framed batches. */
  async writeRaw(buf: Uint8Array): Promise<void> {
    if (buf.length === 0) return;
    this.chunks.push(buf);
    this.buffered += buf.length;
    this.position += buf.length;
    if (this.buffered >= WRITE_BUFFER_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buffered === 0) return;
    const chunks = this.chunks;
    this.chunks = [];
    this.buffered = 0;
    // writev may write partially; loop until everything is on disk
    let pending: Uint8Array[] = chunks;
    while (pending.length > 0) {
      const { bytesWritten } = await this.fh.writev(pending);
      let left = bytesWritten;
      const rest: Uint8Array[] = [];
      for (const c of pending) {
        if (left >= c.length) left -= c.length;
        else {
          rest.push(left > 0 ? c.subarray(left) : c);
          left = 0;
        }
      }
      pending = rest;
    }
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.fh.close();
    }
  }

  /** Closes and deletes the file (error paths). */
  async abort(): Promise<void> {
    this.chunks = [];
    this.buffered = 0;
    await this.fh.close().catch(() => {});
    await fs.rm(this.path, { force: true });
  }
}

/** Reads frames of a byte range [start, end) of a file sequentially with >= 1 MiB reads. */
export class BatchFileReader {
  private buf: Buffer = Buffer.alloc(0);
  private off = 0;
  private filePos: number;
  private closed = false;

  private constructor(
    private readonly fh: fs.FileHandle,
    start: number,
    private readonly end: number,
    private readonly what: string,
  ) {
    this.filePos = start;
  }

  static async open(path: string, start = 0, end?: number): Promise<BatchFileReader> {
    const fh = await fs.open(path, 'r');
    try {
      const stop = end ?? (await fh.stat()).size;
      return new BatchFileReader(fh, start, stop, path);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** The next batch, or undefined at the end of the range (the file is then closed). */
  async next(): Promise<unknown[] | undefined> {
    const body = await this.nextBody();
    return body === undefined ? undefined : decodeBatch(body);
  }

  /** The next batch's undecoded body (valid until the next call), or undefined at the end. */
  async nextBody(): Promise<Buffer | undefined> {
    if (this.closed) return undefined;
    if (!(await this.fill(4))) {
      if (this.buf.length - this.off !== 0) throw corrupt(this.what, this.filePos);
      await this.close();
      return undefined;
    }
    const len = this.buf.readUInt32LE(this.off);
    if (!(await this.fill(4 + len))) throw corrupt(this.what, this.filePos);
    const body = this.buf.subarray(this.off + 4, this.off + 4 + len);
    this.off += 4 + len;
    return body;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }

  private async fill(need: number): Promise<boolean> {
    const have = this.buf.length - this.off;
    if (have >= need) return true;
    const remaining = this.end - this.filePos;
    if (have + remaining < need) return false;
    const toRead = Math.min(remaining, Math.max(need - have, READ_BUFFER_BYTES));
    const nb = Buffer.allocUnsafe(have + toRead);
    this.buf.copy(nb, 0, this.off);
    let got = 0;
    while (got < toRead) {
      const { bytesRead } = await this.fh.read(nb, have + got, toRead - got, this.filePos + got);
      if (bytesRead === 0) throw corrupt(this.what, this.filePos + got);
      got += bytesRead;
    }
    this.filePos += toRead;
    this.buf = nb;
    this.off = 0;
    return true;
  }
}

/** All batches of a byte range of a file; the file is closed even if the consumer stops early. */
export async function* readBatches(path: string, start = 0, end?: number): AsyncGenerator<unknown[]> {
  const r = await BatchFileReader.open(path, start, end);
  try {
    for (;;) {
      const b = await r.next();
      if (b === undefined) return;
      yield b;
    }
  } finally {
    await r.close();
  }
}
