/**
 * The Application Master's own lifecycle as one transition table (src/common/machine.ts); the AM's
 * process (application-master.ts) turns messages, timers and RM answers into events and carries out
 * the effects, in order.
 *
 *   WAITING_FOR_DRIVER -DRIVER_CONNECTED-> RUNNING
 *   WAITING_FOR_DRIVER | RUNNING
 *     -DRIVER_FINISHED(status X)-> UNREGISTERING(X)            the driver's own result
 *     -DRIVER_LOST-> UNREGISTERING(FAILED, CLIENT_LOST)         client mode: a lost driver never comes back
 *     -APP_FAILING-> UNREGISTERING(FAILED)                       e.g. too many executor failures
 *     -RM_SAYS_EXIT-> DONE                                       the RM ended this attempt: exit, no unregister
 *     -RM_LOST-> DONE                                            the RM stayed unreachable: exit 12, no unregister
 *   UNREGISTERING -UNREGISTERED | UNREGISTER_FAILED-> DONE       exit only now
 *
 * Once the AM is UNREGISTERING, the driver's socket closing (DRIVER_LOST), a second report and the
 * allocator's late failures are expected and ignored: the first ending decides, and the process exits
 * only after its unregister completed or definitively failed.
 *
 * Cluster mode (the driver is the user's main in this process): DRIVER_CONNECTED is "the context
 * registered", DRIVER_FINISHED is "main returned and the app has nothing left to do, or main threw". A
 * failure before the last attempt exits without unregistering, so that the RM starts another attempt. The
 * effects on the driver channel and on executors are client mode's: in cluster mode the context stops its
 * own executors.
 *
 * Exit codes (Spark's): 0 done (client mode: whatever the driver's result, which the RM records),
 * 10 bad AM environment, 11 too many executor failures, 12 the RM unreachable or the unregister failed,
 * 13 no context in time, 15 the user's main threw, 16 the RM ended this attempt, 17 the driver was lost.
 */
import { defineMachine, IGNORE, type Transition } from '../../common/machine.js';

export const AM_STATUSES = ['WAITING_FOR_DRIVER', 'RUNNING', 'UNREGISTERING', 'DONE'] as const;
export type AmStatus = (typeof AM_STATUSES)[number];

export const EXIT = {
  OK: 0,
  RM_LOST: 12,
  USER_EXCEPTION: 15,
  RM_ENDED_ATTEMPT: 16,
  CLIENT_LOST: 17,
} as const;

export type FinalStatus = 'SUCCEEDED' | 'FAILED';

export interface AmState {
  status: AmStatus;
  mode: 'client' | 'cluster';
  /** attempt n of max: failures are final only on the last one (cluster mode) */
  attempt: number;
  maxAttempts: number;
  /** UNREGISTERING and DONE: how the attempt ends */
  ending?: { finalStatus: FinalStatus; diagnostics: string; exitCode: number };
}

export type AmEvent =
  | { type: 'DRIVER_CONNECTED' }
  | { type: 'DRIVER_FINISHED'; succeeded: boolean; diagnostics: string }
  | { type: 'DRIVER_LOST'; why: string }
  | { type: 'APP_FAILING'; diagnostics: string; exitCode: number }
  | { type: 'RM_SAYS_EXIT'; why: string }
  | { type: 'RM_LOST'; why: string }
  | { type: 'UNREGISTERED' }
  | { type: 'UNREGISTER_FAILED'; why: string };

export type AmEffect =
  | { type: 'log'; line: string }
  /** client mode: AppFailing to the driver, so that its job fails with the reason */
  | { type: 'tellDriverFailing'; exitCode: number; diagnostics: string }
  /** client mode: stop the heartbeat loop and every executor container */
  | { type: 'stopExecutors' }
  | { type: 'unregister'; finalStatus: FinalStatus; diagnostics: string }
  /** client mode: answer the driver's Shutdown request (if it sent one) */
  | { type: 'answerDriver'; unregistered: boolean; diagnostics: string }
  | { type: 'closeDriver' }
  | { type: 'exit'; code: number };

type T = Transition<AmState, AmEffect>;

export function initialAmState(mode: 'client' | 'cluster', attempt: number, maxAttempts: number): AmState {
  return { status: 'WAITING_FOR_DRIVER', mode, attempt, maxAttempts };
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? '';
}

/** Ends the attempt as `finalStatus`: unregister (client mode: after stopping executors), or, for a
 *  cluster-mode failure with attempts left, exit so that the RM tries again. */
function end(s: AmState, finalStatus: FinalStatus, diagnostics: string, exitCode: number, logLine: string): T {
  const ending = { finalStatus, diagnostics, exitCode };
  if (s.mode === 'cluster' && finalStatus === 'FAILED' && s.attempt < s.maxAttempts)
    return {
      state: { ...s, status: 'DONE', ending },
      effects: [
        { type: 'log', line: logLine },
        {
          type: 'log',
          line: `attempt ${s.attempt} of ${s.maxAttempts} failed; exiting so the ResourceManager retries: ${firstLine(diagnostics)}`,
        },
        { type: 'exit', code: exitCode },
      ],
    };
  const effects: AmEffect[] = [{ type: 'log', line: logLine }];
  if (s.mode === 'client') effects.push({ type: 'stopExecutors' });
  effects.push({ type: 'unregister', finalStatus, diagnostics });
  return { state: { ...s, status: 'UNREGISTERING', ending }, effects };
}

/** Leaves without unregistering (the RM already ended the attempt, or cannot be reached). */
function leave(s: AmState, code: number, line: string): T {
  const effects: AmEffect[] = [{ type: 'log', line }];
  if (s.mode === 'client') effects.push({ type: 'stopExecutors' }, { type: 'closeDriver' });
  effects.push({ type: 'exit', code });
  return { state: { ...s, status: 'DONE' }, effects };
}

type On<K extends AmEvent['type']> = (s: AmState, e: Extract<AmEvent, { type: K }>) => T;

const driverFinished: On<'DRIVER_FINISHED'> = (s, e) => {
  const status: FinalStatus = e.succeeded ? 'SUCCEEDED' : 'FAILED';
  const code = s.mode === 'cluster' && !e.succeeded ? EXIT.USER_EXCEPTION : EXIT.OK;
  return end(s, status, e.diagnostics, code, `driver finished: ${status}`);
};

const driverLost: On<'DRIVER_LOST'> = (s, e) => {
  const d = `driver disconnected (CLIENT_LOST): ${e.why}`;
  return end(s, 'FAILED', d, EXIT.CLIENT_LOST, d);
};

const appFailing: On<'APP_FAILING'> = (s, e) => {
  const t = end(s, 'FAILED', e.diagnostics, e.exitCode, `failing the application: ${firstLine(e.diagnostics)}`);
  if (s.mode === 'client')
    t.effects.splice(1, 0, { type: 'tellDriverFailing', exitCode: e.exitCode, diagnostics: e.diagnostics });
  return t;
};

const rmSaysExit: On<'RM_SAYS_EXIT'> = (s, e) =>
  leave(s, EXIT.RM_ENDED_ATTEMPT, `the ResourceManager ended this attempt: ${e.why}`);

const rmLost: On<'RM_LOST'> = (s, e) => leave(s, EXIT.RM_LOST, `lost the ResourceManager: ${e.why}`);

const unregistered: On<'UNREGISTERED'> = (s) => {
  const x = s.ending!;
  const effects: AmEffect[] = [
    {
      type: 'log',
      line: `unregistered: ${x.finalStatus}${x.diagnostics ? ` (${firstLine(x.diagnostics)})` : ''}`,
    },
  ];
  if (s.mode === 'client')
    effects.push({ type: 'answerDriver', unregistered: true, diagnostics: '' }, { type: 'closeDriver' });
  effects.push({ type: 'exit', code: x.exitCode });
  return { state: { ...s, status: 'DONE' }, effects };
};

/** The RM did not take the unregister: exit 12, so that the RM sees the attempt fail (and may retry it). */
const unregisterFailed: On<'UNREGISTER_FAILED'> = (s, e) => {
  const effects: AmEffect[] = [{ type: 'log', line: `unregister failed: ${e.why}` }];
  if (s.mode === 'client')
    effects.push(
      { type: 'answerDriver', unregistered: false, diagnostics: `the AM could not unregister: ${e.why}` },
      { type: 'closeDriver' },
    );
  effects.push({ type: 'exit', code: EXIT.RM_LOST });
  return { state: { ...s, status: 'DONE' }, effects };
};

const live = {
  DRIVER_FINISHED: driverFinished,
  DRIVER_LOST: driverLost,
  APP_FAILING: appFailing,
  RM_SAYS_EXIT: rmSaysExit,
  RM_LOST: rmLost,
};

export const amLifecycle = defineMachine<AmStatus, AmState, AmEvent, AmEffect>({
  name: 'application master',
  statuses: AM_STATUSES,
  status: (s) => s.status,
  moveTo: (s, status) => ({ ...s, status }),
  table: {
    WAITING_FOR_DRIVER: {
      ...live,
      DRIVER_CONNECTED: (s) => ({
        state: { ...s, status: 'RUNNING' },
        effects: [
          {
            type: 'log',
            line: s.mode === 'client' ? 'connected to the driver' : 'the driver registered its context',
          },
        ],
      }),
    },
    RUNNING: live,
    UNREGISTERING: {
      // the first ending decides: the driver's socket closing after its report, a second report, the
      // allocator failing as executors stop, the RM answering the heartbeat loop: all expected, none counts
      DRIVER_FINISHED: IGNORE,
      DRIVER_LOST: IGNORE,
      APP_FAILING: IGNORE,
      RM_SAYS_EXIT: IGNORE,
      RM_LOST: IGNORE,
      UNREGISTERED: unregistered,
      UNREGISTER_FAILED: unregisterFailed,
    },
    DONE: {
      DRIVER_FINISHED: IGNORE,
      DRIVER_LOST: IGNORE,
      APP_FAILING: IGNORE,
      RM_SAYS_EXIT: IGNORE,
      RM_LOST: IGNORE,
    },
  },
});
