/**
 * The NodeManager's container lifecycle as a pure transition table (src/common/machine.ts): every
 * decision about one container (what runs next, which exit status and diagnostics it completes with,
 * what must be persisted, killed or deleted) is made here, from typed events, and returned as effects.
 * containers.ts is the shell that turns process exits, localizer results, the memory monitor, RM/AM
 * requests and NM restarts into events and carries the effects out. No I/O, no clock: time arrives in
 * events (`at`, from the shell's injected clock).
 *
 *   NEW -Init-> LOCALIZING -Localized-> RUNNING (Spawn; Launched records the pgid) -Exited-> EXITED_WITH_*
 *   LOCALIZING -LocalizationFailed-> LOCALIZATION_FAILED (-1000)
 *   LOCALIZING/RUNNING -KillRequested/MemoryExceeded-> KILLING -Exited/Localized/LocalizationFailed->
 *       CONTAINER_CLEANEDUP_AFTER_KILL (with the kill's status: -104/-105/-106/-107; never spawns)
 *   EXITED_* / LOCALIZATION_FAILED / CONTAINER_CLEANEDUP_AFTER_KILL -Cleaned-> DONE -Acked-> DONE (record deleted)
 *   RECOVERING (read back from a recovery record after an NM restart) -Recovered-> RUNNING / KILLING when
 *       its process group is alive (reacquired), else the ended status its exit code (or its absence) gives.
 */
import os from 'node:os';
import { defineMachine, IGNORE, type Transition } from '../../common/machine.js';
import { ExitStatus } from '../../protocol/cluster.js';

export const NM_CONTAINER_STATUSES = [
  'NEW',
  'LOCALIZING',
  'RUNNING',
  'KILLING',
  'EXITED_WITH_SUCCESS',
  'EXITED_WITH_FAILURE',
  'LOCALIZATION_FAILED',
  'CONTAINER_CLEANEDUP_AFTER_KILL',
  'DONE',
  'RECOVERING',
] as const;
export type NmContainerStatus = (typeof NM_CONTAINER_STATUSES)[number];

/** A kill decided for a container: the status and diagnostics it completes with. */
export interface KillStatus {
  exitStatus: number;
  diagnostics: string;
}

export interface NmContainerState {
  id: string;
  status: NmContainerStatus;
  /** when the launch request arrived (epoch ms) */
  requestedAt: number;
  /** process group of the container (its wrapper's pid); -1 until launched */
  pgid: number;
  launchedAt: number | undefined;
  finishedAt: number | undefined;
  /** set once a kill is decided; the first kill wins */
  kill: KillStatus | undefined;
  /** set when the container has ended (EXITED_*, LOCALIZATION_FAILED, CLEANEDUP, DONE) */
  exitStatus: number | undefined;
  diagnostics: string;
  /** the RM has seen the completion */
  acked: boolean;
  /** RECOVERING only: the status the recovery record was written in */
  recordedStatus?: NmContainerStatus | undefined;
}

/** The exit the container's wrapper recorded in its exit-code file (read after the NM lost the child handle). */
export interface RecordedExit {
  /** the command's exit code (128 + n when it died of signal n); undefined when only `orphaned` is known */
  code: number | undefined;
  /** the wrapper killed the container because no NodeManager owned it for orphanKillMs */
  orphaned: boolean;
}

export type NmContainerEvent =
  | { type: 'Init'; at: number }
  | { type: 'Localized' }
  | { type: 'LocalizationFailed'; message: string }
  /** the shell spawned the process (the Spawn effect): its process group */
  | { type: 'Launched'; pgid: number; at: number }
  /** the process group ended; code/signal from the exit-code file or the child handle, both null when unknown */
  | { type: 'Exited'; code: number | null; signal: string | null; orphaned?: boolean; at: number }
  | { type: 'KillRequested'; exitStatus: number; diagnostics: string }
  | { type: 'MemoryExceeded'; usedMB: number; limitMB: number }
  /** after an NM restart: is the recorded process group still alive, and did it leave an exit code? */
  | { type: 'Recovered'; alive: boolean; exit: RecordedExit | undefined; at: number }
  /** the DeleteWorkDir effect is done */
  | { type: 'Cleaned' }
  /** the RM acknowledged the completion (heartbeat or registration reply) */
  | { type: 'Acked' };

export type NmContainerEffect =
  /** make the work and log dirs and localize the launch context's resources into the work dir */
  | { type: 'Localize' }
  /** start the command (through the exit-code wrapper) in its own process group, then step Launched */
  | { type: 'Spawn' }
  /** SIGTERM the process group, SIGKILL after killGraceMs (no-op while the pgid is unknown) */
  | { type: 'KillGroup' }
  /** reacquired after an NM restart: no child handle, poll the group and the exit-code file */
  | { type: 'Watch' }
  /** persist the state (atomically) so a restarted NM can recover the container */
  | { type: 'WriteRecoveryRecord' }
  /** forget the container on disk: recovery record, exit-code file */
  | { type: 'DeleteRecoveryRecord' }
  /** delete the container's work dir (its logs stay until the app is cleaned up), then step Cleaned */
  | { type: 'DeleteWorkDir' }
  /** the completion is final: log it; it reaches the RM with the next heartbeat or registration */
  | { type: 'Report'; exitStatus: number; diagnostics: string };

type S = NmContainerState;
type E<T extends NmContainerEvent['type']> = Extract<NmContainerEvent, { type: T }>;
type T = Transition<S, NmContainerEffect>;

/** A fresh container, before Init. */
export function newContainerState(id: string): NmContainerState {
  return {
    id,
    status: 'NEW',
    requestedAt: 0,
    pgid: -1,
    launchedAt: undefined,
    finishedAt: undefined,
    kill: undefined,
    exitStatus: undefined,
    diagnostics: '',
    acked: false,
  };
}

/** The state read back from a recovery record, ready for a Recovered event. */
export function recoveringState(recorded: NmContainerState): NmContainerState {
  return { ...recorded, status: 'RECOVERING', recordedStatus: recorded.status };
}

const STDERR_HINT = "see the container's stderr";

function signalNumber(signal: string): number {
  return (os.constants.signals as Record<string, number | undefined>)[signal] ?? 15;
}

/** Exit status and diagnostics of a process that ended on its own (no kill decided). */
function naturalExit(e: { code: number | null | undefined; signal?: string | null; orphaned?: boolean | undefined }): {
  status: NmContainerStatus;
  exitStatus: number;
  diagnostics: string;
} {
  if (e.orphaned)
    return {
      status: 'EXITED_WITH_FAILURE',
      exitStatus: ExitStatus.ABORTED,
      diagnostics:
        'container killed by its wrapper: no NodeManager was alive on its node for orphanKillMs (the NodeManager crashed and was not restarted in time)',
    };
  if (e.code === 0) return { status: 'EXITED_WITH_SUCCESS', exitStatus: 0, diagnostics: '' };
  if (typeof e.code === 'number')
    return {
      status: 'EXITED_WITH_FAILURE',
      exitStatus: e.code,
      diagnostics: `process exited with code ${e.code}; ${STDERR_HINT}`,
    };
  if (e.signal)
    return {
      status: 'EXITED_WITH_FAILURE',
      exitStatus: 128 + signalNumber(e.signal),
      diagnostics: `process was killed by ${e.signal}; ${STDERR_HINT}`,
    };
  return {
    status: 'EXITED_WITH_FAILURE',
    exitStatus: ExitStatus.ABORTED,
    diagnostics: 'container process is gone and left no exit code (killed outside the NodeManager?)',
  };
}

function killed(s: S, at: number | undefined): T {
  const k = s.kill!;
  return {
    state: {
      ...s,
      status: 'CONTAINER_CLEANEDUP_AFTER_KILL',
      exitStatus: k.exitStatus,
      diagnostics: k.diagnostics,
      finishedAt: at ?? s.finishedAt,
    },
    effects: [{ type: 'DeleteWorkDir' }],
  };
}

function requestKill(s: S, kill: KillStatus): T {
  return {
    state: { ...s, status: 'KILLING', kill: s.kill ?? kill },
    effects: [{ type: 'WriteRecoveryRecord' }, { type: 'KillGroup' }],
  };
}

const init = (s: S, e: E<'Init'>): T => ({
  state: { ...s, status: 'LOCALIZING', requestedAt: e.at },
  effects: [{ type: 'WriteRecoveryRecord' }, { type: 'Localize' }],
});

const localizationFailed = (s: S, e: E<'LocalizationFailed'>): T => ({
  state: {
    ...s,
    status: 'LOCALIZATION_FAILED',
    exitStatus: ExitStatus.INVALID,
    diagnostics: `localization failed: ${e.message}`,
  },
  effects: [{ type: 'DeleteWorkDir' }],
});

const exited = (s: S, e: E<'Exited'>): T => {
  const x = naturalExit(e);
  return {
    state: { ...s, status: x.status, exitStatus: x.exitStatus, diagnostics: x.diagnostics, finishedAt: e.at },
    effects: [{ type: 'DeleteWorkDir' }],
  };
};

const memoryExceeded = (s: S, e: E<'MemoryExceeded'>): T =>
  requestKill(s, {
    exitStatus: ExitStatus.KILLED_EXCEEDED_PMEM,
    diagnostics: `Container ${s.id} is running beyond physical memory limits. Current usage: ${e.usedMB.toFixed(1)} MB of ${e.limitMB.toFixed(1)} MB physical memory used. Killing container (exit ${ExitStatus.KILLED_EXCEEDED_PMEM}).`,
  });

const cleaned = (s: S): T => ({
  state: { ...s, status: 'DONE' },
  effects: [{ type: 'WriteRecoveryRecord' }, { type: 'Report', exitStatus: s.exitStatus!, diagnostics: s.diagnostics }],
});

const ENDED = new Set<NmContainerStatus>([
  'EXITED_WITH_SUCCESS',
  'EXITED_WITH_FAILURE',
  'LOCALIZATION_FAILED',
  'CONTAINER_CLEANEDUP_AFTER_KILL',
]);

/** Decides a recorded container's fate after an NM restart. */
const recovered = (s: S, e: E<'Recovered'>): T => {
  const { recordedStatus, ...base } = s;
  const was = recordedStatus ?? 'RUNNING';
  if (was === 'DONE') return { state: { ...base, status: 'DONE' }, effects: [] };
  if (ENDED.has(was) && base.exitStatus !== undefined)
    return { state: { ...base, status: was }, effects: [{ type: 'DeleteWorkDir' }] };
  const launched = base.pgid > 0 && (was === 'RUNNING' || was === 'KILLING');
  if (launched && e.alive && !e.exit) {
    if (base.kill)
      return { state: { ...base, status: 'KILLING' }, effects: [{ type: 'Watch' }, { type: 'KillGroup' }] };
    return { state: { ...base, status: 'RUNNING' }, effects: [{ type: 'Watch' }] };
  }
  if (base.kill) return killed(base, e.at);
  if (!launched)
    return {
      state: {
        ...base,
        status: 'EXITED_WITH_FAILURE',
        exitStatus: ExitStatus.ABORTED,
        diagnostics: 'container lost: the NodeManager restarted before it was launched',
        finishedAt: e.at,
      },
      effects: [{ type: 'DeleteWorkDir' }],
    };
  if (!e.exit || (e.exit.code === undefined && !e.exit.orphaned))
    return {
      state: {
        ...base,
        status: 'EXITED_WITH_FAILURE',
        exitStatus: ExitStatus.ABORTED,
        diagnostics:
          'container lost across a NodeManager restart: its process is gone and left no exit code (killed outside the NodeManager?)',
        finishedAt: e.at,
      },
      effects: [{ type: 'DeleteWorkDir' }],
    };
  const x = naturalExit(e.exit);
  return {
    state: {
      ...base,
      status: x.status,
      exitStatus: x.exitStatus,
      diagnostics: x.exitStatus === 0 ? '' : `${x.diagnostics} (exited while the NodeManager was down)`,
      finishedAt: e.at,
    },
    effects: [{ type: 'DeleteWorkDir' }],
  };
};

const ended = { Cleaned: cleaned, KillRequested: IGNORE } as const;

export const containerMachine = defineMachine<NmContainerStatus, S, NmContainerEvent, NmContainerEffect>({
  name: 'container (NM)',
  statuses: NM_CONTAINER_STATUSES,
  status: (s) => s.status,
  moveTo: (s, status) => ({ ...s, status }),
  subject: (s) => s.id,
  table: {
    NEW: { Init: init },
    LOCALIZING: {
      Localized: (s) => ({ state: { ...s, status: 'RUNNING' }, effects: [{ type: 'Spawn' }] }),
      LocalizationFailed: localizationFailed,
      // no process yet: remember the kill; localization finishing later must not spawn
      KillRequested: (s, e) => ({
        state: { ...s, status: 'KILLING', kill: { exitStatus: e.exitStatus, diagnostics: e.diagnostics } },
        effects: [{ type: 'WriteRecoveryRecord' }],
      }),
    },
    RUNNING: {
      Launched: (s, e) => ({
        state: { ...s, pgid: e.pgid, launchedAt: e.at },
        effects: [{ type: 'WriteRecoveryRecord' }],
      }),
      Exited: exited,
      KillRequested: (s, e) => requestKill(s, { exitStatus: e.exitStatus, diagnostics: e.diagnostics }),
      MemoryExceeded: memoryExceeded,
    },
    KILLING: {
      Localized: (s) => killed(s, undefined),
      LocalizationFailed: (s) => killed(s, undefined),
      // spawned before the kill was decided (same tick): kill it now
      Launched: (s, e) => ({
        state: { ...s, pgid: e.pgid, launchedAt: e.at },
        effects: [{ type: 'WriteRecoveryRecord' }, { type: 'KillGroup' }],
      }),
      Exited: (s, e) => killed(s, e.at),
      // the first kill decides the exit status
      KillRequested: IGNORE,
      MemoryExceeded: IGNORE,
    },
    EXITED_WITH_SUCCESS: ended,
    EXITED_WITH_FAILURE: ended,
    LOCALIZATION_FAILED: ended,
    CONTAINER_CLEANEDUP_AFTER_KILL: ended,
    DONE: {
      KillRequested: IGNORE,
      Acked: (s) =>
        s.acked
          ? { state: s, effects: [] }
          : { state: { ...s, acked: true }, effects: [{ type: 'DeleteRecoveryRecord' }] },
    },
    RECOVERING: { Recovered: recovered },
  },
});
