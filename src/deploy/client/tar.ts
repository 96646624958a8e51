/**
 * A gzipped POSIX ustar archive of in-memory files, for shipping a bundled app (staging.ts). Written
 * here rather than spawning `tar` over a temporary directory: the bundle already lives in memory
 * (esbuild write: false), and writing it out, running tar and reading the archive back cost the submit
 * ~60 ms of a blocked main thread. Regular files only (extractors create parent directories); every
 * entry has mtime 0, uid/gid 0 and mode 0644, so the same app gives the same bytes (and the same sha256,
 * which lets a NodeManager reuse its localized copy).
 *
 * Owns: the archive format. Must not: touch the file system.
 */
import { gzipSync } from 'node:zlib';
import { CinderError } from '../../common/errors.js';

export interface TarFile {
  /** relative path with '/' separators */
  path: string;
  data: Uint8Array;
}

const BLOCK = 512;

function octal(buf: Buffer, at: number, width: number, value: number): void {
  // width-1 octal digits, zero-padded, then NUL
  buf.write(`${value.toString(8).padStart(width - 1, '0')}\0`, at, width, 'ascii');
}

/** Splits a path into ustar's prefix (<= 155 bytes) and name (<= 100 bytes) at a '/'. */
function splitName(p: string): { prefix: string; name: string } {
  if (Buffer.byteLength(p) <= 100) return { prefix: '', name: p };
  for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) {
    const prefix = p.slice(0, i);
    const name = p.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name) return { prefix, name };
  }
  throw new CinderError(
    'PATH_TOO_LONG',
    `cannot archive '${p}': a path must split into a directory part of at most 155 bytes and a name of at most 100`,
    'shorten the file or directory names of the application',
  );
}

function header(file: TarFile): Buffer {
  const p = file.path;
  if (!p || p.startsWith('/') || p.split('/').some((s) => s === '..' || s === ''))
    throw new CinderError('BAD_ARGUMENT', `cannot archive '${p}': entries must be relative paths without '..'`);
  const { prefix, name } = splitName(p);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, file.data.length);
  octal(h, 136, 12, 0);
  h.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  h.write('0', 156, 1, 'ascii'); // regular file
  h.write('ustar\u000000', 257, 8, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i]!;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return h;
}

/** The files as one .tar.gz. */
export function tarGz(files: TarFile[]): Buffer {
  const parts: Uint8Array[] = [];
  for (const f of files) {
    parts.push(header(f), f.data);
    const pad = (BLOCK - (f.data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(2 * BLOCK)); // end of archive
  return gzipSync(Buffer.concat(parts));
}
