/**
 * Times one benchmark process as a whole (wall, CPU of the process tree, peak RSS of the largest
 * process, summed RSS of the tree, CPU used by OTHER processes meanwhile) — the same figures as
 * ../shared/bench/bench.mjs, so Cinder and the baselines are measured alike.
 *
 * Owns: spawning one process under /usr/bin/time -v (when present), /proc sampling, medians.
 * Must not: know about workloads or answers (bench/suite.ts does).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface RunFigures {
  code: number | null;
  /** wall seconds (hrtime around the process) */
  wall: number;
  /** user + sys seconds of the process and every child it waited for (executors included) */
  cpu: number;
  /** largest single-process max RSS, KiB */
  peakKB: number;
  /** largest sum of VmRSS over the process tree, KiB (sampled every 100 ms) */
  treeKB: number;
  /** cores that OTHER processes used meanwhile (2 = this run had no CPU to spare on 2 cores) */
  other: number;
  /** Date.now() when the process was spawned (for latencies measured inside it) */
  startEpochMs: number;
  stdout: string;
}

const TIME = '/usr/bin/time';
const hasTime = fs.existsSync(TIME);

/** Sum of VmRSS (KiB) of pid and all its descendants. */
export function treeRss(pid: number): number {
  let sum = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    try {
      const st = fs.readFileSync(`/proc/${p}/status`, 'utf8');
      const m = /VmRSS:\s+(\d+)/.exec(st);
      if (m) sum += Number(m[1]);
      for (const t of fs.readdirSync(`/proc/${p}/task`)) {
        const ch = fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim();
        if (ch) for (const c of ch.split(/\s+/)) stack.push(Number(c));
      }
    } catch {
      /* process gone */
    }
  }
  return sum;
}

/** Peak RSS (VmHWM, KiB) of one live process, or undefined when it is gone. */
export function vmHwmKB(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Busy seconds of all CPUs (user nice system irq softirq steal) from /proc/stat. */
export function busySeconds(): number {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!) / 100;
  } catch {
    return 0;
  }
}

export interface RunOptions {
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stderr of the run goes here */
  logFile: string;
  /** give up (SIGKILL the tree) after this many seconds */
  timeoutS?: number;
}

/** Runs `node <args>` once and measures it. */
export function runMeasured(o: RunOptions): Promise<RunFigures> {
  return new Promise((resolve) => {
    fs.mkdirSync(path.dirname(o.logFile), { recursive: true });
    const timeFile = `${o.logFile}.time`;
    const err = fs.openSync(o.logFile, 'w');
    const argv = hasTime ? ['-v', '-o', timeFile, process.execPath, ...o.args] : o.args;
    const startEpochMs = Date.now();
    const t0 = process.hrtime.bigint();
    const busy0 = busySeconds();
    const child = spawn(hasTime ? TIME : process.execPath, argv, {
      cwd: o.cwd,
      env: o.env ?? process.env,
      stdio: ['ignore', 'pipe', err],
      detached: true, // own process group, so a timeout can kill the whole tree
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    let tree = 0;
    const timer = setInterval(() => {
      tree = Math.max(tree, treeRss(child.pid!));
    }, 100);
    const killer =
      o.timeoutS !== undefined
        ? setTimeout(() => {
            try {
              process.kill(-child.pid!, 'SIGKILL');
            } catch {
              /* gone */
            }
          }, o.timeoutS * 1000)
        : undefined;
    child.on('close', (code) => {
      clearInterval(timer);
      if (killer) clearTimeout(killer);
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const busy = busySeconds() - busy0;
      fs.closeSync(err);
      let cpu = Number.NaN;
      let peakKB = tree;
      let exit = code;
      if (hasTime && fs.existsSync(timeFile)) {
        const tv = fs.readFileSync(timeFile, 'utf8');
        const get = (re: RegExp) => re.exec(tv)?.[1];
        cpu = Number(get(/User time \(seconds\): (\S+)/)) + Number(get(/System time \(seconds\): (\S+)/));
        peakKB = Number(get(/Maximum resident set size \(kbytes\): (\d+)/) ?? tree);
        const st = get(/Exit status: (\d+)/);
        if (code === 0 && st !== undefined) exit = Number(st);
        if (/Command terminated by signal/.test(tv)) exit = exit || 128;
        fs.rmSync(timeFile, { force: true });
      }
      resolve({
        code: exit,
        wall,
        cpu,
        peakKB,
        treeKB: tree,
        other: Number.isFinite(cpu) ? Math.max(0, busy - cpu) / wall : Number.NaN,
        startEpochMs,
        stdout: out,
      });
    });
  });
}

export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** One line describing the machine, for reports. */
export function machineLine(): string {
  const cpus = os.cpus();
  return `${cpus.length} vCPU (${cpus[0]?.model.trim() ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

export function loadAvg(): string {
  return os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}
