/**
 * The NodeManager's container table. Pure data: containers.ts steps it and then acts.
 *  NM container: NEW -INIT-> LOCALIZING -LOCALIZED-> RUNNING -EXITED_*-> EXITED_WITH_* -CLEANED-> DONE;
 *            KILL -> KILLING -EXITED_*-> CONTAINER_CLEANEDUP_AFTER_KILL -CLEANED-> DONE
 * The RM's lifecycles live in src/cluster/resourcemanager/*-lifecycle.ts.
 */
import { IGNORE, statusMachine } from '../../common/machine.js';

export const NM_CONTAINER_STATES = [
  'NEW',
  'LOCALIZING',
  'LOCALIZATION_FAILED',
  'RUNNING',
  'KILLING',
  'EXITED_WITH_SUCCESS',
  'EXITED_WITH_FAILURE',
  'CONTAINER_CLEANEDUP_AFTER_KILL',
  'DONE',
] as const;
export type NmContainerState = (typeof NM_CONTAINER_STATES)[number];
export const NM_CONTAINER_EVENTS = [
  'INIT',
  'LOCALIZED',
  'LOCALIZATION_FAILED',
  'EXITED_SUCCESS',
  'EXITED_FAILURE',
  'KILL',
  'CLEANED',
] as const;
export type NmContainerEvent = (typeof NM_CONTAINER_EVENTS)[number];
const nmcEnded = { CLEANED: 'DONE', KILL: IGNORE } as const;
export const nmContainerMachine = statusMachine<NmContainerState, NmContainerEvent>(
  'container (NM)',
  NM_CONTAINER_STATES,
  {
    NEW: { INIT: 'LOCALIZING', KILL: 'DONE' },
    LOCALIZING: { LOCALIZED: 'RUNNING', LOCALIZATION_FAILED: 'LOCALIZATION_FAILED', KILL: 'KILLING' },
    LOCALIZATION_FAILED: nmcEnded,
    RUNNING: { EXITED_SUCCESS: 'EXITED_WITH_SUCCESS', EXITED_FAILURE: 'EXITED_WITH_FAILURE', KILL: 'KILLING' },
    KILLING: {
      // localization finishing after a kill must not start the process
      LOCALIZED: 'CONTAINER_CLEANEDUP_AFTER_KILL',
      LOCALIZATION_FAILED: 'CONTAINER_CLEANEDUP_AFTER_KILL',
      EXITED_SUCCESS: 'CONTAINER_CLEANEDUP_AFTER_KILL',
      EXITED_FAILURE: 'CONTAINER_CLEANEDUP_AFTER_KILL',
      KILL: IGNORE,
    },
    EXITED_WITH_SUCCESS: nmcEnded,
    EXITED_WITH_FAILURE: nmcEnded,
    CONTAINER_CLEANEDUP_AFTER_KILL: nmcEnded,
    DONE: { KILL: IGNORE, CLEANED: IGNORE },
  },
);
