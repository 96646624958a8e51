/**
 * The transition tables of the RM's cluster entities. Pure data: the RM steps these and then acts. The
 * NM's container lifecycle is its own machine with typed events and effects, in
 * src/cluster/nodemanager/container-machine.ts.
 *
 *  App:      NEW -START-> SUBMITTED -ACCEPT-> ACCEPTED -ATTEMPT_REGISTERED-> RUNNING -ATTEMPT_UNREGISTERED-> FINISHED
 *            any live state -REJECT/ATTEMPT_FAILED_FINAL-> FAILED, -KILL-> KILLED;  ATTEMPT_FAILED_RETRY -> ACCEPTED
 *  Attempt:  NEW -SCHEDULE-> SCHEDULED -CONTAINER_ALLOCATED-> ALLOCATED -LAUNCHED-> LAUNCHED -REGISTERED-> RUNNING
 *            -UNREGISTERED-> FINISHED;  CONTAINER_FINISHED/EXPIRE/LAUNCH_FAILED -> FAILED;  KILL -> KILLED
 *  Node:     NEW -REGISTER-> RUNNING -EXPIRE-> LOST -REGISTER-> RUNNING;  SHUTDOWN from RUNNING/LOST
 *  RM container: ALLOCATED -ACQUIRED-> ACQUIRED -LAUNCHED-> RUNNING -FINISHED-> COMPLETED; RELEASED, KILLED, EXPIRED
 */

import { IGNORE, statusMachine } from '../../common/machine.js';
import type { AppState, NodeState } from '../../protocol/cluster.js';

export const APP_EVENTS = [
  'START',
  'ACCEPT',
  'REJECT',
  'ATTEMPT_REGISTERED',
  'ATTEMPT_UNREGISTERED',
  'ATTEMPT_FAILED_RETRY',
  'ATTEMPT_FAILED_FINAL',
  'KILL',
] as const;
export type AppEvent = (typeof APP_EVENTS)[number];
const appTerminal = {
  KILL: IGNORE,
  ATTEMPT_UNREGISTERED: IGNORE,
  ATTEMPT_FAILED_RETRY: IGNORE,
  ATTEMPT_FAILED_FINAL: IGNORE,
} as const;
export const appMachine = statusMachine<AppState, AppEvent>(
  'application',
  ['NEW', 'SUBMITTED', 'ACCEPTED', 'RUNNING', 'FINISHED', 'FAILED', 'KILLED'],
  {
    NEW: { START: 'SUBMITTED', REJECT: 'FAILED', KILL: 'KILLED' },
    SUBMITTED: { ACCEPT: 'ACCEPTED', REJECT: 'FAILED', KILL: 'KILLED' },
    ACCEPTED: {
      ATTEMPT_REGISTERED: 'RUNNING',
      // an AM may finish without ever being seen RUNNING by a client; it still had to register
      ATTEMPT_FAILED_RETRY: 'ACCEPTED',
      ATTEMPT_FAILED_FINAL: 'FAILED',
      KILL: 'KILLED',
    },
    RUNNING: {
      ATTEMPT_REGISTERED: IGNORE, // re-registration after an RM restart
      ATTEMPT_UNREGISTERED: 'FINISHED',
      ATTEMPT_FAILED_RETRY: 'ACCEPTED',
      ATTEMPT_FAILED_FINAL: 'FAILED',
      KILL: 'KILLED',
    },
    FINISHED: appTerminal,
    FAILED: appTerminal,
    KILLED: appTerminal,
  },
);

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
export const ATTEMPT_EVENTS = [
  'SCHEDULE',
  'CONTAINER_ALLOCATED',
  'LAUNCHED',
  'LAUNCH_FAILED',
  'REGISTERED',
  'UNREGISTERED',
  'CONTAINER_FINISHED',
  'EXPIRE',
  'KILL',
] as const;
export type AttemptEvent = (typeof ATTEMPT_EVENTS)[number];
const attemptTerminal = { CONTAINER_FINISHED: IGNORE, EXPIRE: IGNORE, KILL: IGNORE, LAUNCH_FAILED: IGNORE } as const;
export const attemptMachine = statusMachine<AttemptState, AttemptEvent>('app attempt', ATTEMPT_STATES, {
  NEW: { SCHEDULE: 'SCHEDULED', KILL: 'KILLED' },
  SCHEDULED: { CONTAINER_ALLOCATED: 'ALLOCATED', KILL: 'KILLED' },
  ALLOCATED: {
    LAUNCHED: 'LAUNCHED',
    LAUNCH_FAILED: 'FAILED',
    CONTAINER_FINISHED: 'FAILED',
    EXPIRE: 'FAILED',
    KILL: 'KILLED',
    // a fast AM can register before the NM's launch acknowledgement arrives
    REGISTERED: 'RUNNING',
  },
  LAUNCHED: {
    LAUNCHED: IGNORE,
    REGISTERED: 'RUNNING',
    CONTAINER_FINISHED: 'FAILED',
    EXPIRE: 'FAILED',
    KILL: 'KILLED',
  },
  RUNNING: {
    LAUNCHED: IGNORE,
    REGISTERED: IGNORE,
    UNREGISTERED: 'FINISHED',
    CONTAINER_FINISHED: 'FAILED',
    EXPIRE: 'FAILED',
    KILL: 'KILLED',
  },
  FINISHED: { ...attemptTerminal, UNREGISTERED: IGNORE },
  FAILED: attemptTerminal,
  KILLED: attemptTerminal,
});

export const NODE_EVENTS = ['REGISTER', 'HEARTBEAT', 'EXPIRE', 'SHUTDOWN'] as const;
export type NodeEvent = (typeof NODE_EVENTS)[number];
export const nodeMachine = statusMachine<NodeState, NodeEvent>('node', ['NEW', 'RUNNING', 'LOST', 'SHUTDOWN'], {
  NEW: { REGISTER: 'RUNNING' },
  RUNNING: { REGISTER: 'RUNNING', HEARTBEAT: 'RUNNING', EXPIRE: 'LOST', SHUTDOWN: 'SHUTDOWN' },
  // a lost or stopped node that heartbeats is told to re-register; its heartbeat changes nothing
  LOST: { REGISTER: 'RUNNING', HEARTBEAT: IGNORE, EXPIRE: IGNORE, SHUTDOWN: 'SHUTDOWN' },
  SHUTDOWN: { REGISTER: 'RUNNING', HEARTBEAT: IGNORE, EXPIRE: IGNORE, SHUTDOWN: IGNORE },
});

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
export const RM_CONTAINER_EVENTS = ['ACQUIRED', 'LAUNCHED', 'FINISHED', 'RELEASED', 'KILLED', 'EXPIRED'] as const;
export type RmContainerEvent = (typeof RM_CONTAINER_EVENTS)[number];
const rmcTerminal = { FINISHED: IGNORE, RELEASED: IGNORE, KILLED: IGNORE, LAUNCHED: IGNORE, EXPIRED: IGNORE } as const;
export const rmContainerMachine = statusMachine<RmContainerState, RmContainerEvent>(
  'container (RM)',
  RM_CONTAINER_STATES,
  {
    ALLOCATED: {
      ACQUIRED: 'ACQUIRED',
      LAUNCHED: 'RUNNING',
      FINISHED: 'COMPLETED',
      RELEASED: 'RELEASED',
      KILLED: 'KILLED',
      EXPIRED: 'EXPIRED',
    },
    ACQUIRED: {
      LAUNCHED: 'RUNNING',
      FINISHED: 'COMPLETED',
      RELEASED: 'RELEASED',
      KILLED: 'KILLED',
      EXPIRED: 'EXPIRED',
    },
    RUNNING: { LAUNCHED: IGNORE, ACQUIRED: IGNORE, FINISHED: 'COMPLETED', RELEASED: 'RELEASED', KILLED: 'KILLED' },
    COMPLETED: rmcTerminal,
    RELEASED: rmcTerminal,
    KILLED: rmcTerminal,
    EXPIRED: rmcTerminal,
  },
);

export const ALL_MACHINES = [appMachine, attemptMachine, nodeMachine, rmContainerMachine] as const;
