/**
 * Benchmark configuration: the three size presets (full = the sizes, quick = a few minutes,
 * tiny = the CI smoke test) and command-line parsing for bench/run.ts.
 *
 * Owns: sizes, repetitions and options. Must not: run anything.
 */
import path from 'node:path';
import { repoRoot } from './data.js';

export type Mode = 'full' | 'quick' | 'tiny';

export interface Sizes {
  /** MiB of input per data set */
  textMb: number;
  /** wordfreq's text, jsongroup's JSON lines and cpumap's kv rows (issue 18: user functions dominate; target at 120 MiB) */
  freqMb: number;
  kvMb: number;
  kvKeys: number;
  sortMb: number;
  /** join: table A (about joinKeys rows, every key) and table B (joinBMb MiB ≈ 10M rows at full size) */
  joinAMb: number;
  joinBMb: number;
  joinKeys: number;
  /** k-means input (kv rows used as 2-D points) and passes */
  pointsMb: number;
  passes: number;
  /** scheduler: empty tasks in one stage, and length of the stage chain */
  tasks: number;
  stages: number;
  /** spill: MiB of sort and groupByKey input, and the executor memory limit for them */
  spillMb: number;
  spillMemory: string;
  /** ResourceManager scheduler simulation: cluster sizes (nodes) */
  rmNodes: number[];
}

export const PRESETS: Record<Mode, Sizes> = {
  full: {
    textMb: 500,
    freqMb: 120,
    kvMb: 300,
    kvKeys: 1_000_000,
    sortMb: 200,
    joinAMb: 15, // 1.06M rows over 1M keys
    joinBMb: 142, // ~10M rows
    joinKeys: 1_000_000,
    pointsMb: 50,
    passes: 10,
    tasks: 10_000,
    stages: 200,
    spillMb: 4096,
    spillMemory: '512m',
    rmNodes: [1000, 10_000],
  },
  quick: {
    textMb: 40,
    freqMb: 40,
    kvMb: 30,
    kvKeys: 100_000,
    sortMb: 20,
    joinAMb: 1.5,
    joinBMb: 14,
    joinKeys: 100_000,
    pointsMb: 10,
    passes: 10,
    tasks: 2000,
    stages: 50,
    spillMb: 128,
    spillMemory: '256m',
    rmNodes: [1000],
  },
  tiny: {
    textMb: 0.3,
    freqMb: 0.3,
    kvMb: 0.3,
    kvKeys: 2000,
    sortMb: 0.3,
    joinAMb: 0.03,
    joinBMb: 0.3,
    joinKeys: 2000,
    pointsMb: 0.2,
    passes: 3,
    tasks: 50,
    stages: 5,
    spillMb: 0.3,
    spillMemory: '256m',
    rmNodes: [100],
  },
};

export const ALL_CASES = [
  'wordcount',
  'wordfreq',
  'jsongroup',
  'cpumap',
  'groupby',
  'sort',
  'join',
  'kmeans',
  'sched-empty',
  'sched-chain',
  'spill-sort',
  'spill-groupbykey',
  'launch-latency',
  'rm-sim',
  'startup',
  'warm-jobs',
] as const;
export type CaseName = (typeof ALL_CASES)[number];

export interface SuiteConfig {
  mode: Mode;
  sizes: Sizes;
  reps: number;
  /** repetitions of the expensive spill cases */
  spillReps: number;
  master: string;
  cases: CaseName[];
  peers: boolean;
  /** generated inputs (reused across runs of the same mode; default bench/data/<mode>) */
  dataDir: string;
  /** outputs, logs; results go to resultsDir */
  workDir: string;
  resultsDir: string;
  /** per-process time limit */
  timeoutS: number;
  log: (m: string) => void;
}

const USAGE = `usage: npm run bench -- [--quick] [--peers] [--reps N] [--only case,case] [--spill-mb N]
       [--spill-memory 512m] [--data DIR] [--master local[2]]
cases: ${ALL_CASES.join(', ')}`;

export function parseArgs(
  argv: string[],
  log: (m: string) => void = (m) => process.stderr.write(`${m}\n`),
): SuiteConfig {
  let mode: Mode = 'full';
  const opt: Record<string, string> = {};
  let peers = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') mode = 'quick';
    else if (a === '--tiny') mode = 'tiny';
    else if (a === '--peers') peers = true;
    else if (a === '--help' || a === '-h') throw new Error(USAGE);
    else if (a.startsWith('--') && argv[i + 1] !== undefined) opt[a.slice(2)] = argv[++i]!;
    else throw new Error(`bench: unknown argument '${a}'\n${USAGE}`);
  }
  const known = ['reps', 'only', 'spill-mb', 'spill-memory', 'data', 'master', 'timeout'];
  for (const k of Object.keys(opt)) if (!known.includes(k)) throw new Error(`bench: unknown option --${k}\n${USAGE}`);
  const sizes = { ...PRESETS[mode] };
  if (opt['spill-mb']) sizes.spillMb = Number(opt['spill-mb']);
  if (opt['spill-memory']) sizes.spillMemory = opt['spill-memory'];
  const cases = (opt.only ? opt.only.split(',') : [...ALL_CASES]) as CaseName[];
  for (const c of cases) if (!ALL_CASES.includes(c)) throw new Error(`bench: unknown case '${c}'\n${USAGE}`);
  const benchDir = path.join(repoRoot, 'bench');
  // one data and work dir per mode: a quick or tiny run never regenerates a full run's inputs under it
  const workDir = path.join(benchDir, 'data', `work-${mode}`);
  return {
    mode,
    sizes,
    reps: Number(opt.reps ?? (mode === 'tiny' ? 1 : 3)),
    spillReps: 1,
    master: opt.master ?? 'local[2]',
    cases,
    peers,
    dataDir: path.resolve(opt.data ?? path.join(benchDir, 'data', mode)),
    workDir,
    resultsDir: path.join(benchDir, 'results'),
    timeoutS: Number(opt.timeout ?? (mode === 'full' ? 3600 : 600)),
    log,
  };
}
