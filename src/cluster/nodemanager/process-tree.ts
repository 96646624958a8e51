/**
 * OS process control for containers: spawn detached (own process group = the container's tree),
 * stdout/stderr to files, the exit-code wrapper (so a container's exit status survives the death of
 * the NM that launched it), kill the whole group (SIGTERM, then SIGKILL after a grace period), and
 * measure the group's resident memory / liveness from /proc (zombies do not count as alive). It knows
 * nothing of containers or the RM.
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
  as?: { uid: number; gid: number },
): Spawned {
  const out = fs.openSync(stdoutFile, 'a', 0o640);
  const err = fs.openSync(stderrFile, 'a', 0o640);
  try {
    if (as) for (const fd of [out, err]) fs.fchownSync(fd, as.uid, as.gid);
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', out, err],
      ...(as ? { uid: as.uid, gid: as.gid } : {}),
    });
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

/** True when the group has a member that is not a zombie (an exited child nobody reaped yet still takes signals). */
export function groupLive(pgid: number): boolean {
  return groupAlive(pgid) && liveGroups(new Set([pgid])).has(pgid);
}

/** Waits until the group is gone or only zombies are left (checked from /proc every 8th poll), or until `until`. */
async function waitGone(pgid: number, until: number): Promise<void> {
  for (let i = 1; Date.now() < until; i++) {
    if (!groupAlive(pgid) || (i % 8 === 0 && !groupLive(pgid))) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** SIGTERM the group, SIGKILL whatever is left after graceMs; resolves when the group is gone (or after a bound). */
export async function killGroup(pgid: number, graceMs: number): Promise<void> {
  if (!signalGroup(pgid, 'SIGTERM')) return;
  await waitGone(pgid, Date.now() + graceMs);
  if (!signalGroup(pgid, 'SIGKILL')) return;
  await waitGone(pgid, Date.now() + 2_000);
}

interface ProcEntry {
  pgrp: number;
  state: string;
  rssBytes: number;
}

/** One scan of /proc: process group, state and resident bytes of every process whose group is in pgids. */
function scan(pgids: Set<number>): ProcEntry[] {
  const out: ProcEntry[] = [];
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
    out.push({ pgrp, state: f[0] ?? '', rssBytes: Number(f[21]) * PAGE });
  }
  return out;
}

/** Resident bytes of every process in each given group, from one scan of /proc. */
export function groupRss(pgids: Set<number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of scan(pgids)) out.set(p.pgrp, (out.get(p.pgrp) ?? 0) + p.rssBytes);
  return out;
}

/** The given groups that still have a live (non-zombie) member, from one scan of /proc. */
export function liveGroups(pgids: Set<number>): Set<number> {
  const out = new Set<number>();
  for (const p of scan(pgids)) if (p.state !== 'Z' && p.state !== 'X') out.add(p.pgrp);
  return out;
}

/** "PID STARTTIME" of a process (starttime = field 22 of /proc/PID/stat): a pid that cannot be mistaken after reuse. */
export function processIdentity(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `${pid} ${f[19]}`;
  } catch {
    return undefined;
  }
}

export interface WrapperOptions {
  /** the wrapper script (writeWrapperScript) */
  wrapperFile: string;
  /** the container's command as a script (launchScript): run by a child sh that execs it */
  launchFile: string;
  /** the wrapper writes the command's exit code here (128 + n for signal n) before reaping its group */
  exitFile: string;
  /** "PID STARTTIME" of the NodeManager that owns the container (rewritten by every NM start) */
  ownerFile: string;
  /** kill the container when no live owner was seen for this long; 0 = never */
  orphanKillMs: number;
  /** between the orphan watchdog's SIGTERM and SIGKILL */
  killGraceMs: number;
}

// The container's command runs in the foreground of a tiny sh (the process group leader), from a launch
// script that execs it (so the command's own argv is not on the wrapper's command line, as with YARN's
// launch_container.sh). TERM/INT are trapped (a trap set while a foreground command runs waits for it),
// so when the group is signalled the command gets the signal and the wrapper lives on to write its exit
// code; a signal-killed command reports 128 + n as a shell does. Then the wrapper reaps whatever is left
// in its group (itself included), as the NM does after a container's main process ends. The optional
// watchdog checks every `per` seconds that the owner NM (pid + start time from /proc, so a reused pid
// does not count) is alive and, after `miss` checks without one, marks the container orphaned and kills
// the group (TERM, then KILL).
const WRAPPER = `# cinder container wrapper: $1 exit file, $2 owner file, $3 check period (s), $4 misses, $5 grace (s), $6 launch script
x=$1 own=$2 per=$3 miss=$4 gr=$5 launch=$6
trap : TERM INT
if [ "$miss" -gt 0 ]; then
  (
    trap : TERM INT
    PATH=/usr/bin:/bin:$PATH
    owner_alive() {
      [ -r "$own" ] || return 1
      p= t= l=
      read -r p t < "$own" || [ -n "$p" ] || return 1
      [ -r "/proc/$p/stat" ] || return 1
      read -r l < "/proc/$p/stat" || return 1
      l=\${l##*) }
      set -- $l
      [ "$1" != Z ] || return 1
      shift 19
      [ "$1" = "$t" ]
    }
    n=0
    while sleep "$per"; do
      if owner_alive; then n=0; else n=$((n + 1)); fi
      if [ "$n" -ge "$miss" ]; then
        echo "cinder: no NodeManager owned this container for $((per * miss)) s: killing it" >&2
        : > "$x.orphaned"
        kill -TERM 0
        sleep "$gr"
        kill -KILL 0
      fi
    done
  ) &
fi
/bin/sh "$launch"
r=$?
echo "$r" > "$x"
kill -KILL 0
`;

/** Writes the wrapper script (atomically: a running wrapper keeps reading the file it opened); `shared`:
 * readable by containers running as other users (it holds no secret). */
export function writeWrapperScript(file: string, shared = false): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, WRAPPER, { mode: shared ? 0o755 : 0o700 });
  fs.chmodSync(tmp, shared ? 0o755 : 0o700);
  fs.renameSync(tmp, file);
}

const shQuote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** A launch script that execs argv exactly (every word single-quoted). */
export function launchScript(argv: string[]): string {
  return `exec ${argv.map(shQuote).join(' ')}\n`;
}

/** argv running a container's launch script under the exit-code wrapper (see WRAPPER). */
export function wrapCommand(o: WrapperOptions): string[] {
  const per = o.orphanKillMs > 0 ? Math.min(60, Math.max(1, Math.ceil(o.orphanKillMs / 5_000))) : 1;
  const miss = o.orphanKillMs > 0 ? Math.max(1, Math.ceil(o.orphanKillMs / 1_000 / per)) : 0;
  const grace = Math.max(1, Math.ceil(o.killGraceMs / 1_000));
  return ['/bin/sh', o.wrapperFile, o.exitFile, o.ownerFile, String(per), String(miss), String(grace), o.launchFile];
}
