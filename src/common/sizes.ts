/**
 * Memory sizes as configuration writes them (512m, 2g, 1048576). Imports no schema library: `bin/cinder.js`
 * reads `--driver-memory` with it before the CLI loads (src/cli/submit-flags.ts).
 */
import { CinderError } from './errors.js';

/** Parses sizes like 512m, 1g, 1024k, 100 (bytes) into bytes. */
export function parseBytes(v: string, key: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(v);
  if (!m)
    throw new CinderError(
      'BAD_CONF',
      `${key}: '${v}' is not a size`,
      'use a number with an optional unit: 512m, 2g, 1048576',
    );
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[
    m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'
  ];
  return Math.floor(Number(m[1]) * mult);
}

export function parseMb(v: string, key: string): number {
  // bare numbers are MiB for memory settings, as in Spark
  if (/^\s*\d+\s*$/.test(v)) return Number(v);
  return Math.floor(parseBytes(v, key) / 1024 ** 2);
}
