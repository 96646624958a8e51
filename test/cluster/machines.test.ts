import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type AttemptState, appMachine, attemptMachine, nodeMachine } from '../../src/cluster/common/machines.js';
import type { AppState } from '../../src/protocol/cluster.js';

test('happy paths through the app, attempt and node machines', () => {
  let a: AppState = 'NEW';
  for (const e of ['START', 'ACCEPT', 'ATTEMPT_REGISTERED', 'ATTEMPT_UNREGISTERED'] as const) a = appMachine.next(a, e);
  assert.equal(a, 'FINISHED');
  let t: AttemptState = 'NEW';
  for (const e of ['SCHEDULE', 'CONTAINER_ALLOCATED', 'LAUNCHED', 'REGISTERED', 'UNREGISTERED'] as const)
    t = attemptMachine.next(t, e);
  assert.equal(t, 'FINISHED');
  assert.equal(nodeMachine.next(nodeMachine.next('RUNNING', 'EXPIRE'), 'REGISTER'), 'RUNNING');
  assert.throws(() => appMachine.next('FINISHED', 'ATTEMPT_REGISTERED', 'application_1_0001'), /application_1_0001/);
});
