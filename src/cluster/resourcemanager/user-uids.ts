/**
 * Container uids follow the submitting user, cluster-wide (YARN's LinuxContainerExecutor runs an app's
 * containers as the user who submitted it). The RM gives every user who submits an unprivileged uid of
 * their own from its containerUidRange, the lowest free one, on first submission, keeps it for good in
 * <rm dir>/container-uids.json (0600, rewritten atomically), and carries it in every container token of
 * the user's apps. So every NodeManager runs one user's containers as the same uid, two NMs on one host
 * never give one uid to two users, and a user's later apps can replace what earlier ones wrote.
 * Pure assignment (assignUid) plus a small file shell.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CinderError } from '../../common/errors.js';
import { parseUidRange } from '../nodemanager/isolation.js';

export type UidMap = Record<string, number>;

/** The user's uid in map, or the lowest uid of lo..hi nobody holds; `added` when it is new. */
export function assignUid(map: UidMap, user: string, lo: number, hi: number): { uid: number; added: boolean } {
  if (Object.hasOwn(map, user)) return { uid: map[user]!, added: false };
  const used = new Set(Object.values(map));
  for (let u = lo; u <= hi; u++) if (!used.has(u)) return { uid: u, added: true };
  throw new CinderError(
    'NO_CONTAINER_UID',
    `no free container uid in ${lo}-${hi}: ${used.size} users hold one, so ${user}'s containers have none to run as`,
    'widen containerUidRange on the ResourceManager and the NodeManagers',
  );
}

export class UserUids {
  private readonly file: string;
  private readonly range: { lo: number; hi: number } | undefined;
  private map: UidMap;

  constructor(rmDir: string, rangeSpec: string) {
    this.range = parseUidRange(rangeSpec);
    this.file = path.join(rmDir, 'container-uids.json');
    this.map = fs.existsSync(this.file) ? (JSON.parse(fs.readFileSync(this.file, 'utf8')) as UidMap) : {};
  }

  /** The user's container uid (assigned and persisted on first use); undefined when the RM assigns none. */
  of(user: string): number | undefined {
    if (!this.range) return undefined;
    const r = assignUid(this.map, user, this.range.lo, this.range.hi);
    if (r.added) {
      this.map = { ...this.map, [user]: r.uid };
      const tmp = `${this.file}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(this.map), { mode: 0o600 });
      fs.renameSync(tmp, this.file);
    }
    return r.uid;
  }
}
