import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineMachine, IGNORE, InvalidTransition, statusMachine } from '../../src/common/machine.js';
import { stepTask } from '../../src/scheduler/task-state.js';

type Door = { status: 'OPEN' | 'SHUT'; slams: number };
type DoorEvent = { type: 'close'; hard: boolean } | { type: 'open' } | { type: 'knock' };
type DoorEffect = { kind: 'noise'; db: number };
const door = defineMachine<Door['status'], Door, DoorEvent, DoorEffect>({
  name: 'door',
  statuses: ['OPEN', 'SHUT'],
  status: (d) => d.status,
  moveTo: (d, status) => ({ ...d, status }),
  subject: () => 'front',
  table: {
    OPEN: {
      close: (d, e) => ({
        state: { status: 'SHUT', slams: d.slams + (e.hard ? 1 : 0) },
        effects: e.hard ? [{ kind: 'noise', db: 90 }] : [],
      }),
      open: IGNORE,
    },
    SHUT: { open: 'OPEN', close: IGNORE },
  },
});

test('a handler entry returns the next state and its effects', () => {
  const r = door.step({ status: 'OPEN', slams: 0 }, { type: 'close', hard: true });
  assert.deepEqual(r, { state: { status: 'SHUT', slams: 1 }, effects: [{ kind: 'noise', db: 90 }] });
});

test('a status entry moves the state and asks for nothing; IGNORE keeps the very same state', () => {
  assert.deepEqual(door.step({ status: 'SHUT', slams: 2 }, { type: 'open' }), {
    state: { status: 'OPEN', slams: 2 },
    effects: [],
  });
  const shut: Door = { status: 'SHUT', slams: 2 };
  assert.equal(door.step(shut, { type: 'close', hard: true }).state, shut);
});

test('a missing entry throws InvalidTransition naming machine, entity, event and state; the state is untouched', () => {
  const open: Door = { status: 'OPEN', slams: 0 };
  assert.throws(
    () => door.step(open, { type: 'knock' }),
    (e: Error) =>
      e instanceof InvalidTransition && e.message.startsWith('door front: event knock is not valid in state OPEN'),
  );
  assert.deepEqual(open, { status: 'OPEN', slams: 0 });
  assert.equal(door.accepts(open, { type: 'knock' }), false);
  assert.equal(door.accepts(open, { type: 'open' }), true);
});

test('statusMachine.next for plain status tables', () => {
  const light = statusMachine<'ON' | 'OFF', 'flip' | 'pulse'>('light', ['ON', 'OFF'], {
    ON: { flip: 'OFF', pulse: IGNORE },
    OFF: { flip: 'ON' },
  });
  assert.equal(light.next('ON', 'flip'), 'OFF');
  assert.equal(light.next('ON', 'pulse'), 'ON');
  assert.throws(() => light.next('OFF', 'pulse', 'hall'), /light hall: event pulse is not valid in state OFF/);
});

test('task attempts: launch, report, late reports ignored, illegal reports refused', () => {
  assert.equal(stepTask('PENDING', 'launch'), 'LAUNCHED');
  assert.equal(stepTask('LAUNCHED', 'finished'), 'FINISHED'); // the RUNNING report may be skipped
  assert.equal(stepTask('RUNNING', 'lost'), 'LOST');
  assert.equal(stepTask('FINISHED', 'failed'), undefined); // a kill racing a finish
  assert.equal(stepTask('LOST', 'finished'), undefined);
  assert.throws(() => stepTask('PENDING', 'finished'), InvalidTransition);
  assert.throws(() => stepTask('RUNNING', 'launch'), InvalidTransition);
});
