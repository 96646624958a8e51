/**
 * Who a container runs as (YARN's container executors). When the NodeManager runs as root and
 * containerUidRange is set, every application gets an unprivileged uid (and the same gid) of its own
 * from the range, allocated when its first container starts here and released when its dirs are
 * deleted (LinuxContainerExecutor-like); its work and log dirs are owned by that uid with mode 0700, so
 * another app's tasks cannot read them, nor its processes' /proc/PID/environ. The allocation is not
 * stored anywhere else: the owner of <dir>/work/<appId> is the record, so a restarted NM finds the uids
 * of the apps whose containers it reacquires. Otherwise containers run as the NM's own user, not
 * isolated (DefaultContainerExecutor). Owns the uid pool and the ownership of app dirs only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CinderError } from '../../common/errors.js';

export interface AppIdentity {
  uid: number;
  gid: number;
}

/** Parses "LO-HI" (inclusive); "none" or "" disables isolation. */
export function parseUidRange(spec: string): { lo: number; hi: number } | undefined {
  if (spec === '' || spec === 'none') return undefined;
  const m = /^(\d+)-(\d+)$/.exec(spec);
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2]);
  if (!m || lo < 1000 || hi < lo || hi > 2 ** 31 - 2)
    throw new CinderError(
      'BAD_CONFIG',
      `containerUidRange ${JSON.stringify(spec)} is not a range of unprivileged uids`,
      'use LO-HI with 1000 <= LO <= HI (e.g. 20000-29999), or none to run containers as the NodeManager user',
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

export class UidPool {
  private readonly byApp = new Map<string, number>();
  private readonly used = new Set<number>();

  constructor(
    private readonly lo: number,
    private readonly hi: number,
  ) {}

  /** The app's uid, allocating the lowest free one. */
  acquire(appId: string): AppIdentity {
    let uid = this.byApp.get(appId);
    if (uid === undefined) {
      for (let u = this.lo; u <= this.hi; u++)
        if (!this.used.has(u)) {
          uid = u;
          break;
        }
      if (uid === undefined)
        throw new CinderError(
          'NO_CONTAINER_UID',
          `no free container uid in ${this.lo}-${this.hi}: ${this.used.size} applications hold one on this node`,
          'widen containerUidRange',
        );
      this.byApp.set(appId, uid);
      this.used.add(uid);
    }
    return { uid, gid: uid };
  }

  /** Records an allocation found on disk (NM restart); false when the uid is outside the range or taken. */
  adopt(appId: string, uid: number): boolean {
    if (uid < this.lo || uid > this.hi) return false;
    if (this.byApp.get(appId) === uid) return true;
    if (this.used.has(uid) || this.byApp.has(appId)) return false;
    this.byApp.set(appId, uid);
    this.used.add(uid);
    return true;
  }

  release(appId: string): void {
    const uid = this.byApp.get(appId);
    if (uid === undefined) return;
    this.byApp.delete(appId);
    this.used.delete(uid);
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
