import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALL_MACHINES, appMachine, attemptMachine, nodeMachine } from '../../src/cluster/common/machines.js';
import { IGNORE, InvalidTransition, type Machine, step } from '../../src/cluster/common/state-machine.js';

// Every (state, event) pair of every machine: legal ones land where the table says, ignorable ones
// keep the state, and every missing pair throws InvalidTransition naming the machine, state and event.
for (const m of ALL_MACHINES as readonly Machine<string, string>[]) {
  describe(`${m.name} transitions`, () => {
    for (const s of m.states) {
      for (const e of m.events) {
        const t = m.table[s]?.[e];
        if (t === undefined) {
          test(`illegal: ${s} --${e}-->`, () => {
            assert.throws(
              () => step(m, s, e),
              (err: unknown) =>
                err instanceof InvalidTransition && err.message.includes(`${e} is not valid in state ${s}`),
            );
          });
        } else {
          test(`legal: ${s} --${e}--> ${t === IGNORE ? `(ignored) ${s}` : t}`, () => {
            assert.equal(step(m, s, e), t === IGNORE ? s : t);
            assert.ok(t === IGNORE || m.states.includes(t), `target ${String(t)} is a state`);
          });
        }
      }
    }
  });
}

test('happy paths through the app, attempt and node machines', () => {
  let a = appMachine.states[0]!;
  for (const e of ['START', 'ACCEPT', 'ATTEMPT_REGISTERED', 'ATTEMPT_UNREGISTERED'] as const)
    a = step(appMachine, a, e);
  assert.equal(a, 'FINISHED');
  let t = attemptMachine.states[0]!;
  for (const e of ['SCHEDULE', 'CONTAINER_ALLOCATED', 'LAUNCHED', 'REGISTERED', 'UNREGISTERED'] as const)
    t = step(attemptMachine, t, e);
  assert.equal(t, 'FINISHED');
  assert.equal(step(nodeMachine, step(nodeMachine, 'RUNNING', 'EXPIRE'), 'REGISTER'), 'RUNNING');
  assert.throws(() => step(appMachine, 'FINISHED', 'ATTEMPT_REGISTERED', 'application_1_0001'), /application_1_0001/);
});
