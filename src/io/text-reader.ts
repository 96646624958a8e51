/**
 * Executor-side text reading. Owns turning a TextSplit into batches of lines (Hadoop LineRecordReader semantics)
 * and a WholeFilesSplit into batches of (path, content). It must not plan splits or list directories.
 *
 * Line ownership: a line belongs to the split containing its first byte. A split with start > 0 therefore skips
 * everything up to and including the first `\n` at or after start-1; a line starting before `end` is read to its
 * end, even past `end`. Lines end with `\n` or `\r\n` (both stripped); a final line without a newline counts if
 * non-empty. Decoding is per complete line (UTF-8 never has a 0x0A byte inside a multi-byte character), so
 * chunk boundaries cannot break characters. Reads use 1 MiB buffers, decoded in pieces of <= 64 KiB; lines
 * leave as arrays, never one by one.
 */
import { isAscii } from 'node:buffer';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { CinderError } from '../common/errors.js';
import { isGzip, type TextSplit, type WholeFilesSplit } from './splits.js';

export const READ_BUFFER_SIZE = 1024 * 1024;
export const DEFAULT_BATCH_LINES = 4096;
const NL = 0x0a;
const SMALL_SPLIT_SLACK = 16 * 1024;
const gunzip = promisify(zlib.gunzip);

function stripCr(s: string): string {
  return s.charCodeAt(s.length - 1) === 13 ? s.slice(0, -1) : s;
}

/**
 * Bytes decoded into one string at a time. Strings and line arrays of this size stay in V8's young
 * generation; a 1 MiB string (and its ~75k-element split array) would go to large-object space, which
 * takes fresh pages from the OS for every read (measured: ~2/3 of a groupby task's page faults).
 */
const DECODE_PIECE = 64 * 1024;

/** Cuts a byte stream into lines; bytes of an unfinished line are carried (copied) to the next feed. */
class LineCutter {
  /** arrays of complete lines, oldest first; lines of queue[0] before `head` were already taken */
  private queue: string[][] = [];
  private head = 0;
  private count = 0;
  private carry: Buffer[] = [];
  private carryLen = 0;

  /** Complete lines not taken yet. */
  get available(): number {
    return this.count;
  }

  private pushLines(lines: string[]): void {
    if (lines.length === 0) return;
    this.queue.push(lines);
    this.count += lines.length;
  }

  /** Consumes buf[a, b). */
  feed(buf: Buffer, a: number, b: number): void {
    if (a >= b) return;
    const nl = buf.indexOf(NL, a);
    if (nl === -1 || nl >= b) {
      this.keep(buf, a, b);
      return;
    }
    if (this.carryLen > 0) {
      this.carry.push(buf.subarray(a, nl));
      this.pushLines([stripCr(Buffer.concat(this.carry).toString('utf8'))]);
      this.carry = [];
      this.carryLen = 0;
      a = nl + 1;
    }
    const last = buf.lastIndexOf(NL, b - 1);
    while (a <= last) {
      // cut at the last newline of the next piece (or the first newline after it, for a longer line)
      let cut = last;
      if (last - a > DECODE_PIECE) {
        cut = buf.lastIndexOf(NL, a + DECODE_PIECE);
        if (cut < a) cut = buf.indexOf(NL, a + DECODE_PIECE);
      }
      // ASCII (checked with SIMD) decodes as latin1, a plain copy: ~2x faster than the UTF-8 decoder
      const parts = (
        isAscii(buf.subarray(a, cut)) ? buf.toString('latin1', a, cut) : buf.toString('utf8', a, cut)
      ).split('\n');
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!;
        if (p.charCodeAt(p.length - 1) === 13) parts[i] = p.slice(0, -1);
      }
      this.pushLines(parts);
      a = cut + 1;
    }
    if (a < b) this.keep(buf, a, b);
  }

  /** End of input: an unterminated, non-empty last line counts. */
  finish(): void {
    if (this.carryLen > 0) this.pushLines([stripCr(Buffer.concat(this.carry).toString('utf8'))]);
    this.carry = [];
    this.carryLen = 0;
  }

  /** Removes and returns up to n complete lines (slices of the queued arrays: no shifting of the rest). */
  take(n: number): string[] {
    const q = this.queue[0];
    if (q === undefined) return [];
    const avail = q.length - this.head;
    if (avail >= n) {
      const out = this.head === 0 && avail === n ? q : q.slice(this.head, this.head + n);
      this.head += n;
      this.count -= n;
      if (this.head === q.length) this.dropFirst();
      return out;
    }
    const out = this.head === 0 ? q : q.slice(this.head);
    this.count -= avail;
    this.dropFirst();
    // top up from the next arrays, so batches stay near n lines
    while (out.length < n && this.queue.length > 0) {
      const next = this.queue[0]!;
      const end = Math.min(next.length, this.head + n - out.length);
      for (let i = this.head; i < end; i++) out.push(next[i]!);
      this.count -= end - this.head;
      this.head = end;
      if (end === next.length) this.dropFirst();
    }
    return out;
  }

  private dropFirst(): void {
    this.queue.shift();
    this.head = 0;
  }

  private keep(buf: Buffer, a: number, b: number): void {
    this.carry.push(Buffer.from(buf.subarray(a, b)));
    this.carryLen += b - a;
  }
}

/**
 * Reads the lines of one split, in order, as arrays of at most `batchLines` lines.
 * @example for await (const lines of readTextSplit(split)) for (const l of lines) count++;
 */
export async function* readTextSplit(split: TextSplit, batchLines = DEFAULT_BATCH_LINES): AsyncIterable<string[]> {
  const n = Math.max(1, Math.floor(batchLines));
  if (split.end <= split.start) return;
  if (split.gzip || isGzip(split.file)) {
    if (split.start !== 0) {
      throw new CinderError(
        'BAD_SPLIT',
        `gzip file ${split.file} cannot be read from byte ${split.start}`,
        'gzip input is not splittable; plan it as one split with planTextSplits',
      );
    }
    yield* readGzipLines(split.file, n);
    return;
  }
  yield* readPlainLines(split, n);
}

async function* readPlainLines(split: TextSplit, n: number): AsyncIterable<string[]> {
  const fh = await openInput(split.file);
  try {
    // a split smaller than the buffer gets a buffer just big enough (+ slack for its last line); 1 MiB otherwise
    const span = split.end - split.start + 1;
    const buf = Buffer.allocUnsafe(Math.min(span + SMALL_SPLIT_SLACK, READ_BUFFER_SIZE));
    const cut = new LineCutter();
    let pos = split.start === 0 ? 0 : split.start - 1; // absolute offset of buf[0] for the next read
    let skipping = split.start !== 0; // still looking for the newline that ends the previous split's last line
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      let a = 0;
      if (skipping) {
        const nl = buf.indexOf(NL, 0);
        if (nl === -1 || nl >= bytesRead) {
          pos += bytesRead;
          continue;
        }
        skipping = false;
        a = nl + 1;
        if (pos + a >= split.end) break; // the first line we own would start at/after end: it is the next split's
      }
      // our last line is the one containing byte end-1 (or starting after it): it ends at the first \n >= end-1
      const searchFrom = Math.max(a, split.end - 1 - pos);
      const stop = searchFrom < bytesRead ? buf.indexOf(NL, searchFrom) : -1;
      if (stop !== -1 && stop < bytesRead) {
        cut.feed(buf, a, stop + 1);
        break;
      }
      cut.feed(buf, a, bytesRead);
      pos += bytesRead;
      while (cut.available >= n) yield cut.take(n);
    }
    if (!skipping) cut.finish();
    while (cut.available > 0) yield cut.take(n);
  } finally {
    await fh.close();
  }
}

async function* readGzipLines(file: string, n: number): AsyncIterable<string[]> {
  await (await openInput(file)).close(); // clear error for a missing file before streaming
  const src = fs.createReadStream(file, { highWaterMark: READ_BUFFER_SIZE });
  const gz = zlib.createGunzip({ chunkSize: READ_BUFFER_SIZE });
  src.on('error', (e) => gz.destroy(e));
  src.pipe(gz);
  const cut = new LineCutter();
  try {
    for await (const chunk of gz as AsyncIterable<Buffer>) {
      cut.feed(chunk, 0, chunk.length);
      while (cut.available >= n) yield cut.take(n);
    }
  } catch (e) {
    throw new CinderError('BAD_GZIP', `Cannot decompress ${file}: ${(e as Error).message}`, 'check the file is gzip');
  } finally {
    src.destroy();
    gz.destroy();
  }
  cut.finish();
  while (cut.available > 0) yield cut.take(n);
}

async function openInput(file: string): Promise<fsp.FileHandle> {
  try {
    return await fsp.open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CinderError(
        'INPUT_NOT_FOUND',
        `Input file disappeared or is not visible on this node: ${file}`,
        'input must stay in place until the job ends and be on a file system shared by all nodes',
      );
    }
    throw e;
  }
}

/** Bytes of whole-file records gathered into one batch before it is yielded. */
const WHOLE_FILES_BATCH_BYTES = 8 * 1024 * 1024;

/**
 * Reads every file of the split as one (absolute path, UTF-8 content) record; `.gz` files are decompressed.
 * Small files are grouped into one batch (up to ~8 MiB); a big file is a batch of its own.
 * @example for await (const batch of readWholeFiles({ files: ['/a.txt'] })) console.log(batch[0]?.[1]);
 */
export async function* readWholeFiles(split: WholeFilesSplit): AsyncIterable<[string, string][]> {
  let batch: [string, string][] = [];
  let bytes = 0;
  for (const file of split.files) {
    const fh = await openInput(file);
    let raw: Buffer;
    try {
      raw = await fh.readFile();
    } finally {
      await fh.close();
    }
    if (isGzip(file)) {
      try {
        raw = await gunzip(raw);
      } catch (e) {
        throw new CinderError(
          'BAD_GZIP',
          `Cannot decompress ${file}: ${(e as Error).message}`,
          'check the file is gzip',
        );
      }
    }
    batch.push([file, raw.toString('utf8')]);
    bytes += raw.length;
    if (bytes >= WHOLE_FILES_BATCH_BYTES) {
      yield batch;
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length > 0) yield batch;
}
