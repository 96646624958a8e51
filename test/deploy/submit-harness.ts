/** Test helpers: run `cinder submit` as a user would (a child process) against a MiniCluster. */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { CINDER, MiniCluster, ROOT, sharedTempDir } from '../harness/mini-cluster.js';

export const APPS = path.join(ROOT, 'test', 'fixtures', 'apps');

/** submit flags for quick cluster tests: fast AM and executor heartbeats, small containers */
export const FAST = [
  '--conf',
  'cinder.am.heartbeatInterval=300',
  '--conf',
  'cinder.executor.heartbeatInterval=1000',
  '--executor-memory',
  '256m',
  '--driver-memory',
  '256m',
];

export interface Run {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  stdout(): string;
  stderr(): string;
}

/** Starts argv with piped output that can be read while it runs and in full when it ends. */
export function spawnCapture(argv: string[], env: Record<string, string | undefined>): Run {
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout: out, stderr: err })),
  );
  return { child, done, stdout: () => out, stderr: () => err };
}

export function submit(args: string[], env: Record<string, string> = {}, prefix: string[] = []): Run {
  const argv = [...prefix, process.execPath, CINDER, 'submit', ...args];
  return spawnCapture(argv, { ...process.env, CINDER_LOG_LEVEL: 'warn', ...env });
}

/** The lines of every part file in an output directory, sorted. */
export function outputLines(dir: string): string[] {
  if (!fs.existsSync(path.join(dir, '_SUCCESS'))) throw new Error(`${dir} has no _SUCCESS marker`);
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith('part-'))
    .flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n'))
    .filter(Boolean)
    .sort();
}

/** What an executor process's command line contains, whether it runs the bundled main or the per-file one. */
export const EXECUTOR_PROCESS = 'executor/main';

/** What the AM process's command line contains, whether it runs the bundled AM (its entry) or the per-file one. */
export const AM_PROCESS = 'deploy/am/application-master';

/** pids of live processes whose environment has CINDER_APP_ID=appId and whose command line includes `what`. */
export function appProcesses(appId: string, what: string): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (!cmd.includes(what)) continue;
      const env = fs.readFileSync(`/proc/${d}/environ`, 'utf8').split('\0');
      if (env.includes(`CINDER_APP_ID=${appId}`)) out.push(Number(d));
    } catch {
      /* process gone */
    }
  }
  return out;
}

export function appIdFrom(text: string): string {
  const m = /application_\d+_\d+/.exec(text);
  if (!m) throw new Error(`no application id in:\n${text}`);
  return m[0];
}

export interface DeployFixture {
  mc: MiniCluster;
  /** a temp dir for the suite's inputs and outputs (1777, as /tmp: containers run as the user's uid) */
  tmp: string;
  /** the env `cinder submit` runs with: the harness user's identity */
  env: Record<string, string>;
}

/**
 * The cluster a deploy suite runs on: two 4 GiB nodes, 128 MB allocations (plus `rm` settings), a temp dir
 * and the submit env; started before the suite's first test and torn down after its last.
 */
export function deployCluster(name: string, rm: Record<string, string | number> = {}): DeployFixture {
  const fx = {} as DeployFixture;
  before(async () => {
    fx.mc = await MiniCluster.start({ nodes: 2, nodeMemoryMB: 4096, rm: { minAllocationMB: 128, ...rm } });
    fx.tmp = sharedTempDir(`cinder-${name}-`);
    fx.env = { CINDER_IDENTITY: fx.mc.identityFile() };
  });
  after(async () => {
    await fx.mc?.cleanup();
    if (fx.tmp) fs.rmSync(fx.tmp, { recursive: true, force: true });
  });
  return fx;
}
