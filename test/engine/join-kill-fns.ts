// Task-side functions of join-kill.test.ts (imported, so they are shipped to executors with the
// closures that call them). Marker files in `dir` record which process ran which partition how often,
// and elect the one task that kills an executor, so the story is the same on every run.
import fs from 'node:fs';
import path from 'node:path';

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function names(dir: string, prefix: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.startsWith(prefix));
}

function waitUntil(cond: () => boolean, ms: number): boolean {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    sleep(20);
  }
  return true;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True for the first caller only (an O_EXCL marker). */
function claim(dir: string, name: string): boolean {
  try {
    fs.writeFileSync(path.join(dir, name), String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Records a run of partition i of one join side ("<side>-<i>-<run>-<pid>") and returns its run number.
 * On their first run the two partitions of a side wait for each other, so they run in both executors
 * (one task slot each): each executor then holds a map output of each side.
 */
function begin(dir: string, side: string, i: number): number {
  const run = names(dir, `${side}-${i}-`).length;
  fs.writeFileSync(path.join(dir, `${side}-${i}-${run}-${process.pid}`), '');
  if (run === 0)
    waitUntil(
      () =>
        new Set(names(dir, `${side}-`).flatMap((n) => (n.split('-')[2] === '0' ? [n.split('-')[3]] : []))).size >= 2,
      10_000,
    );
  return run;
}

/** Side A. Its recompute (second run) waits until side B has recomputed, then kills B's executor. */
export function sideA(dir: string, i: number, rows: number[]): Array<[number, number]> {
  const run = begin(dir, 'a', i);
  if (run === 1 && claim(dir, 'killer')) {
    if (!waitUntil(() => names(dir, 'bdone-').length > 0, 30_000)) fs.writeFileSync(path.join(dir, 'no-bdone'), '');
    else {
      const pid = Number(names(dir, 'bdone-')[0]!.split('-')[1]);
      sleep(1500); // B's result reaches the driver: B's stage is complete again
      fs.writeFileSync(path.join(dir, `killed-${pid}`), '');
      process.kill(pid, 'SIGKILL');
      // the driver notices the loss before this task's result arrives
      if (pid !== process.pid) waitUntil(() => !alive(pid), 10_000);
      sleep(1000);
    }
  }
  return rows.map((x) => [x % 50, x]);
}

/** Side B. Its recompute leaves "bdone-<pid>" when it has computed its rows. */
export function sideB(dir: string, i: number, rows: number[]): Array<[number, string]> {
  const run = begin(dir, 'b', i);
  const out = rows.map((y) => [y % 50, `b${y}`] as [number, string]);
  if (run === 1) fs.writeFileSync(path.join(dir, `bdone-${process.pid}`), '');
  return out;
}

/** The reduce side: the first run of partition 0 SIGKILLs its own executor. */
export function reduceSide<T>(dir: string, i: number, rows: T[]): T[] {
  if (i === 0 && claim(dir, 'reduce-kill')) process.kill(process.pid, 'SIGKILL');
  return rows;
}
