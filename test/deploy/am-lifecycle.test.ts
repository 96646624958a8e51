/**
 * The AM lifecycle table (src/deploy/am/am-lifecycle.ts), every status with every event, in both deploy
 * modes, and its shell (am-shell.ts) on fake I/O: the shutdown race of the client-mode AM (the
 * driver's report followed by its socket closing) must unregister once, with the driver's status, and
 * exit only after the unregister completed. Expected states and effects are written out by hand.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidTransition } from '../../src/common/machine.js';
import { type AmEvent, type AmState, type AmStatus, amLifecycle } from '../../src/deploy/am/am-lifecycle.js';
import { type AmIo, amShell } from '../../src/deploy/am/am-shell.js';

const CONNECTED: AmEvent = { type: 'DRIVER_CONNECTED' };
const OK: AmEvent = { type: 'DRIVER_FINISHED', succeeded: true, diagnostics: '' };
const BOOM: AmEvent = { type: 'DRIVER_FINISHED', succeeded: false, diagnostics: 'Error: boom\n    at main.ts:3' };
const LOST: AmEvent = { type: 'DRIVER_LOST', why: 'the connection to the driver closed' };
const FAILING: AmEvent = {
  type: 'APP_FAILING',
  diagnostics: 'max number of executor failures (4) reached',
  exitCode: 11,
};
const RM_EXIT: AmEvent = { type: 'RM_SAYS_EXIT', why: 'attempt is KILLED' };
const RM_LOST: AmEvent = { type: 'RM_LOST', why: 'could not reach the ResourceManager' };
const UNREG: AmEvent = { type: 'UNREGISTERED' };
const UNREG_FAILED: AmEvent = { type: 'UNREGISTER_FAILED', why: 'refused' };

function client(status: AmStatus, ending?: AmState['ending']): AmState {
  return { status, mode: 'client', attempt: 1, maxAttempts: 2, ...(ending ? { ending } : {}) };
}
function cluster(status: AmStatus, attempt = 1, ending?: AmState['ending']): AmState {
  return { status, mode: 'cluster', attempt, maxAttempts: 2, ...(ending ? { ending } : {}) };
}

function illegal(s: AmState, e: AmEvent): void {
  assert.throws(
    () => amLifecycle.step(s, e),
    (x: unknown) => x instanceof InvalidTransition && x.status === s.status && x.event === e.type,
    `${s.status} + ${e.type} must be illegal`,
  );
}

function ignored(s: AmState, e: AmEvent): void {
  assert.deepEqual(amLifecycle.step(s, e), { state: s, effects: [] }, `${s.status} + ${e.type} must be ignored`);
}

describe('AM lifecycle, client mode', () => {
  for (const status of ['WAITING_FOR_DRIVER', 'RUNNING'] as const) {
    const s = client(status);
    test(`${status}: the driver reports SUCCEEDED -> stop executors, unregister SUCCEEDED`, () => {
      assert.deepEqual(amLifecycle.step(s, OK), {
        state: client('UNREGISTERING', { finalStatus: 'SUCCEEDED', diagnostics: '', exitCode: 0 }),
        effects: [
          { type: 'log', line: 'driver finished: SUCCEEDED' },
          { type: 'stopExecutors' },
          { type: 'unregister', finalStatus: 'SUCCEEDED', diagnostics: '' },
        ],
      });
    });
    test(`${status}: the driver reports FAILED -> unregister FAILED with its diagnostics (final: exit 0)`, () => {
      assert.deepEqual(amLifecycle.step(s, BOOM), {
        state: client('UNREGISTERING', {
          finalStatus: 'FAILED',
          diagnostics: 'Error: boom\n    at main.ts:3',
          exitCode: 0,
        }),
        effects: [
          { type: 'log', line: 'driver finished: FAILED' },
          { type: 'stopExecutors' },
          { type: 'unregister', finalStatus: 'FAILED', diagnostics: 'Error: boom\n    at main.ts:3' },
        ],
      });
    });
    test(`${status}: the driver lost without a report -> FAILED CLIENT_LOST, exit 17`, () => {
      const d = 'driver disconnected (CLIENT_LOST): the connection to the driver closed';
      assert.deepEqual(amLifecycle.step(s, LOST), {
        state: client('UNREGISTERING', { finalStatus: 'FAILED', diagnostics: d, exitCode: 17 }),
        effects: [
          { type: 'log', line: d },
          { type: 'stopExecutors' },
          { type: 'unregister', finalStatus: 'FAILED', diagnostics: d },
        ],
      });
    });
    test(`${status}: the app failing on the cluster -> the driver is told, then FAILED with the reason`, () => {
      const d = 'max number of executor failures (4) reached';
      assert.deepEqual(amLifecycle.step(s, FAILING), {
        state: client('UNREGISTERING', { finalStatus: 'FAILED', diagnostics: d, exitCode: 11 }),
        effects: [
          { type: 'log', line: `failing the application: ${d}` },
          { type: 'tellDriverFailing', exitCode: 11, diagnostics: d },
          { type: 'stopExecutors' },
          { type: 'unregister', finalStatus: 'FAILED', diagnostics: d },
        ],
      });
    });
    test(`${status}: the RM ended the attempt -> exit 16 without unregistering`, () => {
      assert.deepEqual(amLifecycle.step(s, RM_EXIT), {
        state: client('DONE'),
        effects: [
          { type: 'log', line: 'the ResourceManager ended this attempt: attempt is KILLED' },
          { type: 'stopExecutors' },
          { type: 'closeDriver' },
          { type: 'exit', code: 16 },
        ],
      });
    });
    test(`${status}: the RM lost -> exit 12 without unregistering (the driver waits for the next attempt)`, () => {
      assert.deepEqual(amLifecycle.step(s, RM_LOST), {
        state: client('DONE'),
        effects: [
          { type: 'log', line: 'lost the ResourceManager: could not reach the ResourceManager' },
          { type: 'stopExecutors' },
          { type: 'closeDriver' },
          { type: 'exit', code: 12 },
        ],
      });
    });
    test(`${status}: unregister outcomes before any unregister are illegal`, () => {
      illegal(s, UNREG);
      illegal(s, UNREG_FAILED);
    });
  }

  test('WAITING_FOR_DRIVER -> RUNNING when the driver connects; a second connect is illegal', () => {
    assert.deepEqual(amLifecycle.step(client('WAITING_FOR_DRIVER'), CONNECTED), {
      state: client('RUNNING'),
      effects: [{ type: 'log', line: 'connected to the driver' }],
    });
    illegal(client('RUNNING'), CONNECTED);
  });

  const ending = { finalStatus: 'SUCCEEDED' as const, diagnostics: '', exitCode: 0 };
  test('UNREGISTERING: the socket closing, a second report, late failures are all ignored', () => {
    const s = client('UNREGISTERING', ending);
    for (const e of [OK, BOOM, LOST, FAILING, RM_EXIT, RM_LOST]) ignored(s, e);
    illegal(s, CONNECTED);
  });

  test('UNREGISTERING -> DONE: answer the driver, close, exit with the code decided before', () => {
    assert.deepEqual(amLifecycle.step(client('UNREGISTERING', ending), UNREG), {
      state: client('DONE', ending),
      effects: [
        { type: 'log', line: 'unregistered: SUCCEEDED' },
        { type: 'answerDriver', unregistered: true, diagnostics: '' },
        { type: 'closeDriver' },
        { type: 'exit', code: 0 },
      ],
    });
    const lost = {
      finalStatus: 'FAILED' as const,
      diagnostics: 'driver disconnected (CLIENT_LOST): x\ny',
      exitCode: 17,
    };
    assert.deepEqual(amLifecycle.step(client('UNREGISTERING', lost), UNREG).effects[0], {
      type: 'log',
      line: 'unregistered: FAILED (driver disconnected (CLIENT_LOST): x)',
    });
  });

  test('UNREGISTERING -> DONE on a failed unregister: tell the driver, exit 12 so the RM sees the attempt fail', () => {
    assert.deepEqual(amLifecycle.step(client('UNREGISTERING', ending), UNREG_FAILED), {
      state: client('DONE', ending),
      effects: [
        { type: 'log', line: 'unregister failed: refused' },
        { type: 'answerDriver', unregistered: false, diagnostics: 'the AM could not unregister: refused' },
        { type: 'closeDriver' },
        { type: 'exit', code: 12 },
      ],
    });
  });

  test('DONE: stray events are ignored; connects and unregister outcomes are illegal', () => {
    const s = client('DONE', ending);
    for (const e of [OK, BOOM, LOST, FAILING, RM_EXIT, RM_LOST]) ignored(s, e);
    for (const e of [CONNECTED, UNREG, UNREG_FAILED]) illegal(s, e);
  });
});

describe('AM lifecycle, cluster mode (the driver is main in the AM)', () => {
  test('the context registering is the driver connecting', () => {
    assert.deepEqual(amLifecycle.step(cluster('WAITING_FOR_DRIVER'), CONNECTED), {
      state: cluster('RUNNING'),
      effects: [{ type: 'log', line: 'the driver registered its context' }],
    });
  });

  test('main returned -> unregister SUCCEEDED (the context stopped its executors itself)', () => {
    assert.deepEqual(amLifecycle.step(cluster('RUNNING'), OK), {
      state: cluster('UNREGISTERING', 1, { finalStatus: 'SUCCEEDED', diagnostics: '', exitCode: 0 }),
      effects: [
        { type: 'log', line: 'driver finished: SUCCEEDED' },
        { type: 'unregister', finalStatus: 'SUCCEEDED', diagnostics: '' },
      ],
    });
  });

  test('main threw with an attempt left -> exit 15 without unregistering, so that the RM retries', () => {
    assert.deepEqual(amLifecycle.step(cluster('RUNNING', 1), BOOM), {
      state: cluster('DONE', 1, { finalStatus: 'FAILED', diagnostics: 'Error: boom\n    at main.ts:3', exitCode: 15 }),
      effects: [
        { type: 'log', line: 'driver finished: FAILED' },
        { type: 'log', line: 'attempt 1 of 2 failed; exiting so the ResourceManager retries: Error: boom' },
        { type: 'exit', code: 15 },
      ],
    });
  });

  test('main threw on the last attempt -> unregister FAILED with the stack, exit 15 after', () => {
    const t = amLifecycle.step(cluster('RUNNING', 2), BOOM);
    assert.deepEqual(t, {
      state: cluster('UNREGISTERING', 2, {
        finalStatus: 'FAILED',
        diagnostics: 'Error: boom\n    at main.ts:3',
        exitCode: 15,
      }),
      effects: [
        { type: 'log', line: 'driver finished: FAILED' },
        { type: 'unregister', finalStatus: 'FAILED', diagnostics: 'Error: boom\n    at main.ts:3' },
      ],
    });
    assert.deepEqual(amLifecycle.step(t.state, UNREG).effects, [
      { type: 'log', line: 'unregistered: FAILED (Error: boom)' },
      { type: 'exit', code: 15 },
    ]);
  });

  test('no context in time, attempt 1 of 2 -> exit 13; no driver channel to tell', () => {
    const d = 'the application did not create a CinderContext within 100 ms (cinder.am.waitTime)';
    assert.deepEqual(
      amLifecycle.step(cluster('WAITING_FOR_DRIVER'), { type: 'APP_FAILING', diagnostics: d, exitCode: 13 }),
      {
        state: cluster('DONE', 1, { finalStatus: 'FAILED', diagnostics: d, exitCode: 13 }),
        effects: [
          { type: 'log', line: `failing the application: ${d}` },
          { type: 'log', line: `attempt 1 of 2 failed; exiting so the ResourceManager retries: ${d}` },
          { type: 'exit', code: 13 },
        ],
      },
    );
  });

  test('the RM ended the attempt or was lost -> exit (16, 12) without unregistering', () => {
    assert.deepEqual(amLifecycle.step(cluster('RUNNING'), RM_EXIT), {
      state: cluster('DONE'),
      effects: [
        { type: 'log', line: 'the ResourceManager ended this attempt: attempt is KILLED' },
        { type: 'exit', code: 16 },
      ],
    });
    assert.deepEqual(amLifecycle.step(cluster('RUNNING'), RM_LOST), {
      state: cluster('DONE'),
      effects: [
        { type: 'log', line: 'lost the ResourceManager: could not reach the ResourceManager' },
        { type: 'exit', code: 12 },
      ],
    });
  });

  test('a failed unregister exits 12', () => {
    const s = cluster('UNREGISTERING', 2, { finalStatus: 'SUCCEEDED', diagnostics: '', exitCode: 0 });
    assert.deepEqual(amLifecycle.step(s, UNREG_FAILED).effects, [
      { type: 'log', line: 'unregister failed: refused' },
      { type: 'exit', code: 12 },
    ]);
  });
});

/** Fake I/O that records calls; unregister resolves or rejects when the test says. */
function fakeIo() {
  const calls: string[] = [];
  let settle!: { resolve: () => void; reject: (e: Error) => void };
  const io: AmIo = {
    log: (l) => calls.push(`log ${l}`),
    tellDriverFailing: (c) => calls.push(`tellDriverFailing ${c}`),
    stopExecutors: async () => {
      calls.push('stopExecutors');
    },
    unregister: (status, d) => {
      calls.push(`unregister ${status} ${d}`);
      return new Promise<void>((resolve, reject) => {
        settle = { resolve, reject };
      });
    },
    answerDriver: (ok, d) => calls.push(`answerDriver ${ok}${d ? ` ${d}` : ''}`),
    closeDriver: () => calls.push('closeDriver'),
    exit: (code) => calls.push(`exit ${code}`),
    illegal: (e) => calls.push(`illegal ${e.event} in ${e.status}`),
  };
  return { io, calls, settle: () => settle };
}

describe('AM lifecycle shell', () => {
  test('the driver reports SUCCEEDED and its socket closes 2 ms later: one unregister, SUCCEEDED, exit after it', async () => {
    const { io, calls, settle } = fakeIo();
    const sh = amShell(client('RUNNING'), io);
    sh.dispatch(OK);
    sh.dispatch(LOST);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls, ['log driver finished: SUCCEEDED', 'stopExecutors', 'unregister SUCCEEDED ']);
    assert.equal(sh.state.status, 'UNREGISTERING');
    sh.dispatch(LOST); // the lease timer, too
    settle().resolve();
    await sh.idle();
    assert.deepEqual(calls, [
      'log driver finished: SUCCEEDED',
      'stopExecutors',
      'unregister SUCCEEDED ',
      'log unregistered: SUCCEEDED',
      'answerDriver true',
      'closeDriver',
      'exit 0',
    ]);
    assert.equal(sh.state.status, 'DONE');
  });

  test('a disconnect without a report is CLIENT_LOST, exit 17 only after the unregister', async () => {
    const { io, calls, settle } = fakeIo();
    const sh = amShell(client('RUNNING'), io);
    sh.dispatch(LOST);
    await new Promise((r) => setImmediate(r));
    assert.ok(!calls.some((c) => c.startsWith('exit')), 'no exit before the unregister completes');
    settle().resolve();
    await sh.idle();
    const d = 'driver disconnected (CLIENT_LOST): the connection to the driver closed';
    assert.deepEqual(calls, [
      `log ${d}`,
      'stopExecutors',
      `unregister FAILED ${d}`,
      `log unregistered: FAILED (${d})`,
      'answerDriver true',
      'closeDriver',
      'exit 17',
    ]);
  });

  test('an unregister the RM refuses ends in exit 12, after it definitively failed', async () => {
    const { io, calls, settle } = fakeIo();
    const sh = amShell(client('RUNNING'), io);
    sh.dispatch(OK);
    await new Promise((r) => setImmediate(r));
    settle().reject(new Error('could not reach the ResourceManager at h:1 within 60 s\n  hint: x'));
    await sh.idle();
    assert.deepEqual(calls.slice(3), [
      'log unregister failed: could not reach the ResourceManager at h:1 within 60 s',
      'answerDriver false the AM could not unregister: could not reach the ResourceManager at h:1 within 60 s',
      'closeDriver',
      'exit 12',
    ]);
  });

  test('an event the table does not take is reported and changes nothing', async () => {
    const { io, calls } = fakeIo();
    const sh = amShell(client('RUNNING'), io);
    sh.dispatch(UNREG);
    await sh.idle();
    assert.deepEqual(calls, ['illegal UNREGISTERED in RUNNING']);
    assert.equal(sh.state.status, 'RUNNING');
  });
});
