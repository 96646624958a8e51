/**
 * An application's lifecycle, as a transition table, and the glue between it, its attempts
 * (attempt-lifecycle.ts) and its containers (container-lifecycle.ts).
 *
 *   status     | START      REJECT      ACCEPT        ATTEMPT_REGISTERED  ATTEMPT_UNREGISTERED  ATTEMPT_FAILED           KILL
 *   -----------+---------------------------------------------------------------------------------------------------------------
 *   NEW        | SUBMITTED  FAILED (e)  -             -                   -                     -                        KILLED (e)
 *   SUBMITTED  | -          FAILED (e)  ACCEPTED (a)  -                   -                     -                        KILLED (e)
 *   ACCEPTED   | -          -           -             RUNNING             -                     ACCEPTED (a) | FAILED (e) KILLED (e)
 *   RUNNING    | -          -           -             ignored             FINISHED (e)          ACCEPTED (a) | FAILED (e) KILLED (e)
 *   FINISHED,  | -          -           -             -                   ignored               ignored                  ignored
 *   FAILED,    |
 *   KILLED     |
 *
 * (a) a new attempt is made and scheduled (on ACCEPT, and after a failed attempt while attempts
 * remain: failures that are not the app's fault, such as a lost node, do not count);
 * (e) the app ended: every live container is killed, its nodes are told to clean up (logs, dirs),
 * its staged files are released, and it leaves the scheduler. Every ended app has a final status
 * and, unless it SUCCEEDED, a diagnostic saying why.
 */
import { appAttemptId } from '../../common/ids.js';
import { defineMachine, IGNORE, type Transition } from '../../common/machine.js';
import type { AppState } from '../../protocol/cluster.js';
import { ExitStatus, type FinalStatus } from '../../protocol/cluster.js';
import { type AttemptEvent, type AttemptOutcome, attemptLifecycle, NOT_COUNTED } from './attempt-lifecycle.js';
import { LIVE_CONTAINER, liveStaged, own, type RmBooks, type RmContainer } from './books.js';
import { type ContainerEvent, stepContainer } from './container-lifecycle.js';
import { logInfo, type RmEffect } from './rm-events.js';
import type { AppRecord, AttemptRecord } from './state-store.js';

export type AppEvent =
  | { type: 'START'; now: number }
  | { type: 'REJECT'; now: number; diagnostics: string }
  | { type: 'ACCEPT'; now: number }
  | { type: 'ATTEMPT_REGISTERED'; now: number }
  | { type: 'ATTEMPT_UNREGISTERED'; now: number; finalStatus: FinalStatus; diagnostics: string }
  | { type: 'ATTEMPT_FAILED'; now: number; attempt: AttemptRecord; exitStatus: number | undefined }
  | { type: 'KILL'; now: number; diagnostics: string };

interface Ctx {
  b: RmBooks;
  app: AppRecord;
}
type T = Transition<Ctx, RmEffect>;

/** Makes attempt n+1 and asks the scheduler for its AM container. */
export function newAttempt(b: RmBooks, app: AppRecord, now: number): RmEffect[] {
  const n = app.attempts.length + 1;
  const at: AttemptRecord = {
    attemptId: appAttemptId(app.id as never, n),
    n,
    state: 'NEW',
    amContainerId: undefined,
    nodeId: undefined,
    host: undefined,
    rpcPort: undefined,
    trackingUrl: '',
    diagnostics: '',
    startTime: now,
    finishTime: 0,
  };
  app.attempts.push(at);
  return stepAttempt(b, app, at, { type: 'SCHEDULE', now });
}

/** Kills every live container of the app (of attempt n only, when given). */
export function killContainers(b: RmBooks, appId: string, attempt: number | undefined, exit: number, why: string) {
  const effects: RmEffect[] = [];
  for (const c of [...b.containers.values()]) {
    if (c.appId !== appId || (attempt !== undefined && c.attempt !== attempt) || !LIVE_CONTAINER.has(c.state)) continue;
    for (const f of stepContainer(b, c, { type: 'KILLED', exitStatus: exit, diagnostics: why }))
      if (f.kind !== 'amContainerEnded') effects.push(f);
  }
  return effects;
}

/** The app reached a terminal state: give everything back and tell the nodes. */
function ended(x: Ctx, now: number, state: AppState, finalStatus: FinalStatus, diagnostics: string): T {
  const { app, b } = x;
  Object.assign(app, { state, finalStatus, diagnostics, finishedTime: now, progress: 1 });
  const effects = killContainers(
    b,
    app.id,
    undefined,
    ExitStatus.KILLED_AFTER_APP_COMPLETION,
    `application ${app.id} ended (${state})`,
  );
  for (const at of app.attempts) b.runtimes.delete(at.attemptId);
  b.ended.delete(app.id);
  b.scheduler.removeApp(app.id);
  for (const n of b.nodes.values()) if (app.logNodes.includes(n.nodeId)) n.pendingCleanup.add(app.id);
  app.staged = {};
  effects.push(
    { kind: 'gcStaging', live: liveStaged(b) },
    { kind: 'persist' },
    logInfo('application ended', { app: app.id, state, finalStatus, diagnostics: diagnostics || undefined }),
  );
  return { state: x, effects };
}

function accept(x: Ctx, e: { now: number }): T {
  x.app.state = 'ACCEPTED';
  x.b.scheduler.addApp(x.app.id, `root.${x.app.queue}`);
  return { state: x, effects: [...newAttempt(x.b, x.app, e.now), { kind: 'persist' }] };
}

function attemptFailed(x: Ctx, e: Extract<AppEvent, { type: 'ATTEMPT_FAILED' }>): T {
  const { app, b } = x;
  const at = e.attempt;
  const effects = killContainers(
    b,
    app.id,
    at.n,
    ExitStatus.KILLED_BY_RESOURCEMANAGER,
    `attempt ${at.attemptId} failed`,
  );
  b.scheduler.clearAsks(app.id);
  at.notCounted = e.exitStatus !== undefined && NOT_COUNTED.has(e.exitStatus);
  const used = app.attempts.filter((a) => a.state === 'FAILED' && !a.notCounted).length;
  if (used < app.maxAttempts) {
    app.state = 'ACCEPTED';
    app.diagnostics = `attempt ${at.n} failed: ${at.diagnostics}; starting attempt ${at.n + 1}`;
    effects.push(...newAttempt(x.b, x.app, e.now), { kind: 'persist' });
    return { state: x, effects };
  }
  const r = ended(
    x,
    e.now,
    'FAILED',
    'FAILED',
    `Application ${app.id} failed ${used} times (max attempts ${app.maxAttempts}); last attempt: ${at.diagnostics}`,
  );
  return { state: x, effects: [...effects, ...r.effects] };
}

function kill(x: Ctx, e: { now: number; diagnostics: string }): T {
  const at = x.app.attempts[x.app.attempts.length - 1];
  const effects = at ? stepAttempt(x.b, x.app, at, { type: 'KILL', now: e.now }) : [];
  const r = ended(x, e.now, 'KILLED', 'KILLED', e.diagnostics);
  return { state: x, effects: [...effects, ...r.effects] };
}

const terminal = { ATTEMPT_UNREGISTERED: IGNORE, ATTEMPT_FAILED: IGNORE, KILL: IGNORE } as const;

export const appLifecycle = defineMachine<AppState, Ctx, AppEvent, RmEffect>({
  name: 'application',
  statuses: ['NEW', 'SUBMITTED', 'ACCEPTED', 'RUNNING', 'FINISHED', 'FAILED', 'KILLED'],
  status: (x) => x.app.state,
  moveTo: (x, k) => {
    x.app.state = k;
    return x;
  },
  subject: (x) => x.app.id,
  table: {
    NEW: {
      START: 'SUBMITTED',
      REJECT: (x, e) => ended(x, e.now, 'FAILED', 'FAILED', e.diagnostics),
      KILL: kill,
    },
    SUBMITTED: {
      ACCEPT: accept,
      REJECT: (x, e) => ended(x, e.now, 'FAILED', 'FAILED', e.diagnostics),
      KILL: kill,
    },
    ACCEPTED: {
      ATTEMPT_REGISTERED: (x) => {
        Object.assign(x.app, { state: 'RUNNING', diagnostics: '' });
        return { state: x, effects: [{ kind: 'persist' }] };
      },
      ATTEMPT_FAILED: attemptFailed,
      KILL: kill,
    },
    RUNNING: {
      ATTEMPT_REGISTERED: IGNORE, // re-registration after an RM restart
      ATTEMPT_UNREGISTERED: (x, e) => ended(x, e.now, 'FINISHED', e.finalStatus, e.diagnostics),
      ATTEMPT_FAILED: attemptFailed,
      KILL: kill,
    },
    FINISHED: terminal,
    FAILED: terminal,
    KILLED: terminal,
  },
});

export function stepApp(b: RmBooks, app: AppRecord, e: AppEvent): RmEffect[] {
  return appLifecycle.step({ b, app }, e).effects;
}

/** Steps an attempt and lets its application act on how it ended. */
export function stepAttempt(b: RmBooks, app: AppRecord, at: AttemptRecord, e: AttemptEvent): RmEffect[] {
  const out: RmEffect[] = [];
  for (const f of attemptLifecycle.step({ b, app, at }, e).effects) {
    if (!isOutcome(f)) out.push(f);
    else if (f.kind === 'attemptFailed')
      out.push(
        ...stepApp(b, app, { type: 'ATTEMPT_FAILED', now: e.now, attempt: f.attempt, exitStatus: f.exitStatus }),
      );
    else
      out.push(
        ...stepApp(b, app, {
          type: 'ATTEMPT_UNREGISTERED',
          now: e.now,
          finalStatus: f.finalStatus,
          diagnostics: f.diagnostics,
        }),
      );
  }
  return out;
}

function isOutcome(f: RmEffect | AttemptOutcome): f is AttemptOutcome {
  return f.kind === 'attemptFailed' || f.kind === 'attemptUnregistered';
}

/** Steps a container; an AM container that ended fails its attempt (unless the attempt already ended). */
export function stepContainerOf(b: RmBooks, c: RmContainer, e: ContainerEvent, now: number): RmEffect[] {
  const out: RmEffect[] = [];
  for (const f of stepContainer(b, c, e)) {
    if (f.kind !== 'amContainerEnded') {
      out.push(f);
      continue;
    }
    out.push(...amContainerEnded(b, f.appId, f.attempt, f.containerId, f.exitStatus, f.diagnostics, c.nodeId, now));
  }
  return out;
}

/** An AM container is gone (reported, lost with its node, or expired): its attempt fails. */
export function amContainerEnded(
  b: RmBooks,
  appId: string,
  attempt: number,
  containerId: string,
  exitStatus: number,
  diagnostics: string,
  nodeId: string,
  now: number,
): RmEffect[] {
  const app = own(b.state.apps, appId);
  const at = app?.attempts.find((a) => a.n === attempt);
  if (
    !app ||
    !at ||
    at.amContainerId !== containerId ||
    !attemptLifecycle.accepts({ b, app, at }, { type: 'CONTAINER_FINISHED', now, exitStatus, diagnostics })
  )
    return [];
  return stepAttempt(b, app, at, {
    type: 'CONTAINER_FINISHED',
    now,
    exitStatus,
    diagnostics: `AM container ${containerId} on ${nodeId} exited with status ${exitStatus}${diagnostics ? `: ${diagnostics}` : ''}`,
  });
}
