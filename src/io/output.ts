/**
 * Output commit protocol (Hadoop FileOutputCommitter v1-like) for text output on a shared file system.
 * Owns the directory layout and the atomic steps; it must not decide *which* attempt may commit (the driver's
 * scheduler does) nor format records (formats.ts).
 *
 *   prepareOutput (driver)      dir/ + dir/_temporary/
 *   writeTaskOutput (executor)  dir/_temporary/<attemptId>/part-NNNNN[.gz]
 *   commitTask (executor)       hard-link into dir/part-NNNNN (fails if present: the first commit wins), unlink temp
 *   commitJob (driver)          all parts present -> remove _temporary -> write _SUCCESS
 *   abortJob (driver)           remove _temporary, part files and _SUCCESS; remove dir if it is then empty
 *
 * Every step is safe with several processes at once: a partition's final file appears atomically (link(2) or
 * an O_EXCL claim + rename(2)), and a task attempt cannot recreate _temporary after the job committed or aborted.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { CinderError } from '../common/errors.js';

export const TEMP_DIR = '_temporary';
export const SUCCESS_MARKER = '_SUCCESS';
/** in _temporary: the application (and attempt) writing the directory */
const OWNER_FILE = '.owner';

/** Who writes an output directory: an application, and which attempt of its main (cluster mode re-runs it). */
export interface OutputOwner {
  app: string;
  attempt: string;
}

/** True when dir holds no committed output and an earlier attempt of the same application was writing it. */
async function leftByEarlierAttempt(dir: string, owner: OutputOwner): Promise<boolean> {
  if (
    await fsp.stat(path.join(dir, SUCCESS_MARKER)).then(
      () => true,
      () => false,
    )
  )
    return false;
  return earlierAttempt(await readOwner(path.join(dir, TEMP_DIR, OWNER_FILE)), owner);
}

async function readOwner(file: string): Promise<OutputOwner | undefined> {
  const text = await fsp.readFile(file, 'utf8').catch(() => '');
  try {
    return text ? (JSON.parse(text) as OutputOwner) : undefined;
  } catch {
    return undefined;
  }
}

function earlierAttempt(was: OutputOwner | undefined, now: OutputOwner): boolean {
  return was?.app === now.app && was.attempt !== now.attempt;
}
/**
 * The uid/gid this application's executors run as when it is not the driver's (client mode on a cluster
 * whose NodeManagers run containers as the submitting user's uid): prepareOutput hands them the output
 * directory. Set by the cluster backend from what its AM reports.
 */
let executorUser: { uid: number; gid: number } | undefined;
export function setExecutorUser(id: { uid: number; gid: number } | undefined): void {
  executorUser = id;
}

/** The first ancestor of dir that id may not search (owner, group, other bits), or undefined. */
async function unsearchableBy(dir: string, id: { uid: number; gid: number }): Promise<string | undefined> {
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    const st = await fsp.stat(d).catch(() => undefined);
    const bit = !st ? 0 : st.uid === id.uid ? 0o100 : st.gid === id.gid ? 0o010 : 0o001;
    if (st && (st.mode & bit) === 0) return d;
    if (d === path.dirname(d)) return undefined;
  }
}

/** Client mode with executors of another uid: they must reach dir and get it (only a root driver can give it). */
async function handToExecutors(dir: string, created: string[]): Promise<void> {
  const id = executorUser;
  if (!id) return;
  const fail = async (why: string, fix: string) => {
    await fsp.rm(path.join(dir, TEMP_DIR), RM_OPTS);
    await removeCreated(created);
    return Promise.reject(new CinderError('OUTPUT_NOT_WRITABLE_BY_APP', `Cannot write output ${dir}: ${why}`, fix));
  };
  const blocked = await unsearchableBy(dir, id);
  const runs = `this application's executors run as uid ${id.uid} (the cluster runs containers as their submitting user's uid)`;
  if (blocked)
    return fail(
      `${runs} and cannot enter ${blocked}`,
      `chmod o+x ${blocked}, or write under a directory others can enter (e.g. /tmp, /var/tmp)`,
    );
  if (process.getuid?.() === 0) {
    // the output is written as the application's user, as in cluster mode
    for (const p of [dir, path.join(dir, TEMP_DIR), path.join(dir, TEMP_DIR, OWNER_FILE)])
      await fsp.chown(p, id.uid, id.gid).catch((e) => (errno(e) === 'ENOENT' ? undefined : Promise.reject(e)));
    return;
  }
  // a driver that is not root cannot give the dir away, and a dir others may write would let anyone in
  return fail(
    `${runs}, and this driver (uid ${process.getuid?.()}) cannot give them ${dir}`,
    'submit in cluster mode (the driver then runs as that uid too), or run the client as root',
  );
}
const WRITE_CHUNK = 1024 * 1024;
const RM_OPTS = { recursive: true, force: true, maxRetries: 5, retryDelay: 20 } as const;

/** part-00007 (5 digits, more when needed, like Hadoop). */
export function partName(partition: number): string {
  return `part-${String(partition).padStart(5, '0')}`;
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/**
 * Driver, before any task runs: refuses an existing `dir` unless `overwrite`, in which case the old one is removed;
 * then creates `dir/_temporary`. An unusable location (read-only file system, permission denied, a path through a
 * regular file, a full device) fails here with a CinderError naming the deepest existing ancestor, and leaves
 * nothing behind.
 * @example await prepareOutput('/out/wordcount', false);
 */
export async function prepareOutput(
  dir: string,
  overwrite: boolean,
  owner?: OutputOwner,
): Promise<'ready' | 'committed-earlier'> {
  const exists = await fsp.lstat(dir).then(
    () => true,
    // ENOTDIR / EACCES: makeDirs below finds the file in the way or the directory we may not write to
    (e) => (['ENOENT', 'ENOTDIR', 'EACCES'].includes(errno(e) ?? '') ? false : Promise.reject(e)),
  );
  if (
    exists &&
    owner !== undefined &&
    !overwrite &&
    earlierAttempt(await readOwner(path.join(dir, SUCCESS_MARKER)), owner)
  )
    // an earlier attempt of this application committed it before its AM died: main runs again, the output stands
    return 'committed-earlier';
  if (exists && owner !== undefined && (await leftByEarlierAttempt(dir, owner))) {
    // an earlier attempt of this very application (its AM died and main runs again) left it uncommitted:
    // take it over, as a restarted MapReduce AM cleans up its own job's temporary output
    await fsp
      .rm(dir, RM_OPTS)
      .catch((e) => Promise.reject(outputLocationError(e, dir, dir, 'replace output directory')));
  } else if (exists) {
    if (!overwrite) {
      throw new CinderError(
        'OUTPUT_EXISTS',
        `Output directory ${dir} already exists`,
        'choose another output path, delete it, or pass overwrite: true',
      );
    }
    await fsp
      .rm(dir, RM_OPTS)
      .catch((e) => Promise.reject(outputLocationError(e, dir, dir, 'replace output directory')));
  }
  const created = await makeDirs(dir, path.join(dir, TEMP_DIR));
  if (owner !== undefined)
    await fsp.writeFile(path.join(dir, TEMP_DIR, OWNER_FILE), JSON.stringify(owner)).catch(() => {});
  await handToExecutors(dir, created);
  const space = await fsp.statfs(dir).catch(() => undefined);
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (space && (root ? space.bfree : space.bavail) === 0) {
    await removeCreated(created);
    throw outputLocationError(codeError('ENOSPC'), dir, created.length > 0 ? path.dirname(created[0]!) : dir);
  }
  return 'ready';
}

/**
 * Creates `target` and its missing ancestors one level at a time, so that a failure reports its real cause
 * (Node's recursive mkdir turns EROFS or EACCES under a missing level into ENOENT). Returns what it created;
 * on failure removes it again and throws outputLocationError.
 */
async function makeDirs(dir: string, target: string): Promise<string[]> {
  const missing: string[] = [];
  let p = target;
  for (;;) {
    // EACCES: an ancestor is not searchable; going up finds the deepest one that is
    const st = await fsp
      .stat(p)
      .catch((e) => (['ENOENT', 'ENOTDIR', 'EACCES'].includes(errno(e) ?? '') ? undefined : Promise.reject(e)));
    if (st) {
      if (!st.isDirectory()) throw outputLocationError(codeError('ENOTDIR'), dir, p);
      break;
    }
    const up = path.dirname(p);
    if (up === p) break;
    missing.unshift(p);
    p = up;
  }
  const created: string[] = [];
  for (const m of missing) {
    try {
      await fsp.mkdir(m);
      created.push(m);
    } catch (e) {
      if (errno(e) === 'EEXIST') continue; // made meanwhile by someone else
      await removeCreated(created);
      throw outputLocationError(e, dir, path.dirname(m));
    }
  }
  return created;
}

async function removeCreated(created: string[]): Promise<void> {
  for (const c of [...created].reverse()) await fsp.rmdir(c).catch(() => {});
}

function codeError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

/**
 * A CinderError saying what is wrong with an output location and where: `dir` is the output asked for,
 * `at` the deepest existing directory (or the file in the way). Errors it does not know are returned as they are.
 */
export function outputLocationError(e: unknown, dir: string, at: string, what = 'create output directory'): Error {
  const code = errno(e);
  const asked = `Cannot ${what} ${dir}`;
  switch (code) {
    case 'EROFS':
      return new CinderError(
        'OUTPUT_READ_ONLY',
        `${asked}: ${at} is on a read-only file system (EROFS)`,
        `write the output to a writable file system; \`findmnt -T ${at}\` shows how it is mounted`,
      );
    case 'EACCES':
    case 'EPERM':
      return new CinderError(
        'OUTPUT_PERMISSION_DENIED',
        `${asked}: permission denied in ${at} (${code})`,
        `choose a directory this user (uid ${process.getuid?.()}${process.env.CINDER_CONTAINER_ID ? ": the cluster runs this application's containers as its submitting user's uid" : ''}) can write to, or fix the permissions of ${at} (\`ls -ld ${at}\`)`,
      );
    case 'ENOTDIR':
      return new CinderError(
        'OUTPUT_NOT_A_DIRECTORY',
        `${asked}: ${at} is not a directory`,
        'an output path cannot go through a regular file; choose another path or move the file away',
      );
    case 'ENOSPC':
    case 'EDQUOT':
      return new CinderError(
        'OUTPUT_NO_SPACE',
        `${asked}: no space left on the device of ${at} (${code === 'EDQUOT' ? 'disk quota exceeded' : 'ENOSPC'})`,
        `free space there (\`df -h ${at}\`) or write the output to another file system`,
      );
    default:
      return e as Error;
  }
}

function checkAttemptId(attemptId: string): void {
  if (!/^[A-Za-z0-9._-]+$/.test(attemptId) || attemptId === '.' || attemptId === '..') {
    throw new CinderError(
      'BAD_ARGUMENT',
      `Invalid task attempt id '${attemptId}' for an output directory name`,
      'use letters, digits, ".", "_" and "-" only',
    );
  }
}

/** Joins batches into ~1 MiB newline-terminated chunks: one write per MiB, not per line. */
async function* chunks(batches: AsyncIterable<string[]>): AsyncIterable<Buffer> {
  let pending: string[] = [];
  let size = 0;
  for await (const batch of batches) {
    if (batch.length === 0) continue;
    const s = `${batch.join('\n')}\n`;
    pending.push(s);
    size += s.length;
    if (size >= WRITE_CHUNK) {
      yield Buffer.from(pending.join(''), 'utf8');
      pending = [];
      size = 0;
    }
  }
  if (pending.length > 0) yield Buffer.from(pending.join(''), 'utf8');
}

/**
 * Executor: writes one task attempt's lines (each terminated by `\n`) to its private temp file and returns its path.
 * Fails with OUTPUT_JOB_GONE if the job already committed or aborted (no `_temporary`).
 * @example const tmp = await writeTaskOutput(dir, 3, 'attempt_3_0', batches, { compress: 'gzip' });
 */
export async function writeTaskOutput(
  dir: string,
  partition: number,
  attemptId: string,
  batches: AsyncIterable<string[]>,
  opts: { compress?: 'gzip' } = {},
): Promise<string> {
  checkAttemptId(attemptId);
  const attemptDir = path.join(dir, TEMP_DIR, attemptId);
  const what = `write partition ${partition} of`;
  try {
    await fsp.mkdir(attemptDir); // not recursive: a missing _temporary means the job is over
  } catch (e) {
    if (errno(e) === 'ENOENT') throw jobGone(dir, partition);
    if (errno(e) !== 'EEXIST') throw outputLocationError(e, dir, path.join(dir, TEMP_DIR), what);
  }
  const temp = path.join(attemptDir, partName(partition) + (opts.compress === 'gzip' ? '.gz' : ''));
  const src = Readable.from(chunks(batches));
  const sink = fs.createWriteStream(temp);
  try {
    if (opts.compress === 'gzip') await pipeline(src, zlib.createGzip({ chunkSize: WRITE_CHUNK }), sink);
    else await pipeline(src, sink);
  } catch (e) {
    await fsp.rm(temp, { force: true });
    if (errno(e) === 'ENOENT') throw jobGone(dir, partition);
    throw outputLocationError(e, dir, attemptDir, what);
  }
  return temp;
}

function jobGone(dir: string, partition: number): CinderError {
  return new CinderError(
    'OUTPUT_JOB_GONE',
    `Cannot write partition ${partition} of ${dir}: the output job already committed or aborted`,
    'this is a late (zombie or speculative) task attempt; its output is not needed',
  );
}

/**
 * Executor: moves a finished attempt's file to `dir/part-NNNNN[.gz]`. Returns true if this attempt's file is now the
 * partition's output, false if another attempt committed first (this one's file is then discarded). Safe to call
 * from several processes at once: exactly one wins.
 */
export async function commitTask(dir: string, partition: number, tempPath: string): Promise<boolean> {
  const base = path.basename(tempPath);
  if (base !== partName(partition) && base !== `${partName(partition)}.gz`) {
    throw new CinderError(
      'BAD_ARGUMENT',
      `Temp file ${tempPath} is not the output of partition ${partition}`,
      'pass the path returned by writeTaskOutput for the same partition',
    );
  }
  const final = path.join(dir, base);
  try {
    await fsp.link(tempPath, final); // atomic create-if-absent: EEXIST means another attempt won
  } catch (e) {
    const code = errno(e);
    if (code === 'EEXIST') {
      await fsp.rm(tempPath, { force: true });
      return false;
    }
    if (code === 'ENOENT') {
      if (await exists(final)) return false; // already committed (by this attempt's earlier call or another)
      throw new CinderError(
        'OUTPUT_TASK_LOST',
        `Cannot commit partition ${partition}: ${tempPath} is gone (job aborted/committed, or already committed)`,
        'rerun the task attempt',
      );
    }
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS' || code === 'EXDEV') {
      return commitByClaim(dir, partition, tempPath, final);
    }
    throw e;
  }
  await fsp.rm(tempPath, { force: true });
  return true;
}

/** For file systems without hard links: an O_EXCL claim file decides the winner, which then renames. */
async function commitByClaim(dir: string, partition: number, tempPath: string, final: string): Promise<boolean> {
  const claim = path.join(dir, TEMP_DIR, `.commit-${partName(partition)}`);
  try {
    await (await fsp.open(claim, 'wx')).close();
  } catch (e) {
    if (errno(e) === 'EEXIST') {
      await fsp.rm(tempPath, { force: true });
      return false;
    }
    throw e;
  }
  await fsp.rename(tempPath, final);
  return true;
}

async function exists(p: string): Promise<boolean> {
  return fsp.access(p).then(
    () => true,
    () => false,
  );
}

/**
 * Driver, after every partition's task committed: checks all parts exist, removes `_temporary`, writes `_SUCCESS`.
 * @example await commitJob('/out/wordcount', 8);
 */
export async function commitJob(dir: string, numPartitions: number, owner?: OutputOwner): Promise<void> {
  const missing: number[] = [];
  for (let p = 0; p < numPartitions; p++) {
    const n = partName(p);
    if (!(await exists(path.join(dir, n))) && !(await exists(path.join(dir, `${n}.gz`)))) missing.push(p);
  }
  if (missing.length > 0) {
    const list = missing.slice(0, 10).join(', ') + (missing.length > 10 ? `, … (${missing.length} in all)` : '');
    throw new CinderError(
      'OUTPUT_INCOMPLETE',
      `Cannot commit output ${dir}: partitions ${list} have no committed part file`,
      'a task committed nowhere or its file was removed; abort the job and run it again',
    );
  }
  await fsp.rm(path.join(dir, TEMP_DIR), RM_OPTS);
  // the marker names who committed, so a later attempt of the same application can tell its output stands
  await fsp.writeFile(path.join(dir, SUCCESS_MARKER), owner ? JSON.stringify(owner) : '');
  if (executorUser && process.getuid?.() === 0)
    await fsp.chown(path.join(dir, SUCCESS_MARKER), executorUser.uid, executorUser.gid);
}

/**
 * Driver, when the job failed: removes `_temporary`, committed part files and any `_SUCCESS`; removes `dir` itself
 * if nothing else is left, so the same path can be used again.
 */
export async function abortJob(dir: string): Promise<void> {
  await fsp.rm(path.join(dir, TEMP_DIR), RM_OPTS);
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (e) {
    if (errno(e) === 'ENOENT') return;
    throw e;
  }
  await Promise.all(
    names
      .filter((n) => /^part-\d+(\.gz)?$/.test(n) || n === SUCCESS_MARKER)
      .map((n) => fsp.rm(path.join(dir, n), { force: true })),
  );
  await fsp.rmdir(dir).catch(() => {}); // not empty (user files) or already gone: leave it
}
