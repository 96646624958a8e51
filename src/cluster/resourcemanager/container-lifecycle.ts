/**
 * A container's lifecycle as the RM sees it, as a transition table.
 *
 *   status      | ACQUIRED  LAUNCHED  FINISHED        RELEASED        KILLED          EXPIRED
 *   ------------+-------------------------------------------------------------------------------
 *   ALLOCATED   | ACQUIRED  RUNNING   COMPLETED (a)   RELEASED (k,r)  KILLED (k)      EXPIRED (k,e)
 *   ACQUIRED    | -         RUNNING   COMPLETED (a)   RELEASED (k,r)  KILLED (k)      EXPIRED (k,e)
 *   RUNNING     | ignored   ignored   COMPLETED (a)   RELEASED (k,r)  KILLED (k)      -
 *
 * Every move out of a live status (ALLOCATED, ACQUIRED, RUNNING) gives its resources back to the
 * node and the queue and drops the record (ended containers are not kept: a late report about one
 * is ignored by rm-step.ts). (k) queues a kill for the node's next heartbeat; (r) tells the AM the
 * container completed (-105, released); (e) tells the AM it completed (-100, expired unused);
 * (a) tells the AM its container completed with the node's exit status. An AM container that
 * finishes or expires ends its attempt (app-lifecycle.ts). Charging happens where the container is
 * made (scheduler placement, or recovery), so used resources always equal the live containers' sum.
 */
import { defineMachine, IGNORE, type Transition } from '../../common/machine.js';
import { type ContainerStatus, ExitStatus } from '../../protocol/cluster.js';
import { HISTORY_PER_APP, own, type RmBooks, type RmContainer } from './books.js';
import type { RmEffect } from './rm-events.js';

export const RM_CONTAINER_STATES = [
  'ALLOCATED',
  'ACQUIRED',
  'RUNNING',
  'COMPLETED',
  'RELEASED',
  'KILLED',
  'EXPIRED',
] as const;
export type RmContainerState = (typeof RM_CONTAINER_STATES)[number];

export type ContainerEvent =
  | { type: 'ACQUIRED' }
  | { type: 'LAUNCHED' }
  | { type: 'FINISHED'; status: ContainerStatus }
  | { type: 'RELEASED' }
  | { type: 'KILLED'; exitStatus: number; diagnostics: string }
  | { type: 'EXPIRED'; now: number };

/** An AM container ended without its attempt unregistering: app-lifecycle.ts fails the attempt. */
export interface AmContainerEnded {
  kind: 'amContainerEnded';
  appId: string;
  attempt: number;
  containerId: string;
  exitStatus: number;
  diagnostics: string;
}

export type ContainerEffect = RmEffect | AmContainerEnded;
interface Ctx {
  b: RmBooks;
  c: RmContainer;
}
type T = Transition<Ctx, ContainerEffect>;

/** Gives a live container's resources back and forgets it. */
function end(x: Ctx, state: RmContainerState, exitStatus: number, diagnostics: string): Ctx {
  x.b.scheduler.charge(x.c.appId, x.c.nodeId, x.c.resource, x.c.isAm, -1);
  x.b.containers.delete(x.c.id);
  let ended = x.b.ended.get(x.c.appId);
  if (!ended) x.b.ended.set(x.c.appId, (ended = new Set()));
  ended.add(x.c.id);
  x.c.state = state;
  let h = x.b.history.get(x.c.appId);
  if (!h) x.b.history.set(x.c.appId, (h = []));
  const { id, nodeId, attempt, resource, isAm, allocatedAt } = x.c;
  h.push({ id, nodeId, attempt, resource, isAm, state, exitStatus, diagnostics, allocatedAt });
  if (h.length > HISTORY_PER_APP) h.shift();
  return x;
}

function killOnNode(x: Ctx, exitStatus: number, diagnostics: string): void {
  x.b.nodes.get(x.c.nodeId)?.pendingKills.push({ containerId: x.c.id, exitStatus, diagnostics });
}

/** Tells the container's AM (through its next allocate) that it completed. */
function tellAm(x: Ctx, exitStatus: number, diagnostics: string): void {
  const app = own(x.b.state.apps, x.c.appId);
  const at = app?.attempts.find((a) => a.n === x.c.attempt);
  if (!at) return;
  x.b.runtimes.get(at.attemptId)?.completed.push({
    containerId: x.c.id,
    appId: x.c.appId,
    state: 'COMPLETE',
    exitStatus,
    diagnostics,
    resource: x.c.resource,
  });
}

function amEnded(x: Ctx, exitStatus: number, diagnostics: string): AmContainerEnded[] {
  return x.c.isAm
    ? [
        {
          kind: 'amContainerEnded',
          appId: x.c.appId,
          attempt: x.c.attempt,
          containerId: x.c.id,
          exitStatus,
          diagnostics,
        },
      ]
    : [];
}

function finished(x: Ctx, e: { status: ContainerStatus }): T {
  const st = e.status.exitStatus ?? ExitStatus.ABORTED;
  end(x, 'COMPLETED', st, e.status.diagnostics);
  if (!x.c.isAm) tellAm(x, st, e.status.diagnostics);
  return { state: x, effects: amEnded(x, st, e.status.diagnostics) };
}

function released(x: Ctx): T {
  const why = 'container released by the application';
  end(x, 'RELEASED', ExitStatus.KILLED_BY_APPMASTER, why);
  killOnNode(x, ExitStatus.KILLED_BY_APPMASTER, why);
  tellAm(x, ExitStatus.KILLED_BY_APPMASTER, why);
  return { state: x, effects: [] };
}

function killed(x: Ctx, e: { exitStatus: number; diagnostics: string }): T {
  end(x, 'KILLED', e.exitStatus, e.diagnostics);
  killOnNode(x, e.exitStatus, e.diagnostics);
  return { state: x, effects: [] };
}

function expired(x: Ctx): T {
  const why = `container ${x.c.id} expired: allocated but not started within ${x.b.conf.containerAllocationExpiryMs} ms (containerAllocationExpiryMs)`;
  end(x, 'EXPIRED', ExitStatus.ABORTED, why);
  killOnNode(x, ExitStatus.ABORTED, why);
  if (!x.c.isAm) tellAm(x, ExitStatus.ABORTED, why);
  return {
    state: x,
    effects: [
      ...amEnded(x, ExitStatus.ABORTED, why),
      { kind: 'log', level: 'warn', msg: why, fields: { container: x.c.id } },
    ],
  };
}

export const rmContainerLifecycle = defineMachine<RmContainerState, Ctx, ContainerEvent, ContainerEffect>({
  name: 'container (RM)',
  statuses: RM_CONTAINER_STATES,
  status: (x) => x.c.state,
  moveTo: (x, k) => {
    x.c.state = k;
    return x;
  },
  subject: (x) => x.c.id,
  table: {
    ALLOCATED: {
      ACQUIRED: 'ACQUIRED',
      LAUNCHED: 'RUNNING',
      FINISHED: finished,
      RELEASED: released,
      KILLED: killed,
      EXPIRED: expired,
    },
    ACQUIRED: { LAUNCHED: 'RUNNING', FINISHED: finished, RELEASED: released, KILLED: killed, EXPIRED: expired },
    RUNNING: { ACQUIRED: IGNORE, LAUNCHED: IGNORE, FINISHED: finished, RELEASED: released, KILLED: killed },
    // ended records are dropped from the books at once, so nothing steps them
    COMPLETED: {},
    RELEASED: {},
    KILLED: {},
    EXPIRED: {},
  },
});

/** Steps a container of the books. */
export function stepContainer(b: RmBooks, c: RmContainer, e: ContainerEvent): ContainerEffect[] {
  return rmContainerLifecycle.step({ b, c }, e).effects;
}
