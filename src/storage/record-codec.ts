/**
 * The body codec of one record batch. Batches of key/value pairs whose keys are all strings or all
 * numbers, and likewise their values (wordcount's [word, 1], parsed [key, value] rows, sortBy's
 * [key, line]), are written column by column: one UTF-8 blob per string column with its lengths, and
 * a typed array per number column. That encodes ~2x and decodes ~2.5x faster than msgpack for these
 * shapes (bench/micro/codec.ts); every other batch is msgpack (src/common/serde.ts).
 *
 * Column frame: [0xC1][version 1][key kind][value kind][u32 n][key column][value column], all
 * little-endian; kinds: 'S' string ([u32 blob bytes][u32 UTF-16 length x n][UTF-8 blob]), 's' string
 * whose values are all shorter than 256 UTF-16 units ([u32 blob bytes][u8 length x n][UTF-8 blob]),
 * 'I' int32 (i32 x n), 'D' float64 (f64 x n). 0xC1 is the one byte msgpack never uses, so a reader
 * tells the two formats apart by the first byte.
 * Must not: change a value on the round trip (lone surrogates, -0, NaN fall back or survive exactly).
 */
import { CinderError } from '../common/errors.js';
import { decode, encode } from '../common/serde.js';

const TAG = 0xc1;
const VERSION = 1;
const S = 0x53;
const S8 = 0x73;
const I = 0x49;
const D = 0x44;
/** below this, msgpack's smaller output wins */
const MIN_COLUMNAR = 16;

type Kind = typeof S | typeof S8 | typeof I | typeof D;

/** Whether a string survives UTF-8 (no lone surrogates); String.prototype.isWellFormed, untyped in ES2022. */
export const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

interface Column {
  kind: Kind;
  bytes: number;
  write(out: Buffer, at: number): void;
}

function stringColumn(records: readonly unknown[], idx: 0 | 1): Column | undefined {
  const n = records.length;
  const lens = new Uint32Array(n);
  let joined = '';
  let max = 0;
  for (let i = 0; i < n; i++) {
    const v = (records[i] as unknown[])[idx];
    if (typeof v !== 'string') return undefined;
    joined += v;
    lens[i] = v.length;
    if (v.length > max) max = v.length;
  }
  // lone surrogates would not survive UTF-8: leave such batches to msgpack
  if (!isWellFormed(joined)) return undefined;
  const blob = Buffer.from(joined, 'utf8');
  const lensOut = max < 256 ? Uint8Array.from(lens) : lens;
  const lensBytes = lensOut.byteLength;
  return {
    kind: max < 256 ? S8 : S,
    bytes: 4 + lensBytes + blob.length,
    write(out, at) {
      out.writeUInt32LE(blob.length, at);
      Buffer.from(lensOut.buffer, lensOut.byteOffset, lensBytes).copy(out, at + 4);
      blob.copy(out, at + 4 + lensBytes);
    },
  };
}

function numberColumn(records: readonly unknown[], idx: 0 | 1): Column | undefined {
  const n = records.length;
  let ints = true;
  for (let i = 0; i < n; i++) {
    const v = (records[i] as unknown[])[idx];
    if (typeof v !== 'number') return undefined;
    if (ints && ((v | 0) !== v || Object.is(v, -0))) ints = false;
  }
  const arr = ints ? new Int32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) arr[i] = (records[i] as unknown[])[idx] as number;
  return {
    kind: ints ? I : D,
    bytes: arr.byteLength,
    write(out, at) {
      Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength).copy(out, at);
    },
  };
}

function column(records: readonly unknown[], idx: 0 | 1): Column | undefined {
  const first = (records[0] as unknown[])[idx];
  if (typeof first === 'string') return stringColumn(records, idx);
  if (typeof first === 'number') return numberColumn(records, idx);
  return undefined;
}

function isPairBatch(records: readonly unknown[]): boolean {
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (!Array.isArray(r) || r.length !== 2) return false;
  }
  return true;
}

/** Encodes one batch of records (columnar when the shape allows, else msgpack). */
export function encodeBatch(records: readonly unknown[]): Buffer {
  if (records.length >= MIN_COLUMNAR && isPairBatch(records)) {
    const k = column(records, 0);
    const v = k && column(records, 1);
    if (k && v) {
      const out = Buffer.allocUnsafe(8 + k.bytes + v.bytes);
      out[0] = TAG;
      out[1] = VERSION;
      out[2] = k.kind;
      out[3] = v.kind;
      out.writeUInt32LE(records.length, 4);
      k.write(out, 8);
      v.write(out, 8 + k.bytes);
      return out;
    }
  }
  return encode(records);
}

/** The error for a damaged batch (also raised by readers of the columns, src/shuffle/reduce-table.ts). */
export function corruptBatch(why: string): CinderError {
  return new CinderError('CORRUPT_BLOCK', `record batch is corrupt: ${why}`, 'the data was damaged; recompute it');
}
const corrupt = corruptBatch;

/** Where a string column's parts are: its UTF-16 lengths, and its UTF-8 blob at [blobAt, blobAt + blobLen). */
export interface StringColumnAt {
  lens: Uint8Array | Uint32Array;
  blobAt: number;
  blobLen: number;
}

function stringColumnAt(body: Buffer, at: number, kind: number, n: number): StringColumnAt {
  if (at + 4 > body.length) throw corrupt('string column header past the end');
  const blobLen = body.readUInt32LE(at);
  const width = kind === S8 ? 1 : 4;
  const blobAt = at + 4 + width * n;
  if (blobAt + blobLen > body.length) throw corrupt('string column past the end');
  let lens: Uint8Array | Uint32Array;
  if (width === 1) lens = body.subarray(at + 4, blobAt);
  else {
    lens = new Uint32Array(n);
    Buffer.from(lens.buffer).set(body.subarray(at + 4, blobAt));
  }
  return { lens, blobAt, blobLen };
}

/** Reads one column of n values starting at `at` into index idx of the records; returns the next offset. */
function readColumn(body: Buffer, at: number, kind: number, n: number, out: unknown[][], idx: 0 | 1): number {
  if (kind === S || kind === S8) {
    const { lens, blobAt, blobLen } = stringColumnAt(body, at, kind, n);
    const s = body.toString('utf8', blobAt, blobAt + blobLen);
    let p = 0;
    for (let i = 0; i < n; i++) {
      const e = p + lens[i]!;
      out[i]![idx] = s.slice(p, e);
      p = e;
    }
    if (p !== s.length) throw corrupt('string lengths do not match the text');
    return blobAt + blobLen;
  }
  if (kind !== I && kind !== D) throw corrupt(`unknown column kind ${kind}`);
  const { values, end } = numberColumnAt(body, at, kind, n);
  for (let i = 0; i < n; i++) out[i]![idx] = values[i];
  return end;
}

/** Decodes a batch written by encodeBatch (either format). */
export function decodeBatch(body: Uint8Array): unknown[] {
  if (body[0] !== TAG) return decode<unknown[]>(body);
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (b.length < 8) throw corrupt('header too short');
  if (b[1] !== VERSION) throw corrupt(`column format version ${b[1]} is not ${VERSION}`);
  const n = b.readUInt32LE(4);
  if (n > b.length) throw corrupt('record count larger than the batch');
  const out: unknown[][] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = [undefined, undefined];
  const at = readColumn(b, 8, b[2]!, n, out, 0);
  const end = readColumn(b, at, b[3]!, n, out, 1);
  if (end !== b.length) throw corrupt('trailing bytes');
  return out;
}

/** A column batch of string keys and number values, as views of its body (see stringNumberColumns). */
export interface StringNumberColumns {
  n: number;
  body: Buffer;
  /** UTF-16 length of each key */
  lens: Uint8Array | Uint32Array;
  /** the keys' UTF-8 bytes, back to back, at body[blobAt, blobAt + blobLen) */
  blobAt: number;
  blobLen: number;
  values: Int32Array | Float64Array;
}

/** The header of a column batch with string keys (undefined for any other body); a damaged one is CORRUPT_BLOCK. */
function stringKeyHeader(body: Uint8Array): { b: Buffer; kk: number; vk: number; n: number } | undefined {
  if (body[0] !== TAG || body.length < 8) return undefined;
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (b[1] !== VERSION) throw corrupt(`column format version ${b[1]} is not ${VERSION}`);
  const kk = b[2]!;
  if (kk !== S && kk !== S8) return undefined;
  const n = b.readUInt32LE(4);
  if (n > b.length) throw corrupt('record count larger than the batch');
  return { b, kk, vk: b[3]!, n };
}

/** A number column of n values at `at`, copied into an aligned typed array. */
function numberColumnAt(
  b: Buffer,
  at: number,
  vk: number,
  n: number,
): { values: Int32Array | Float64Array; end: number } {
  const end = at + (vk === I ? 4 : 8) * n;
  if (end > b.length) throw corrupt('number column past the end');
  const values = vk === I ? new Int32Array(n) : new Float64Array(n);
  Buffer.from(values.buffer).set(b.subarray(at, end));
  return { values, end };
}

/**
 * The columns of a batch body when it is a column batch of string keys and number values, without
 * decoding a record (the reduce side's typed-array aggregation reads them); undefined for any other
 * shape. A damaged batch is CORRUPT_BLOCK, as in decodeBatch.
 */
export function stringNumberColumns(body: Uint8Array): StringNumberColumns | undefined {
  const h = stringKeyHeader(body);
  if (h === undefined || (h.vk !== I && h.vk !== D)) return undefined;
  const { b, kk, vk, n } = h;
  const { lens, blobAt, blobLen } = stringColumnAt(b, 8, kk, n);
  const at = blobAt + blobLen;
  const { values, end } = numberColumnAt(b, at, vk, n);
  if (end !== b.length) throw corrupt('trailing bytes');
  return { n, body: b, lens, blobAt, blobLen, values };
}

/** A string column decoded as one string: value i is text[start_i, start_i + lens[i]) with starts summing lens. */
export interface TextColumn {
  text: string;
  lens: Uint8Array | Uint32Array;
  /** every character is one byte (the UTF-8 blob was ASCII), so the text is a one-byte string */
  ascii: boolean;
}

/** A column batch whose keys are strings, with its columns decoded whole (one string or typed array each). */
export interface StringKeyColumns {
  n: number;
  body: Buffer;
  keys: TextColumn;
  values: TextColumn | Int32Array | Float64Array;
}

function textColumnAt(body: Buffer, at: number, kind: number, n: number): { col: TextColumn; end: number } {
  const { lens, blobAt, blobLen } = stringColumnAt(body, at, kind, n);
  const text = body.toString('utf8', blobAt, blobAt + blobLen);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += lens[i]!;
  if (sum !== text.length) throw corrupt('string lengths do not match the text');
  return { col: { text, lens, ascii: text.length === blobLen }, end: blobAt + blobLen };
}

/**
 * The columns of a batch body when it is a column batch with string keys (the reduce side of a sort
 * keeps them so, without a record object per row: src/shuffle/string-key-run.ts); undefined for any
 * other shape. A damaged batch is CORRUPT_BLOCK, as in decodeBatch.
 */
export function stringKeyColumns(body: Uint8Array): StringKeyColumns | undefined {
  const h = stringKeyHeader(body);
  if (h === undefined) return undefined;
  const { b, vk, n } = h;
  const k = textColumnAt(b, 8, h.kk, n);
  let values: TextColumn | Int32Array | Float64Array;
  let end: number;
  if (vk === S || vk === S8) {
    const v = textColumnAt(b, k.end, vk, n);
    values = v.col;
    end = v.end;
  } else if (vk === I || vk === D) {
    ({ values, end } = numberColumnAt(b, k.end, vk, n));
  } else throw corrupt(`unknown column kind ${vk}`);
  if (end !== b.length) throw corrupt('trailing bytes');
  return { n, body: b, keys: k.col, values };
}
