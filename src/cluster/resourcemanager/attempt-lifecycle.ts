/**
 * An application attempt's lifecycle (one AM container's life), as a transition table.
 *
 *   status     | SCHEDULE   CONTAINER_ALLOCATED  LAUNCHED  LAUNCH_FAILED  REGISTERED  UNREGISTERED  CONTAINER_FINISHED  EXPIRE  KILL
 *   -----------+-------------------------------------------------------------------------------------------------------------------
 *   NEW        | SCHEDULED  -                    -         -              -           -             -                   -       KILLED
 *   SCHEDULED  | -          ALLOCATED (l)        -         -              -           -             -                   -       KILLED
 *   ALLOCATED  | -          -                    LAUNCHED  FAILED (f)     RUNNING     -             FAILED (f)          FAILED  KILLED
 *   LAUNCHED   | -          -                    ignored   ignored        RUNNING     -             FAILED (f)          FAILED  KILLED
 *   RUNNING    | -          -                    ignored   ignored        RUNNING (u) FINISHED (d)  FAILED (f)          FAILED  KILLED
 *   FINISHED   | -          -                    -         ignored        -           ignored       ignored             ignored ignored
 *   FAILED     | -          -                    -         ignored        -           -             ignored             ignored ignored
 *   KILLED     | -          -                    -         ignored        -           -             ignored             ignored ignored
 *
 * (l) asks the AM's node to launch it (effect launchAm) and opens the attempt's runtime; (u) a
 * re-registration after an RM restart updates the AM's address; (d) the app ends with the AM's final
 * status (application FINISHED); (f) the attempt's containers are killed and the application decides
 * between a new attempt and FAILED (app-lifecycle.ts). Every ended attempt drops its runtime.
 * SCHEDULE asks the scheduler for the AM container; FAILED, EXPIRE and KILL record the time and why.
 */
import { defineMachine, IGNORE, type Transition } from '../../common/machine.js';
import { type ContainerInfo, ExitStatus, type FinalStatus } from '../../protocol/cluster.js';
import { newRuntime, type RmBooks } from './books.js';
import type { RmEffect } from './rm-events.js';
import type { AppRecord, AttemptRecord } from './state-store.js';

export const ATTEMPT_STATES = [
  'NEW',
  'SCHEDULED',
  'ALLOCATED',
  'LAUNCHED',
  'RUNNING',
  'FINISHED',
  'FAILED',
  'KILLED',
] as const;
export type AttemptState = (typeof ATTEMPT_STATES)[number];

export type AttemptEvent =
  | { type: 'SCHEDULE'; now: number }
  | { type: 'CONTAINER_ALLOCATED'; now: number; container: ContainerInfo }
  | { type: 'LAUNCHED'; now: number }
  | { type: 'LAUNCH_FAILED'; now: number; diagnostics: string }
  | { type: 'REGISTERED'; now: number; host: string; rpcPort: number; trackingUrl: string }
  | { type: 'UNREGISTERED'; now: number; finalStatus: FinalStatus; diagnostics: string }
  | { type: 'CONTAINER_FINISHED'; now: number; exitStatus: number; diagnostics: string }
  | { type: 'EXPIRE'; now: number; diagnostics: string }
  | { type: 'KILL'; now: number };

/** What an attempt's end asks of its application (app-lifecycle.ts acts on it). */
export type AttemptOutcome =
  | { kind: 'attemptFailed'; attempt: AttemptRecord; exitStatus: number | undefined }
  | { kind: 'attemptUnregistered'; finalStatus: FinalStatus; diagnostics: string };

export type AttemptEffect = RmEffect | AttemptOutcome;
interface Ctx {
  b: RmBooks;
  app: AppRecord;
  at: AttemptRecord;
}
type T = Transition<Ctx, AttemptEffect>;

/** AM exits that do not use up an attempt (lost node, disks, preemption, killed by the RM). */
export const NOT_COUNTED = new Set<number>([ExitStatus.ABORTED, -101, -102, ExitStatus.KILLED_BY_RESOURCEMANAGER]);

function schedule(x: Ctx): T {
  x.at.state = 'SCHEDULED';
  x.b.scheduler.requestAm(x.app.id, x.app.amResource, x.app.label);
  return { state: x, effects: [] };
}

function allocated(x: Ctx, e: Extract<AttemptEvent, { type: 'CONTAINER_ALLOCATED' }>): T {
  const { at, app } = x;
  at.state = 'ALLOCATED';
  at.amContainerId = e.container.id;
  at.nodeId = e.container.nodeId;
  at.host = e.container.nodeHost;
  x.b.runtimes.set(at.attemptId, newRuntime(app.id, e.now, false));
  const lc = app.amLaunchContext;
  // the app secret goes in the credentials file, never the env; the shell adds the AM and container tokens
  const env = { ...lc.env, CINDER_ATTEMPT_ID: at.attemptId, CINDER_USER: app.user };
  return {
    state: x,
    effects: [
      {
        kind: 'launchAm',
        nodeId: e.container.nodeId,
        attemptId: at.attemptId,
        message: {
          type: 'StartContainer',
          container: e.container,
          user: app.user,
          launchContext: { ...lc, env },
          credentials: { CINDER_APP_SECRET: app.secret },
        },
      },
    ],
  };
}

function launched(x: Ctx): T {
  x.at.state = 'LAUNCHED';
  return { state: x, effects: [{ kind: 'persist' }] };
}

function registered(x: Ctx, e: Extract<AttemptEvent, { type: 'REGISTERED' }>): T {
  Object.assign(x.at, { state: 'RUNNING', host: e.host, rpcPort: e.rpcPort, trackingUrl: e.trackingUrl });
  const rt = x.b.runtimes.get(x.at.attemptId);
  if (rt) {
    rt.lastContact = e.now;
    rt.resync = false;
  } else x.b.runtimes.set(x.at.attemptId, newRuntime(x.app.id, e.now, false));
  return { state: x, effects: [{ kind: 'persist' }] };
}

function unregistered(x: Ctx, e: Extract<AttemptEvent, { type: 'UNREGISTERED' }>): T {
  Object.assign(x.at, { state: 'FINISHED', finishTime: e.now, diagnostics: e.diagnostics });
  x.b.runtimes.delete(x.at.attemptId);
  return {
    state: x,
    effects: [{ kind: 'attemptUnregistered', finalStatus: e.finalStatus, diagnostics: e.diagnostics }],
  };
}

function fail(x: Ctx, now: number, diagnostics: string, exitStatus: number | undefined): T {
  Object.assign(x.at, { state: 'FAILED', finishTime: now, diagnostics });
  x.b.runtimes.delete(x.at.attemptId);
  return { state: x, effects: [{ kind: 'attemptFailed', attempt: x.at, exitStatus }] };
}
const launchFailed = (x: Ctx, e: { now: number; diagnostics: string }) => fail(x, e.now, e.diagnostics, undefined);
const expire = (x: Ctx, e: { now: number; diagnostics: string }) => fail(x, e.now, e.diagnostics, undefined);
const containerFinished = (x: Ctx, e: { now: number; diagnostics: string; exitStatus: number }) =>
  fail(x, e.now, e.diagnostics, e.exitStatus);

function kill(x: Ctx, e: { now: number }): T {
  Object.assign(x.at, { state: 'KILLED', finishTime: e.now });
  x.b.runtimes.delete(x.at.attemptId);
  return { state: x, effects: [] };
}

const ended = { LAUNCH_FAILED: IGNORE, CONTAINER_FINISHED: IGNORE, EXPIRE: IGNORE, KILL: IGNORE } as const;

export const attemptLifecycle = defineMachine<AttemptState, Ctx, AttemptEvent, AttemptEffect>({
  name: 'app attempt',
  statuses: ATTEMPT_STATES,
  status: (x) => x.at.state,
  moveTo: (x, k) => {
    x.at.state = k;
    return x;
  },
  subject: (x) => x.at.attemptId,
  table: {
    NEW: { SCHEDULE: schedule, KILL: kill },
    SCHEDULED: { CONTAINER_ALLOCATED: allocated, KILL: kill },
    ALLOCATED: {
      LAUNCHED: launched,
      LAUNCH_FAILED: launchFailed,
      // a fast AM can register before the NM's launch acknowledgement arrives
      REGISTERED: registered,
      CONTAINER_FINISHED: containerFinished,
      EXPIRE: expire,
      KILL: kill,
    },
    LAUNCHED: {
      LAUNCHED: IGNORE,
      LAUNCH_FAILED: IGNORE,
      REGISTERED: registered,
      CONTAINER_FINISHED: containerFinished,
      EXPIRE: expire,
      KILL: kill,
    },
    RUNNING: {
      LAUNCHED: IGNORE,
      LAUNCH_FAILED: IGNORE,
      REGISTERED: registered,
      UNREGISTERED: unregistered,
      CONTAINER_FINISHED: containerFinished,
      EXPIRE: expire,
      KILL: kill,
    },
    FINISHED: { ...ended, UNREGISTERED: IGNORE },
    FAILED: ended,
    KILLED: ended,
  },
});
