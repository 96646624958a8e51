/**
 * The benchmark suite: builds the list of cases (workload × implementations), generates their
 * inputs, runs every implementation alternately for several repetitions (each run a whole,
 * measured process), checks every answer (against the baseline's, with verify-sort.mjs, or
 * against the expected value) and returns the raw runs. bench/run.ts and the smoke test call
 * runSuite with different sizes, so CI exercises exactly this code path.
 *
 * Owns: cases, run order, answer checks. Must not: format reports (bench/lib/report.ts).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { CaseName, SuiteConfig } from './lib/config.js';
import { buildBench, type DataSpec, ensureData, repoRoot, sharedScript } from './lib/data.js';
import { loadAvg, machineLine, runMeasured } from './lib/measure.js';

export interface Impl {
  name: string;
  /** node arguments */
  args: string[];
  /** where a sort writes its output (checked with verify-sort.mjs) */
  output?: string;
  /** runs against the suite's 2-node development cluster: `--master` and the secret are added at run time */
  devCluster?: boolean;
  /** the exact last stdout line a correct run prints (checks of the startup case's non-Cinder floors) */
  expect?: string;
}

export interface Case {
  name: CaseName;
  inputMb: number;
  impls: Impl[];
  reps: number;
  /** 'baseline': same answer as the first impl that is not cinder; 'self': `x=N expected=N`; 'verify-sort' */
  check: 'baseline' | 'self' | 'verify-sort';
  verifyInput?: string;
  /** executor memory limit (MiB) of a spill case */
  limitMb?: number;
  /** set when the case cannot run yet (no fake numbers) */
  notMeasured?: string;
}

export interface Run {
  case: CaseName;
  impl: string;
  rep: number;
  code: number | null;
  wall: number;
  cpu: number;
  peakKB: number;
  treeKB: number;
  other: number;
  answer: string;
  metrics: Record<string, any>;
}

export interface SuiteResult {
  mode: string;
  machine: string;
  started: string;
  loadBefore: string;
  loadAfter: string;
  config: Omit<SuiteConfig, 'log'>;
  cases: Case[];
  runs: Run[];
  /** per case+impl: verify-sort output, or the answer check's verdict */
  verdicts: Record<string, string>;
  peers: string;
}

const PEER_IMPLS = ['skale', 'duckdb', 'polars'] as const;
const PEER_MODULES: Record<string, string> = { skale: 'skale', duckdb: '@duckdb/node-api', polars: 'nodejs-polars' };

/** Which peers can run: $PEERS_DEPS must hold their node_modules (as ../shared/bench/run-all.sh installs them). */
export function peerStatus(): { impls: string[]; message: string } {
  const deps = process.env.PEERS_DEPS;
  if (!deps)
    return {
      impls: [],
      message:
        'peers skipped: PEERS_DEPS is not set (run `bash ../shared/bench/run-all.sh SCRATCH` once, or npm-install skale@1.2.2 ' +
        '--ignore-scripts, @duckdb/node-api@1.5.6-r.1 and nodejs-polars@0.24.1 into SCRATCH, then PEERS_DEPS=SCRATCH)',
    };
  const impls = PEER_IMPLS.filter((p) => fs.existsSync(path.join(deps, 'node_modules', PEER_MODULES[p]!)));
  const missing = PEER_IMPLS.filter((p) => !impls.includes(p));
  return {
    impls,
    message: `peers from ${deps}: ${impls.join(', ') || 'none'}${missing.length ? ` (missing: ${missing.join(', ')})` : ''}`,
  };
}

/** Whether `cinder submit` and the RM scheduler exist yet (launch latency and RM simulation need them). */
export function clusterStatus(): string | undefined {
  const help = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'cinder.js'), '--help'], { encoding: 'utf8' });
  const hasSubmit = /\bsubmit\b/.test(help.stdout ?? '');
  const hasSched = fs.existsSync(path.join(repoRoot, 'src', 'cluster', 'resourcemanager', 'scheduler.ts'));
  if (!hasSubmit) return '`cinder submit` does not exist yet (node bin/cinder.js --help lists no submit command)';
  if (!hasSched) return 'src/cluster/resourcemanager/scheduler.ts does not exist yet';
  return undefined;
}

/**
 * A Cinder run as users run a job: `cinder submit --master M build/bench/job.js WORKLOAD PARAMS` (its spare
 * executors start while the app loads; the CLI bundle, decision 0035; the compile cache, decision 0034:
 * after the first repetition of a case its submits find both caches warm, as a user's repeated submits do).
 */
function cinder(cfg: SuiteConfig, workload: string, params: Record<string, unknown>): Impl {
  return {
    name: 'cinder',
    args: [
      path.join(repoRoot, 'bin', 'cinder.js'),
      'submit',
      '--master',
      cfg.master,
      path.join(buildBench, 'job.js'),
      workload,
      JSON.stringify({ master: cfg.master, ...params }),
    ],
  };
}

/** The cases of this configuration, with their data generated. */
export function planCases(cfg: SuiteConfig): Case[] {
  const s = cfg.sizes;
  const want = new Set(cfg.cases);
  const data = (spec: DataSpec) => ensureData(cfg.dataDir, spec, cfg.log);
  const mib = (b: number) => b / 2 ** 20;
  const out = path.join(cfg.workDir, 'out');
  const peers = cfg.peers ? peerStatus().impls : [];
  const peerImpls = (w: string, dir: string, withOut: boolean): Impl[] =>
    peers.map((p) => {
      const o = path.join(out, `${w}-${p}${p === 'skale' ? '.d' : '.csv'}`);
      return {
        name: p,
        args: [sharedScript(`${w}-${p}.mjs`), dir, ...(withOut ? [o] : [])],
        ...(withOut ? { output: o } : {}),
      };
    });
  const cases: Case[] = [];
  if (want.has('wordcount')) {
    const d = data({ name: 'text', kind: 'text', mb: s.textMb });
    const impls = [
      cinder(cfg, 'wordcount', { input: d.dir }),
      { name: 'hand', args: [sharedScript('wordcount-hand.mjs'), d.dir] },
    ];
    cases.push({
      name: 'wordcount',
      inputMb: mib(d.bytes),
      reps: cfg.reps,
      check: 'baseline',
      impls: [...impls, ...peerImpls('wordcount', d.dir, false)],
    });
  }
  // the user-function cases (issue 18): each against its own single-threaded loop in bench/hand/
  const userFunctionCases: Array<['wordfreq' | 'jsongroup' | 'cpumap', DataSpec]> = [
    ['wordfreq', { name: 'freqtext', kind: 'text', mb: s.freqMb, seed: 5 }],
    ['jsongroup', { name: 'events', kind: 'json', mb: s.freqMb, keys: 100_000, seed: 3 }],
    ['cpumap', { name: 'cpukv', kind: 'kv', mb: s.freqMb, keys: 1_000_000, seed: 13 }],
  ];
  for (const [name, spec] of userFunctionCases) {
    if (!want.has(name)) continue;
    const d = data(spec);
    cases.push({
      name,
      inputMb: mib(d.bytes),
      reps: cfg.reps,
      check: 'baseline',
      impls: [
        cinder(cfg, name, { input: d.dir }),
        { name: 'hand', args: [path.join(buildBench, 'hand', `${name}-hand.js`), d.dir] },
        // the same loop over half the files in each of two processes: the floor for 2 cores
        { name: 'split2', args: [path.join(buildBench, 'hand', 'split2.js'), name, d.dir] },
      ],
    });
  }
  if (want.has('groupby')) {
    const d = data({ name: 'kv', kind: 'kv', mb: s.kvMb, keys: s.kvKeys });
    const impls = [
      cinder(cfg, 'groupby', { input: d.dir }),
      { name: 'hand', args: [sharedScript('groupby-hand.mjs'), d.dir] },
    ];
    cases.push({
      name: 'groupby',
      inputMb: mib(d.bytes),
      reps: cfg.reps,
      check: 'baseline',
      impls: [...impls, ...peerImpls('groupby', d.dir, false)],
    });
  }
  if (want.has('sort')) {
    const d = data({ name: 'sortkv', kind: 'sortkv', mb: s.sortMb });
    const co = path.join(out, 'sort-cinder.d');
    const ho = path.join(out, 'sort-hand.csv');
    const impls: Impl[] = [
      { ...cinder(cfg, 'sort', { input: d.dir, output: co }), output: co },
      { name: 'hand', args: [sharedScript('sort-hand.mjs'), d.dir, ho], output: ho },
    ];
    cases.push({
      name: 'sort',
      inputMb: mib(d.bytes),
      reps: cfg.reps,
      check: 'verify-sort',
      verifyInput: d.dir,
      impls: [...impls, ...peerImpls('sort', d.dir, true)],
    });
  }
  if (want.has('join')) {
    const a = data({ name: 'joinA', kind: 'kv', mb: s.joinAMb, keys: s.joinKeys, seed: 7 });
    const b = data({ name: 'joinB', kind: 'kv', mb: s.joinBMb, keys: s.joinKeys });
    cases.push({
      name: 'join',
      inputMb: mib(a.bytes + b.bytes),
      reps: cfg.reps,
      check: 'baseline',
      impls: [
        cinder(cfg, 'join', { inputA: a.dir, inputB: b.dir }),
        { name: 'hand', args: [path.join(buildBench, 'hand', 'join-hand.js'), a.dir, b.dir] },
      ],
    });
  }
  if (want.has('kmeans')) {
    const d = data({ name: 'points', kind: 'kv', mb: s.pointsMb, keys: s.kvKeys, seed: 11 });
    cases.push({
      name: 'kmeans',
      inputMb: mib(d.bytes),
      reps: cfg.reps,
      check: 'baseline',
      impls: [
        cinder(cfg, 'kmeans', { input: d.dir, passes: s.passes }),
        { name: 'hand', args: [path.join(buildBench, 'hand', 'kmeans-hand.js'), d.dir, String(s.passes)] },
      ],
    });
  }
  if (want.has('sched-empty'))
    cases.push({
      name: 'sched-empty',
      inputMb: 0,
      reps: cfg.reps,
      check: 'self',
      impls: [cinder(cfg, 'schedEmpty', { tasks: s.tasks })],
    });
  if (want.has('sched-chain'))
    cases.push({
      name: 'sched-chain',
      inputMb: 0,
      reps: cfg.reps,
      check: 'self',
      impls: [cinder(cfg, 'schedChain', { stages: s.stages })],
    });
  const limitMb = Math.round(Number.parseFloat(s.spillMemory) * (/g/i.test(s.spillMemory) ? 1024 : 1));
  const conf = { 'cinder.executor.memory': s.spillMemory };
  if (want.has('spill-sort')) {
    const d = data({ name: 'spill-sortkv', kind: 'sortkv', mb: s.spillMb });
    const co = path.join(out, 'spill-sort-cinder.d');
    cases.push({
      name: 'spill-sort',
      inputMb: mib(d.bytes),
      reps: cfg.spillReps,
      check: 'verify-sort',
      verifyInput: d.dir,
      limitMb,
      impls: [{ ...cinder(cfg, 'sort', { input: d.dir, output: co, conf }), output: co }],
    });
  }
  if (want.has('spill-groupbykey')) {
    const d = data({ name: 'spill-kv', kind: 'kv', mb: s.spillMb, keys: s.kvKeys });
    cases.push({
      name: 'spill-groupbykey',
      inputMb: mib(d.bytes),
      reps: cfg.spillReps,
      check: 'baseline',
      limitMb,
      impls: [
        cinder(cfg, 'groupbykey', { input: d.dir, conf }),
        { name: 'hand', args: [sharedScript('groupby-hand.mjs'), d.dir] },
      ],
    });
  }
  if (want.has('rm-sim'))
    cases.push({
      name: 'rm-sim',
      inputMb: 0,
      reps: cfg.reps,
      check: 'self',
      impls: s.rmNodes.map((n) => ({ name: `${n} nodes`, args: [path.join(buildBench, 'rm-sim.js'), String(n)] })),
    });
  if (want.has('launch-latency')) {
    const missing = clusterStatus();
    const app = path.join(buildBench, 'apps', 'latency-app.js');
    const cli = path.join(repoRoot, 'bin', 'cinder.js');
    const submit = (master: string): Impl => ({
      name: `submit ${master}`,
      args: [cli, 'submit', '--master', master, app],
    });
    const onCluster = (mode: 'client' | 'cluster'): Impl => ({
      name: `submit ${mode} mode (2-node dev cluster)`,
      args: [cli, 'submit', '--deploy-mode', mode, '--conf', 'cinder.executor.memory=512m', app],
      devCluster: true,
    });
    cases.push({
      name: 'launch-latency',
      inputMb: 0,
      reps: cfg.reps,
      check: 'self',
      impls: missing ? [] : [submit(cfg.master), onCluster('client'), onCluster('cluster')],
      ...(missing ? { notMeasured: missing } : {}),
    });
  }
  if (want.has('warm-jobs'))
    cases.push({
      name: 'warm-jobs',
      inputMb: 0,
      reps: cfg.reps,
      check: 'self',
      impls: [cinder(cfg, 'warmJobs', { jobs: cfg.mode === 'tiny' ? 20 : 300 })],
    });
  if (want.has('startup')) {
    // issue 18: Cinder's start-up against the machine's floor, measured in the same run, alternating
    const cli = path.join(repoRoot, 'bin', 'cinder.js');
    const tiny = path.join(repoRoot, 'bench', 'apps', 'tiny-app.ts');
    const version = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string })
      .version;
    cases.push({
      name: 'startup',
      inputMb: 0,
      // start-up figures are short and noisy on a shared machine: many repetitions, medians
      reps: cfg.mode === 'tiny' ? 1 : Math.max(15, cfg.reps * 5),
      check: 'self',
      impls: [
        { name: 'floor (local-floor.mjs)', args: [sharedScript('limits/local-floor.mjs')], expect: '10' },
        { name: 'cinder submit local[2] tiny job', args: [cli, 'submit', '--master', 'local[2]', tiny] },
        {
          name: 'cinder submit local[2] tiny job, no spare executors',
          args: [cli, 'submit', '--master', 'local[2]', '--conf', 'cinder.local.spareExecutors=false', tiny],
        },
        { name: 'node -e 0', args: ['-e', '0'], expect: '' },
        { name: 'cinder --version', args: [cli, '--version'], expect: version },
      ],
    });
  }
  return cases;
}

/** Starts `cinder cluster up --nodes 2` in `dir` for the launch-latency cases. */
interface DevCluster {
  dir: string;
  master?: string;
  restUrl?: string;
  /** the dev cluster's admin identity (clients' credential) */
  identityFile: string;
}

function devClusterUp(dir: string, log: (m: string) => void): DevCluster {
  const cli = path.join(repoRoot, 'bin', 'cinder.js');
  const r = spawnSync(process.execPath, [cli, 'cluster', 'up', '--nodes', '2', '--dir', dir, '--json'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) {
    log(`dev cluster did not start (launch latency in client/cluster mode not measured): ${r.stderr.trim()}`);
    return { dir, identityFile: '' };
  }
  const info = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    master: string;
    restUrl: string;
    identityFile: string;
  };
  log(`dev cluster up at ${info.master}`);
  return { dir, master: info.master, restUrl: info.restUrl, identityFile: info.identityFile };
}

/**
 * Waits (up to 10 s) until the dev cluster runs no application and holds no container, then 1.5 s more
 * for the NodeManagers to finish cleaning up (process exit, log aggregation): a launch is measured on an
 * idle cluster, not beside the teardown of the previous rep's app. Reads the RM's REST metrics.
 */
async function devClusterIdle(dev: DevCluster): Promise<void> {
  if (!dev.restUrl) return;
  const { readIdentity } = await import('../src/cluster/security/identity.js');
  const { bearer } = await import('../src/cluster/security/tokens.js');
  const token = bearer(readIdentity(dev.identityFile).token);
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    try {
      const r = await fetch(`${dev.restUrl}/ws/v1/cluster/metrics`, { headers: { authorization: `Bearer ${token}` } });
      const m = ((await r.json()) as { clusterMetrics: Record<string, number> }).clusterMetrics;
      if (m.appsRunning === 0 && m.appsPending === 0 && m.containersAllocated === 0) break;
    } catch {
      break; // no REST answer: measure anyway
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  await new Promise((res) => setTimeout(res, 1500));
}

/** The driver (AM container) stdout of the cluster-mode app whose id the submit printed. */
function driverLog(submitStdout: string, dev: DevCluster): string {
  const appId = /application_\d+_\d+/.exec(submitStdout)?.[0];
  if (!appId) return submitStdout;
  const r = spawnSync(
    process.execPath,
    [path.join(repoRoot, 'bin', 'cinder.js'), 'logs', '--master', dev.master!, appId],
    { encoding: 'utf8', timeout: 60_000, env: { ...process.env, CINDER_IDENTITY: dev.identityFile } },
  );
  // only the probe's lines: the answer must be the probe's last line, not a log trailer
  return r.stdout
    .split('\n')
    .filter((l) => /^(latency probe|count=|BENCH_METRICS )/.test(l))
    .join('\n');
}

function devClusterDown(dir: string): void {
  spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'cinder.js'), 'cluster', 'down', '--dir', dir], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

function parseOutput(stdout: string): { answer: string; metrics: Record<string, any> } {
  const lines = stdout.split('\n').filter((l) => l.trim());
  const m = lines.find((l) => l.startsWith('BENCH_METRICS '));
  return {
    answer: lines.filter((l) => !l.startsWith('BENCH_METRICS ')).pop() ?? '',
    metrics: m ? JSON.parse(m.slice('BENCH_METRICS '.length)) : {},
  };
}

/** verify-sort.mjs reads an output dir as files named by number: Cinder's part-NNNNN files are linked as 0, 1, ... */
function verifySort(input: string, output: string): string {
  let target = output;
  const parts = fs.statSync(output).isDirectory()
    ? fs
        .readdirSync(output)
        .filter((f) => f.startsWith('part-'))
        .sort()
    : [];
  // a dir of numbered files (skale's 0.csv, 1.csv, ...) is read as it is
  if (parts.length > 0) {
    target = `${output}.verify`;
    fs.rmSync(target, { recursive: true, force: true });
    fs.mkdirSync(target);
    for (const [i, f] of parts.entries()) fs.symlinkSync(path.join(output, f), path.join(target, String(i)));
  }
  const v = spawnSync(process.execPath, [sharedScript('verify-sort.mjs'), input, target], { encoding: 'utf8' });
  if (target !== output) fs.rmSync(target, { recursive: true, force: true });
  return (v.stdout + v.stderr).trim();
}

function selfCheck(answer: string, expect?: string): boolean {
  if (expect !== undefined) return answer === expect;
  const m = /^\w+=(\S+) expected=(\S+)$/.exec(answer);
  return !!m && m[1] === m[2];
}

/** Runs every case; returns raw runs and per-implementation verdicts ('ok ...' or a failure). */
export async function runSuite(cfg: SuiteConfig): Promise<SuiteResult> {
  const started = new Date().toISOString();
  const loadBefore = loadAvg();
  fs.mkdirSync(path.join(cfg.workDir, 'out'), { recursive: true });
  const peers = cfg.peers ? peerStatus().message : 'peers not requested (--peers)';
  if (cfg.peers) cfg.log(peers);
  const cases = planCases(cfg);
  const runs: Run[] = [];
  const verdicts: Record<string, string> = {};
  const env = { ...process.env, CINDER_LOG_LEVEL: process.env.CINDER_LOG_LEVEL ?? 'warn', SKALE_WORKERS: '2' };
  const t0 = Date.now();
  const maxReps = Math.max(...cases.map((c) => c.reps), 0);
  const dev = cases.some((c) => !c.notMeasured && c.impls.some((i) => i.devCluster))
    ? devClusterUp(path.join(cfg.workDir, 'dev-cluster'), cfg.log)
    : undefined;
  try {
    for (let rep = 1; rep <= maxReps; rep++) {
      for (const c of cases) {
        if (rep > c.reps || c.notMeasured) continue;
        for (const impl of c.impls) {
          if (impl.output) fs.rmSync(impl.output, { recursive: true, force: true });
          if (impl.devCluster && !dev?.master) continue;
          if (impl.devCluster) await devClusterIdle(dev!);
          const f = await runMeasured({
            args: impl.devCluster
              ? [...impl.args.slice(0, 2), '--master', dev!.master!, ...impl.args.slice(2)]
              : impl.args,
            env: impl.devCluster ? { ...env, CINDER_IDENTITY: dev!.identityFile } : env,
            cwd: cfg.workDir,
            logFile: path.join(cfg.workDir, 'logs', `${c.name}-${impl.name}-${rep}.stderr`),
            timeoutS: cfg.timeoutS,
          });
          // cluster mode: the probe ran in the AM container, so its lines are in the driver's log
          const { answer, metrics } = parseOutput(
            impl.devCluster && impl.args.includes('cluster') ? driverLog(f.stdout, dev!) : f.stdout,
          );
          for (const [k, v] of Object.entries(metrics)) // epochs printed by the launch-latency probe -> ms since submit
            if (k.endsWith('Epoch') && typeof v === 'number') metrics[`${k.slice(0, -5)}Ms`] = v - f.startEpochMs;
          // launch request (NM StartContainer or local spawn) -> registered with the driver, slowest executor
          if (Array.isArray(metrics.launchToRegisterMs) && metrics.launchToRegisterMs.length > 0)
            metrics.executorLaunchMs = Math.max(...(metrics.launchToRegisterMs as number[]));
          const run: Run = { case: c.name, impl: impl.name, rep, ...f, answer, metrics };
          delete (run as Partial<typeof f>).stdout;
          runs.push(run);
          const key = `${c.name}/${impl.name}`;
          if (f.code !== 0) verdicts[key] = `FAILED (exit ${f.code}, see ${path.join(cfg.workDir, 'logs')})`;
          else if (c.check === 'verify-sort' && impl.output && !(key in verdicts))
            verdicts[key] = verifySort(c.verifyInput!, impl.output);
          else if (c.check === 'self' && !(key in verdicts))
            verdicts[key] = selfCheck(answer, impl.expect) ? 'ok (expected value)' : `WRONG: ${answer}`;
          cfg.log(
            `[${((Date.now() - t0) / 1000).toFixed(0)}s] rep ${rep} ${key}: exit ${f.code} wall ${f.wall.toFixed(2)}s cpu ${f.cpu.toFixed(1)}s ` +
              `other-load ${f.other.toFixed(2)} | ${answer.slice(0, 90)}`,
          );
        }
      }
    }
  } finally {
    if (dev) devClusterDown(dev.dir);
  }
  // answers against the baseline: every run of every impl must print the reference answer
  for (const c of cases.filter((x) => x.check === 'baseline')) {
    const ref = runs.find((r) => r.case === c.name && r.impl !== 'cinder' && r.code === 0)?.answer;
    for (const impl of c.impls) {
      const key = `${c.name}/${impl.name}`;
      if (verdicts[key]?.startsWith('FAILED')) continue;
      const rs = runs.filter((r) => r.case === c.name && r.impl === impl.name);
      if (ref === undefined) verdicts[key] = 'no baseline answer';
      else
        verdicts[key] = rs.every((r) => r.answer === ref)
          ? 'same'
          : `DIFFERENT: ${rs.find((r) => r.answer !== ref)?.answer}`;
    }
  }
  for (const c of cases.filter((x) => x.check !== 'baseline'))
    for (const impl of c.impls) {
      const key = `${c.name}/${impl.name}`;
      if (!verdicts[key]?.startsWith('FAILED') && c.check === 'self') {
        const rs = runs.filter((r) => r.case === c.name && r.impl === impl.name);
        if (!rs.every((r) => selfCheck(r.answer, impl.expect))) verdicts[key] = 'WRONG in some repetition';
      }
    }
  const { log: _log, ...config } = cfg;
  return {
    mode: cfg.mode,
    machine: machineLine(),
    started,
    loadBefore,
    loadAfter: loadAvg(),
    config,
    cases,
    runs,
    verdicts,
    peers,
  };
}
