/**
 * PySpark's job groups, job tags and local properties. In Spark they belong to the thread that starts
 * the jobs; Node's equivalent is the async flow: a setting made in an HTTP request's handler applies to
 * the jobs that handler (and what it awaits or schedules) starts, not to other requests' (an
 * AsyncLocalStorage, entered with copy-on-write so a flow never changes its parent's settings).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { CinderError } from '../common/errors.js';
import type { JobProps } from '../scheduler/dag-scheduler.js';

export interface LocalProps {
  readonly group?: string | undefined;
  readonly description?: string | undefined;
  readonly interruptOnCancel?: boolean | undefined;
  readonly tags: ReadonlySet<string>;
  readonly props: Readonly<Record<string, string>>;
}

const EMPTY: LocalProps = { tags: new Set(), props: {} };
const local = new AsyncLocalStorage<LocalProps>();

export function localProps(): LocalProps {
  return local.getStore() ?? EMPTY;
}

/** Replaces the current flow's settings with a changed copy. */
export function changeLocalProps(change: (p: LocalProps) => Partial<LocalProps>): void {
  const cur = localProps();
  local.enterWith({ ...cur, ...change(cur) });
}

/** What a job started now carries for cancellation. */
export function jobProps(): JobProps {
  const p = localProps();
  return { group: p.group, tags: [...p.tags] };
}

/** Spark's rule for tags: not empty, no comma (tags are joined with commas in listener events). */
export function checkTag(tag: unknown, what: string): string {
  if (typeof tag !== 'string')
    throw new CinderError('BAD_ARGUMENT', `${what}: a job tag must be a string, got ${typeof tag}`);
  if (tag === '') throw new CinderError('BAD_ARGUMENT', `${what}: a job tag cannot be an empty string`);
  if (tag.includes(',')) throw new CinderError('BAD_ARGUMENT', `${what}: a job tag cannot contain ',' (got '${tag}')`);
  return tag;
}

export function jobCancelled(jobId: number, why: string): CinderError {
  return new CinderError('JOB_CANCELLED', `job ${jobId} cancelled ${why}`);
}
