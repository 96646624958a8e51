/**
 * OS process control for containers: spawn detached (own process group = the container's tree),
 * stdout/stderr to files, kill the whole group (SIGTERM, then SIGKILL after a grace period), and
 * measure the group's resident memory from /proc. It knows nothing of containers or the RM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';

const PAGE = 4096;

export interface Spawned {
  child: ChildProcess;
  pgid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnGroup(
  argv: string[],
  cwd: string,
  env: Record<string, string>,
  stdoutFile: string,
  stderrFile: string,
): Spawned {
  const out = fs.openSync(stdoutFile, 'a', 0o640);
  const err = fs.openSync(stderrFile, 'a', 0o640);
  try {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', out, err] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', (e) => {
        fs.appendFileSync(stderrFile, `cinder: could not start ${argv[0]}: ${e.message}\n`);
        resolve({ code: 127, signal: null });
      });
    });
    return { child, pgid: child.pid ?? -1, exited };
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
  }
}

/** Signals a whole process group; false when it no longer exists. */
export function signalGroup(pgid: number, sig: NodeJS.Signals): boolean {
  if (pgid <= 1) return false;
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false;
  }
}

export function groupAlive(pgid: number): boolean {
  return signalGroup(pgid, 0 as unknown as NodeJS.Signals);
}

/** SIGTERM the group, SIGKILL whatever is left after graceMs; resolves when the group is gone (or after a bound). */
export async function killGroup(pgid: number, graceMs: number): Promise<void> {
  if (!signalGroup(pgid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && groupAlive(pgid)) await new Promise((r) => setTimeout(r, 25));
  signalGroup(pgid, 'SIGKILL');
  const hard = Date.now() + 2_000;
  while (Date.now() < hard && groupAlive(pgid)) await new Promise((r) => setTimeout(r, 25));
}

/** Resident bytes of every process in each given group, from one scan of /proc. */
export function groupRss(pgids: Set<number>): Map<number, number> {
  const out = new Map<number, number>();
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.charCodeAt(0) < 48 || e.charCodeAt(0) > 57) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue;
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(f[2]);
    if (!pgids.has(pgrp)) continue;
    out.set(pgrp, (out.get(pgrp) ?? 0) + Number(f[21]) * PAGE);
  }
  return out;
}
