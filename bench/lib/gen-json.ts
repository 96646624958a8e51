/**
 * JSON-lines benchmark data (../shared/bench/gen-data.mjs has no JSON kind): one event object per
 * line, ASCII only, a pure function of (MiB, parts, seed, users), written like gen-data's kinds as
 * part-00000... files plus _meta.json (bytes, lines). Each line is about 190 bytes:
 *   {"ts":1733356800123,"user":"u0012345","event":"view","page":"/p/1234","amount":1234,
 *    "ua":"Mozilla/5.0 (X11; Linux x86_64) cinder-bench/3","tags":["a7","b2"],"ok":true}
 * `user` takes `users` distinct values (Zipf-free, uniform), `event` one of 5, `amount` an integer in
 * [0, 99999] (integer sums, so any order of adding gives the same answer).
 *
 * Owns: JSON data generation. Must not: time anything.
 */
import fs from 'node:fs';
import path from 'node:path';

const MIB = 1 << 20;
const EVENTS = ['view', 'click', 'purchase', 'search', 'logout'];

/** sfc32 (Small Fast Counting PRNG), 32-bit unsigned output. */
function rng(seed: number, stream: number): () => number {
  let a = 0x9e3779b9 ^ seed;
  let b = (0x243f6a88 + stream * 0x85ebca6b) | 0;
  let c = 0xb7e15162 ^ (seed * 31 + stream);
  let d = (seed + stream) | 0;
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 32; i++) next();
  return next;
}

export interface JsonGenOptions {
  mb: number;
  parts: number;
  seed: number;
  users: number;
}

/** Writes the data set into dir (replacing it); returns its byte and line counts (also in _meta.json). */
export function generateJsonLines(dir: string, o: JsonGenOptions): { bytes: number; lines: number } {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const perPart = Math.ceil(Math.round(o.mb * MIB) / o.parts);
  let bytes = 0;
  let lines = 0;
  for (let part = 0; part < o.parts; part++) {
    const r = rng(o.seed, part);
    const buf = Buffer.allocUnsafe(4 * MIB);
    const fd = fs.openSync(path.join(dir, `part-${String(part).padStart(5, '0')}`), 'w');
    let pos = 0;
    let written = 0;
    while (written + pos < perPart) {
      if (pos + 512 > buf.length) {
        fs.writeSync(fd, buf, 0, pos);
        written += pos;
        pos = 0;
      }
      const rec = {
        ts: 1733356800000 + lines * 37 + (r() % 1000),
        user: `u${String(r() % o.users).padStart(7, '0')}`,
        event: EVENTS[r() % EVENTS.length],
        page: `/p/${r() % 10000}`,
        amount: r() % 100000,
        ua: `Mozilla/5.0 (X11; Linux x86_64) cinder-bench/${r() % 10}`,
        tags: [`a${r() % 10}`, `b${r() % 10}`],
        ok: r() % 4 !== 0,
      };
      pos += buf.write(`${JSON.stringify(rec)}\n`, pos, 'latin1');
      lines++;
    }
    fs.writeSync(fd, buf, 0, pos);
    written += pos;
    fs.closeSync(fd);
    bytes += written;
  }
  const meta = { kind: 'json', mb: o.mb, parts: o.parts, seed: o.seed, users: o.users, bytes, lines };
  fs.writeFileSync(path.join(dir, '_meta.json'), `${JSON.stringify(meta, null, 1)}\n`);
  return { bytes, lines };
}
