/**
 * Benchmark inputs: where the shared scripts are (../shared/bench, never copied into the repo) and
 * generating data sets with its gen-data.mjs into a scratch dir (default bench/data/, git-ignored).
 * A data set is reused when its _meta.json records the same parameters.
 *
 * Owns: paths and data generation. Must not: time anything.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateJsonLines } from './gen-json.js';

/** The repository root: the nearest ancestor with package.json (works from bench/ and build/bench/). */
export const repoRoot = findRoot(path.dirname(fileURLToPath(import.meta.url)));
function findRoot(dir: string): string {
  for (let d = dir; d !== path.dirname(d); d = path.dirname(d))
    if (fs.existsSync(path.join(d, 'package.json'))) return d;
  throw new Error(`no package.json above ${dir}`);
}

/** ../shared/bench relative to the repo root (CINDER_SHARED_BENCH overrides it). */
export const sharedBench = process.env.CINDER_SHARED_BENCH ?? path.resolve(repoRoot, '../shared/bench');
/** Built bench scripts (job.js, hand/*.js). */
export const buildBench = path.join(repoRoot, 'build', 'bench');

export function sharedScript(name: string): string {
  const p = path.join(sharedBench, name);
  if (!fs.existsSync(p))
    throw new Error(
      `benchmark script ${p} not found: the suite uses ../shared/bench next to the repo ` +
        '(set CINDER_SHARED_BENCH to its path if it lives elsewhere)',
    );
  return p;
}

/** gen-data.mjs's kinds, and 'json' (event objects, one per line: bench/lib/gen-json.ts) */
export type DataKind = 'text' | 'kv' | 'sortkv' | 'json';

export interface DataSpec {
  /** sub-directory name under the data dir */
  name: string;
  kind: DataKind;
  /** MiB (2^20 bytes); fractions are fine */
  mb: number;
  parts?: number;
  seed?: number;
  /** kv: number of distinct keys; json: number of distinct users */
  keys?: number;
}

export interface DataSet {
  dir: string;
  bytes: number;
  lines: number;
}

function wanted(s: DataSpec): Record<string, number | string> {
  return {
    kind: s.kind,
    mb: s.mb,
    parts: s.parts ?? 8,
    seed: s.seed ?? 42,
    ...(s.kind === 'kv' ? { keys: s.keys ?? 1_000_000 } : {}),
    ...(s.kind === 'json' ? { users: s.keys ?? 100_000 } : {}),
  };
}

/** Makes (or reuses) a data set with gen-data.mjs; returns its directory and size. */
export function ensureData(dataDir: string, s: DataSpec, log: (m: string) => void = () => {}): DataSet {
  const dir = path.join(dataDir, s.name);
  const metaFile = path.join(dir, '_meta.json');
  const want = wanted(s);
  const readMeta = (): Record<string, number | string> | undefined => {
    try {
      return JSON.parse(fs.readFileSync(metaFile, 'utf8'));
    } catch {
      return undefined;
    }
  };
  let meta = readMeta();
  const same = meta && Object.entries(want).every(([k, v]) => meta![k] === v);
  if (!same && s.kind === 'json') {
    log(`generating ${s.name}: json ${s.mb} MiB`);
    generateJsonLines(dir, { mb: s.mb, parts: Number(want.parts), seed: Number(want.seed), users: Number(want.users) });
    meta = readMeta();
  } else if (!same) {
    const args = [sharedScript('gen-data.mjs'), s.kind, dir, String(s.mb), '--parts', String(want.parts)];
    args.push('--seed', String(want.seed));
    if (s.kind === 'kv') args.push('--keys', String(want.keys));
    log(`generating ${s.name}: ${s.kind} ${s.mb} MiB`);
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`gen-data failed for ${s.name}: ${r.stderr}`);
    meta = readMeta();
    if (!meta) throw new Error(`gen-data wrote no ${metaFile}`);
  } else log(`reusing ${s.name}`);
  return { dir, bytes: Number(meta!.bytes), lines: Number(meta!.lines) };
}
