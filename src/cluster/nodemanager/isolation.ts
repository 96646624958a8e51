/**
 * Who a container runs as (YARN's container executors). When the NodeManager runs as root and
 * containerUidRange is set (the default), every container runs as the unprivileged uid (and the same
 * gid) the RM gave its submitting user, carried in its container token (LinuxContainerExecutor-like:
 * user-uids.ts); its work and log dirs are owned by that uid with mode 0700, so another user's tasks
 * cannot read them, nor its processes' /proc/PID/environ. On this node the owner of <dir>/work/<appId>
 * is the record, so a restarted NM finds the uids of the apps whose containers it reacquires. Otherwise
 * containers run as the NM's own user, not isolated (DefaultContainerExecutor). Owns the app -> uid
 * records of this node and the ownership of app dirs only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CinderError } from '../../common/errors.js';

export interface AppIdentity {
  uid: number;
  gid: number;
}

/** The range `auto` stands for. */
export const AUTO_UID_RANGE = { lo: 20000, hi: 29999 };

/** Parses "LO-HI" (inclusive); "none" or "" disables isolation; "auto" is AUTO_UID_RANGE, isolating when it can. */
export function parseUidRange(spec: string): { lo: number; hi: number; auto?: true } | undefined {
  if (spec === '' || spec === 'none') return undefined;
  if (spec === 'auto') return { ...AUTO_UID_RANGE, auto: true };
  const m = /^(\d+)-(\d+)$/.exec(spec);
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2]);
  if (!m || lo < 1000 || hi < lo || hi > 2 ** 31 - 2)
    throw new CinderError(
      'BAD_CONFIG',
      `containerUidRange ${JSON.stringify(spec)} is not a range of unprivileged uids`,
      'use LO-HI with 1000 <= LO <= HI (e.g. 20000-29999), auto (20000-29999 when it can isolate), or none to run containers as the NodeManager user',
    );
  return { lo, hi };
}

/** The first ancestor of dir (or dir itself) that a user other than its owner cannot traverse. */
export function untraversableAncestor(dir: string): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const st = fs.statSync(d, { throwIfNoEntry: false });
    if (st && (st.mode & 0o001) === 0) return d;
    if (d === path.dirname(d)) return undefined;
  }
}

/**
 * The uid of each application with containers on this node: the one its container tokens carry (the RM
 * gives it to the submitting user, user-uids.ts), checked against this node's range. Apps of one user
 * share it; it is forgotten here when the app is cleaned up.
 */
export class AppUids {
  private readonly byApp = new Map<string, number>();

  constructor(
    private readonly lo: number,
    private readonly hi: number,
  ) {}

  /** Records the app's uid from a container token; refuses a missing, out-of-range or changed one. */
  assign(appId: string, uid: number | undefined): AppIdentity {
    if (uid === undefined)
      throw new CinderError(
        'NO_CONTAINER_UID',
        `the container token of ${appId} carries no uid, but this NodeManager runs containers as their user's uid (${this.lo}-${this.hi})`,
        'set the same containerUidRange on the ResourceManager and the NodeManagers (none on both: not isolated)',
      );
    if (uid < this.lo || uid > this.hi)
      throw new CinderError(
        'BAD_CONTAINER_UID',
        `the container token of ${appId} carries uid ${uid}, outside this NodeManager's containerUidRange ${this.lo}-${this.hi}`,
        'set the same containerUidRange on the ResourceManager and the NodeManagers',
      );
    const had = this.byApp.get(appId);
    if (had !== undefined && had !== uid)
      throw new CinderError('BAD_CONTAINER_UID', `${appId} runs as uid ${had} on this node, not ${uid}`);
    this.byApp.set(appId, uid);
    return { uid, gid: uid };
  }

  /** Records an allocation found on disk (NM restart); false when the uid is outside the range. */
  adopt(appId: string, uid: number): boolean {
    if (uid < this.lo || uid > this.hi || this.byApp.has(appId)) return this.byApp.get(appId) === uid;
    this.byApp.set(appId, uid);
    return true;
  }

  release(appId: string): void {
    this.byApp.delete(appId);
  }

  get(appId: string): AppIdentity | undefined {
    const uid = this.byApp.get(appId);
    return uid === undefined ? undefined : { uid, gid: uid };
  }

  /** appId -> uid, for tests and logs. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.byApp);
  }
}

/** Makes dir (and missing parents, root-owned 0711) and gives it to id with mode 0700. */
export function ownedDir(dir: string, id: AppIdentity | undefined): void {
  fs.mkdirSync(dir, { recursive: true, mode: id ? 0o700 : 0o750 });
  if (!id) return;
  fs.chownSync(dir, id.uid, id.gid);
  fs.chmodSync(dir, 0o700);
}

/** Gives an existing file to id (no-op when not isolating). */
export function own(file: string, id: AppIdentity | undefined, mode?: number): void {
  if (!id) return;
  fs.chownSync(file, id.uid, id.gid);
  if (mode !== undefined) fs.chmodSync(file, mode);
}
