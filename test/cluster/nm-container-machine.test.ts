/**
 * Stories through the NodeManager's container machine (src/cluster/nodemanager/container-machine.ts),
 * in-process with a manual clock. Every expected state, exit status, diagnostic and effect list is
 * written out here by hand; nothing is read back from the table under test.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  containerMachine,
  type NmContainerEffect,
  type NmContainerEvent,
  type NmContainerState,
  newContainerState,
  recoveringState,
} from '../../src/cluster/nodemanager/container-machine.js';
import { InvalidTransition } from '../../src/common/machine.js';

const ID = 'container_1700000000000_0001_01_000002';

/** A manual clock: time moves only when the test says so. */
function manualClock(start = 1_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
      return now;
    },
  };
}

/** Steps a container through events, checking each transition's effects; returns the final state. */
function story(
  s: NmContainerState,
  steps: [NmContainerEvent, NmContainerState['status'], NmContainerEffect[]][],
): NmContainerState {
  for (const [e, status, effects] of steps) {
    const r = containerMachine.step(s, e);
    assert.equal(r.state.status, status, `${s.status} -${e.type}-> expected ${status}`);
    assert.deepEqual(r.effects, effects, `effects of ${s.status} -${e.type}->`);
    s = r.state;
  }
  return s;
}

/** A container launched as pgid 4242 at t=1100, requested at t=1000. */
function running(): NmContainerState {
  return {
    id: ID,
    status: 'RUNNING',
    requestedAt: 1_000,
    pgid: 4242,
    launchedAt: 1_100,
    finishedAt: undefined,
    kill: undefined,
    exitStatus: undefined,
    diagnostics: '',
    acked: false,
  };
}

test('happy path: localize, spawn, exit 0, clean up, report, ack deletes the record', () => {
  const clock = manualClock();
  const s = story(newContainerState(ID), [
    [{ type: 'Init', at: clock.now() }, 'LOCALIZING', [{ type: 'WriteRecoveryRecord' }, { type: 'Localize' }]],
    [{ type: 'Localized' }, 'RUNNING', [{ type: 'Spawn' }]],
    [{ type: 'Launched', pgid: 4242, at: clock.advance(100) }, 'RUNNING', [{ type: 'WriteRecoveryRecord' }]],
    [
      { type: 'Exited', code: 0, signal: null, at: clock.advance(900) },
      'EXITED_WITH_SUCCESS',
      [{ type: 'DeleteWorkDir' }],
    ],
    [
      { type: 'Cleaned' },
      'DONE',
      [{ type: 'WriteRecoveryRecord' }, { type: 'Report', exitStatus: 0, diagnostics: '' }],
    ],
    [{ type: 'Acked' }, 'DONE', [{ type: 'DeleteRecoveryRecord' }]],
    // a second ack (the same completion reported twice) asks for nothing
    [{ type: 'Acked' }, 'DONE', []],
  ]);
  assert.deepEqual(s, {
    id: ID,
    status: 'DONE',
    requestedAt: 1_000,
    pgid: 4242,
    launchedAt: 1_100,
    finishedAt: 2_000,
    kill: undefined,
    exitStatus: 0,
    diagnostics: '',
    acked: true,
  });
});

test('a failing process completes with its exit code; a signal gives 128 + n; no code at all is -100', () => {
  const fail = story(running(), [
    [{ type: 'Exited', code: 3, signal: null, at: 5_000 }, 'EXITED_WITH_FAILURE', [{ type: 'DeleteWorkDir' }]],
    [
      { type: 'Cleaned' },
      'DONE',
      [
        { type: 'WriteRecoveryRecord' },
        { type: 'Report', exitStatus: 3, diagnostics: "process exited with code 3; see the container's stderr" },
      ],
    ],
  ]);
  assert.equal(fail.finishedAt, 5_000);
  const sig = containerMachine.step(running(), { type: 'Exited', code: null, signal: 'SIGKILL', at: 5_000 }).state;
  assert.deepEqual(
    [sig.status, sig.exitStatus, sig.diagnostics],
    ['EXITED_WITH_FAILURE', 137, "process was killed by SIGKILL; see the container's stderr"],
  );
  const none = containerMachine.step(running(), { type: 'Exited', code: null, signal: null, at: 5_000 }).state;
  assert.deepEqual(
    [none.status, none.exitStatus, none.diagnostics],
    ['EXITED_WITH_FAILURE', -100, 'container process is gone and left no exit code (killed outside the NodeManager?)'],
  );
  const orphan = containerMachine.step(running(), {
    type: 'Exited',
    code: 143,
    signal: null,
    orphaned: true,
    at: 5_000,
  }).state;
  assert.deepEqual(
    [orphan.status, orphan.exitStatus, orphan.diagnostics],
    [
      'EXITED_WITH_FAILURE',
      -100,
      'container killed by its wrapper: no NodeManager was alive on its node for orphanKillMs (the NodeManager crashed and was not restarted in time)',
    ],
  );
});

test('localization failure completes with -1000 and never spawns', () => {
  const s = story(newContainerState(ID), [
    [{ type: 'Init', at: 1_000 }, 'LOCALIZING', [{ type: 'WriteRecoveryRecord' }, { type: 'Localize' }]],
    [
      { type: 'LocalizationFailed', message: 'resource app.tgz changed on the staging store' },
      'LOCALIZATION_FAILED',
      [{ type: 'DeleteWorkDir' }],
    ],
    [
      { type: 'Cleaned' },
      'DONE',
      [
        { type: 'WriteRecoveryRecord' },
        {
          type: 'Report',
          exitStatus: -1000,
          diagnostics: 'localization failed: resource app.tgz changed on the staging store',
        },
      ],
    ],
  ]);
  assert.equal(s.pgid, -1);
});

test('a kill during localization is remembered and the container never spawns', () => {
  const s = story(newContainerState(ID), [
    [{ type: 'Init', at: 1_000 }, 'LOCALIZING', [{ type: 'WriteRecoveryRecord' }, { type: 'Localize' }]],
    [
      { type: 'KillRequested', exitStatus: -105, diagnostics: 'container stopped by the ApplicationMaster' },
      'KILLING',
      [{ type: 'WriteRecoveryRecord' }],
    ],
    // a later kill does not change the status it completes with
    [{ type: 'KillRequested', exitStatus: -106, diagnostics: 'by the RM' }, 'KILLING', []],
    // localization finishing after the kill: cleaned up, no Spawn
    [{ type: 'Localized' }, 'CONTAINER_CLEANEDUP_AFTER_KILL', [{ type: 'DeleteWorkDir' }]],
    [
      { type: 'Cleaned' },
      'DONE',
      [
        { type: 'WriteRecoveryRecord' },
        { type: 'Report', exitStatus: -105, diagnostics: 'container stopped by the ApplicationMaster' },
      ],
    ],
  ]);
  assert.equal(s.pgid, -1);
  // the same when localization fails after the kill
  const k = containerMachine.step(
    { ...newContainerState(ID), status: 'LOCALIZING', requestedAt: 1_000 },
    { type: 'KillRequested', exitStatus: -107, diagnostics: 'application finished' },
  ).state;
  const f = containerMachine.step(k, { type: 'LocalizationFailed', message: 'boom' });
  assert.deepEqual(
    [f.state.status, f.state.exitStatus, f.state.diagnostics, f.effects],
    ['CONTAINER_CLEANEDUP_AFTER_KILL', -107, 'application finished', [{ type: 'DeleteWorkDir' }]],
  );
});

test('a kill while running kills the group and completes with the kill status, whatever the process exit code', () => {
  const s = story(running(), [
    [
      { type: 'KillRequested', exitStatus: -106, diagnostics: 'killed by the ResourceManager' },
      'KILLING',
      [{ type: 'WriteRecoveryRecord' }, { type: 'KillGroup' }],
    ],
    [{ type: 'MemoryExceeded', usedMB: 900, limitMB: 128 }, 'KILLING', []],
    [
      { type: 'Exited', code: 143, signal: null, at: 7_000 },
      'CONTAINER_CLEANEDUP_AFTER_KILL',
      [{ type: 'DeleteWorkDir' }],
    ],
    [
      { type: 'Cleaned' },
      'DONE',
      [
        { type: 'WriteRecoveryRecord' },
        { type: 'Report', exitStatus: -106, diagnostics: 'killed by the ResourceManager' },
      ],
    ],
    [{ type: 'KillRequested', exitStatus: -105, diagnostics: 'late' }, 'DONE', []],
  ]);
  assert.deepEqual([s.exitStatus, s.finishedAt], [-106, 7_000]);
});

test('memory over the limit kills with -104 and names used vs limit', () => {
  const s = story(running(), [
    [
      { type: 'MemoryExceeded', usedMB: 300.25, limitMB: 128 },
      'KILLING',
      [{ type: 'WriteRecoveryRecord' }, { type: 'KillGroup' }],
    ],
    [
      { type: 'Exited', code: null, signal: 'SIGTERM', at: 3_000 },
      'CONTAINER_CLEANEDUP_AFTER_KILL',
      [{ type: 'DeleteWorkDir' }],
    ],
  ]);
  assert.equal(s.exitStatus, -104);
  assert.equal(
    s.diagnostics,
    `Container ${ID} is running beyond physical memory limits. Current usage: 300.3 MB of 128.0 MB physical memory used. Killing container (exit -104).`,
  );
});

test('a process spawned in the same tick as a kill is killed as soon as its pgid is known', () => {
  const k = containerMachine.step(
    { ...running(), pgid: -1, launchedAt: undefined },
    { type: 'KillRequested', exitStatus: -105, diagnostics: 'stop' },
  );
  // no pgid yet: KillGroup is asked for, the shell can only act once Launched arrives
  assert.deepEqual(k.effects, [{ type: 'WriteRecoveryRecord' }, { type: 'KillGroup' }]);
  const l = containerMachine.step(k.state, { type: 'Launched', pgid: 777, at: 1_200 });
  assert.deepEqual(
    [l.state.status, l.state.pgid, l.effects],
    ['KILLING', 777, [{ type: 'WriteRecoveryRecord' }, { type: 'KillGroup' }]],
  );
});

test('recovery: a live recorded group is reacquired and watched; it later exits normally', () => {
  const clock = manualClock(50_000);
  const s = story(recoveringState(running()), [
    [{ type: 'Recovered', alive: true, exit: undefined, at: clock.now() }, 'RUNNING', [{ type: 'Watch' }]],
    [
      { type: 'MemoryExceeded', usedMB: 200, limitMB: 128 },
      'KILLING',
      [{ type: 'WriteRecoveryRecord' }, { type: 'KillGroup' }],
    ],
  ]);
  assert.deepEqual([s.pgid, s.launchedAt, s.recordedStatus], [4242, 1_100, undefined]);
  const ok = story(recoveringState(running()), [
    [{ type: 'Recovered', alive: true, exit: undefined, at: clock.now() }, 'RUNNING', [{ type: 'Watch' }]],
    [
      { type: 'Exited', code: 0, signal: null, at: clock.advance(5_000) },
      'EXITED_WITH_SUCCESS',
      [{ type: 'DeleteWorkDir' }],
    ],
  ]);
  assert.equal(ok.finishedAt, 55_000);
});

test('recovery: a group that ended while the NM was down completes with its recorded exit code', () => {
  const seven = containerMachine.step(recoveringState(running()), {
    type: 'Recovered',
    alive: false,
    exit: { code: 7, orphaned: false },
    at: 60_000,
  });
  assert.deepEqual(seven.effects, [{ type: 'DeleteWorkDir' }]);
  assert.deepEqual(
    [seven.state.status, seven.state.exitStatus, seven.state.diagnostics, seven.state.finishedAt],
    [
      'EXITED_WITH_FAILURE',
      7,
      "process exited with code 7; see the container's stderr (exited while the NodeManager was down)",
      60_000,
    ],
  );
  const zero = containerMachine.step(recoveringState(running()), {
    type: 'Recovered',
    alive: false,
    exit: { code: 0, orphaned: false },
    at: 60_000,
  }).state;
  assert.deepEqual([zero.status, zero.exitStatus, zero.diagnostics], ['EXITED_WITH_SUCCESS', 0, '']);
  // an exit-code file beats a group that still looks alive (the wrapper is reaping it)
  const racing = containerMachine.step(recoveringState(running()), {
    type: 'Recovered',
    alive: true,
    exit: { code: 2, orphaned: false },
    at: 60_000,
  }).state;
  assert.deepEqual([racing.status, racing.exitStatus], ['EXITED_WITH_FAILURE', 2]);
  const orphaned = containerMachine.step(recoveringState(running()), {
    type: 'Recovered',
    alive: false,
    exit: { code: undefined, orphaned: true },
    at: 60_000,
  }).state;
  assert.deepEqual(
    [orphaned.status, orphaned.exitStatus, orphaned.diagnostics],
    [
      'EXITED_WITH_FAILURE',
      -100,
      'container killed by its wrapper: no NodeManager was alive on its node for orphanKillMs (the NodeManager crashed and was not restarted in time) (exited while the NodeManager was down)',
    ],
  );
});

test('recovery: a gone process without an exit code, or one never launched, completes as lost (-100)', () => {
  const lost = containerMachine.step(recoveringState(running()), {
    type: 'Recovered',
    alive: false,
    exit: undefined,
    at: 60_000,
  });
  assert.deepEqual(
    [lost.state.status, lost.state.exitStatus, lost.state.diagnostics, lost.effects],
    [
      'EXITED_WITH_FAILURE',
      -100,
      'container lost across a NodeManager restart: its process is gone and left no exit code (killed outside the NodeManager?)',
      [{ type: 'DeleteWorkDir' }],
    ],
  );
  const localizing: NmContainerState = { ...newContainerState(ID), status: 'LOCALIZING', requestedAt: 1_000 };
  const never = containerMachine.step(recoveringState(localizing), {
    type: 'Recovered',
    alive: false,
    exit: undefined,
    at: 60_000,
  });
  assert.deepEqual(
    [never.state.status, never.state.exitStatus, never.state.diagnostics, never.effects],
    [
      'EXITED_WITH_FAILURE',
      -100,
      'container lost: the NodeManager restarted before it was launched',
      [{ type: 'DeleteWorkDir' }],
    ],
  );
});

test('recovery: a container the old NM was killing is killed again if alive, completes with the kill status if not', () => {
  const killing: NmContainerState = {
    ...running(),
    status: 'KILLING',
    kill: { exitStatus: -105, diagnostics: 'container stopped by the ApplicationMaster' },
  };
  const again = containerMachine.step(recoveringState(killing), {
    type: 'Recovered',
    alive: true,
    exit: undefined,
    at: 60_000,
  });
  assert.deepEqual([again.state.status, again.effects], ['KILLING', [{ type: 'Watch' }, { type: 'KillGroup' }]]);
  const gone = containerMachine.step(recoveringState(killing), {
    type: 'Recovered',
    alive: false,
    exit: { code: 143, orphaned: false },
    at: 60_000,
  });
  assert.deepEqual(
    [gone.state.status, gone.state.exitStatus, gone.state.diagnostics, gone.effects],
    ['CONTAINER_CLEANEDUP_AFTER_KILL', -105, 'container stopped by the ApplicationMaster', [{ type: 'DeleteWorkDir' }]],
  );
});

test('recovery: a completion the RM never acknowledged is reported again, unchanged', () => {
  const done: NmContainerState = {
    ...running(),
    status: 'DONE',
    finishedAt: 9_000,
    exitStatus: 3,
    diagnostics: "process exited with code 3; see the container's stderr",
  };
  const r = containerMachine.step(recoveringState(done), {
    type: 'Recovered',
    alive: false,
    exit: undefined,
    at: 60_000,
  });
  assert.deepEqual(r, { state: done, effects: [] });
});

test('illegal transitions throw InvalidTransition and leave the state unchanged', () => {
  const localizing: NmContainerState = { ...newContainerState(ID), status: 'LOCALIZING', requestedAt: 1_000 };
  const exited: NmContainerState = { ...running(), status: 'EXITED_WITH_SUCCESS', exitStatus: 0, finishedAt: 2_000 };
  const done: NmContainerState = { ...exited, status: 'DONE' };
  const cases: [NmContainerState, NmContainerEvent][] = [
    [newContainerState(ID), { type: 'Localized' }],
    [newContainerState(ID), { type: 'KillRequested', exitStatus: -105, diagnostics: '' }],
    [newContainerState(ID), { type: 'Exited', code: 0, signal: null, at: 1 }],
    [localizing, { type: 'Init', at: 1 }],
    [localizing, { type: 'Exited', code: 0, signal: null, at: 1 }],
    [localizing, { type: 'Launched', pgid: 1, at: 1 }],
    [localizing, { type: 'MemoryExceeded', usedMB: 1, limitMB: 1 }],
    [running(), { type: 'Init', at: 1 }],
    [running(), { type: 'Localized' }],
    [running(), { type: 'Cleaned' }],
    [running(), { type: 'Acked' }],
    [running(), { type: 'Recovered', alive: true, exit: undefined, at: 1 }],
    [exited, { type: 'Exited', code: 0, signal: null, at: 1 }],
    [exited, { type: 'Acked' }],
    [exited, { type: 'MemoryExceeded', usedMB: 1, limitMB: 1 }],
    [done, { type: 'Cleaned' }],
    [done, { type: 'Exited', code: 0, signal: null, at: 1 }],
    [recoveringState(running()), { type: 'KillRequested', exitStatus: -106, diagnostics: '' }],
    [recoveringState(running()), { type: 'Exited', code: 0, signal: null, at: 1 }],
  ];
  for (const [s, e] of cases) {
    const before = structuredClone(s);
    assert.throws(
      () => containerMachine.step(s, e),
      (err: Error) =>
        err instanceof InvalidTransition &&
        err.message.startsWith(`container (NM) ${ID}: event ${e.type} is not valid in state ${s.status}`),
      `${s.status} + ${e.type}`,
    );
    assert.deepEqual(s, before, `${s.status} + ${e.type} left the state alone`);
  }
});

test('expected late events are ignored: the very same state, no effects', () => {
  const killing: NmContainerState = { ...running(), status: 'KILLING', kill: { exitStatus: -105, diagnostics: 'x' } };
  const exited: NmContainerState = { ...running(), status: 'EXITED_WITH_FAILURE', exitStatus: 1, finishedAt: 2_000 };
  const done: NmContainerState = { ...exited, status: 'DONE' };
  for (const [s, e] of [
    [killing, { type: 'KillRequested', exitStatus: -106, diagnostics: 'y' }],
    [killing, { type: 'MemoryExceeded', usedMB: 500, limitMB: 128 }],
    [exited, { type: 'KillRequested', exitStatus: -106, diagnostics: 'y' }],
    [done, { type: 'KillRequested', exitStatus: -106, diagnostics: 'y' }],
  ] as [NmContainerState, NmContainerEvent][]) {
    const r = containerMachine.step(s, e);
    assert.equal(r.state, s);
    assert.deepEqual(r.effects, []);
  }
});
