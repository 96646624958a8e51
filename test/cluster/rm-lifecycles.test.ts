/**
 * Every (status, event) pair of the RM's four lifecycles, against expectations written here by hand
 * (not read from the tables): a status name is where the entity must land, "." means the event is
 * expected and changes nothing, "x" means it is illegal: InvalidTransition, status unchanged.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { appLifecycle } from '../../src/cluster/resourcemanager/app-lifecycle.js';
import { type AttemptEvent, attemptLifecycle } from '../../src/cluster/resourcemanager/attempt-lifecycle.js';
import type { RmContainer, RmNode } from '../../src/cluster/resourcemanager/books.js';
import { type ContainerEvent, rmContainerLifecycle } from '../../src/cluster/resourcemanager/container-lifecycle.js';
import { type NodeEvent, nodeLifecycle } from '../../src/cluster/resourcemanager/node-lifecycle.js';
import { InvalidTransition, type Machine } from '../../src/common/machine.js';
import { MB, RmHarness } from './rm-harness.js';

function grid(text: string): { events: string[]; rows: Map<string, string[]> } {
  const lines = text
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/));
  const events = lines[0]!;
  return { events, rows: new Map(lines.slice(1).map(([s, ...cells]) => [s!, cells])) };
}

function checkGrid<S, E extends { type: string }>(
  m: Machine<string, S, E, unknown>,
  text: string,
  make: (status: string) => S,
  event: (type: string) => E,
): void {
  const { events, rows } = grid(text);
  assert.deepEqual([...rows.keys()].sort(), [...m.statuses].sort(), 'the grid covers every status');
  for (const [status, cells] of rows) {
    assert.equal(cells.length, events.length, `row ${status} has a cell per event`);
    events.forEach((type, i) => {
      const want = cells[i]!;
      test(`${m.name}: ${status} --${type}--> ${want === 'x' ? 'illegal' : want === '.' ? 'ignored' : want}`, () => {
        const s = make(status);
        if (want === 'x') {
          assert.throws(() => m.step(s, event(type)), InvalidTransition);
          assert.equal(m.status(s), status);
        } else assert.equal(m.status(m.step(s, event(type)).state), want === '.' ? status : want);
      });
    });
  }
}

/** Books with one node and one submitted app whose current attempt was allocated and registered. */
function world() {
  const h = new RmHarness({ nmLivenessMs: 1e9, amLivenessMs: 1e9 });
  h.registerNode(1);
  const appId = h.submit();
  const attemptId = h.amUp(appId);
  return { h, appId, attemptId };
}

describe('application lifecycle', () => {
  checkGrid(
    appLifecycle as never,
    `
             START      REJECT  ACCEPT    ATTEMPT_REGISTERED  ATTEMPT_UNREGISTERED  ATTEMPT_FAILED  KILL
    NEW      SUBMITTED  FAILED  x         x                   x                     x               KILLED
    SUBMITTED x         FAILED  ACCEPTED  x                   x                     x               KILLED
    ACCEPTED x          x       x         RUNNING             x                     ACCEPTED        KILLED
    RUNNING  x          x       x         .                   FINISHED              ACCEPTED        KILLED
    FINISHED x          x       x         x                   .                     .               .
    FAILED   x          x       x         x                   .                     .               .
    KILLED   x          x       x         x                   .                     .               .
    `,
    (status) => {
      const { h, appId } = world();
      const app = h.app(appId);
      app.state = status as never;
      return { b: h.books, app };
    },
    (type) => {
      const now = 2_000_000;
      switch (type) {
        case 'REJECT':
          return { type, now, diagnostics: 'no' };
        case 'ATTEMPT_UNREGISTERED':
          return { type, now, finalStatus: 'SUCCEEDED', diagnostics: '' };
        case 'ATTEMPT_FAILED':
          // the first of two attempts failed: a retry is due
          return { type, now, attempt: { state: 'FAILED', n: 1, attemptId: 'a', diagnostics: 'd' }, exitStatus: 1 };
        case 'KILL':
          return { type, now, diagnostics: 'killed' };
        default:
          return { type, now };
      }
    },
  );
});

describe('attempt lifecycle', () => {
  checkGrid(
    attemptLifecycle as never,
    `
              SCHEDULE   CONTAINER_ALLOCATED  LAUNCHED  LAUNCH_FAILED  REGISTERED  UNREGISTERED  CONTAINER_FINISHED  EXPIRE  KILL
    NEW       SCHEDULED  x                    x         x              x           x             x                   x       KILLED
    SCHEDULED x          ALLOCATED            x         x              x           x             x                   x       KILLED
    ALLOCATED x          x                    LAUNCHED  FAILED         RUNNING     x             FAILED              FAILED  KILLED
    LAUNCHED  x          x                    .         .              RUNNING     x             FAILED              FAILED  KILLED
    RUNNING   x          x                    .         .              RUNNING     FINISHED      FAILED              FAILED  KILLED
    FINISHED  x          x                    x         .              x           .             .                   .       .
    FAILED    x          x                    x         .              x           x             .                   .       .
    KILLED    x          x                    x         .              x           x             .                   .       .
    `,
    (status) => {
      const { h, appId } = world();
      const app = h.app(appId);
      const at = h.attempt(appId);
      at.state = status as never;
      return { b: h.books, app, at };
    },
    (type): AttemptEvent => {
      const now = 2_000_000;
      const container = {
        id: 'container_1_0001_01_000009',
        appId: 'x',
        nodeId: '10.0.0.1:4545',
        nodeHost: '10.0.0.1',
        nodePort: 4545,
        resource: { memoryMB: MB, vcores: 1 },
      };
      switch (type) {
        case 'CONTAINER_ALLOCATED':
          return { type, now, container };
        case 'LAUNCH_FAILED':
        case 'EXPIRE':
          return { type, now, diagnostics: 'gone' };
        case 'REGISTERED':
          return { type, now, host: 'h', rpcPort: 1, trackingUrl: '' };
        case 'UNREGISTERED':
          return { type, now, finalStatus: 'SUCCEEDED', diagnostics: '' };
        case 'CONTAINER_FINISHED':
          return { type, now, exitStatus: 1, diagnostics: 'exit 1' };
        default:
          return { type, now } as AttemptEvent;
      }
    },
  );
});

describe('container lifecycle (RM)', () => {
  checkGrid(
    rmContainerLifecycle as never,
    `
              ACQUIRED  LAUNCHED  FINISHED   RELEASED  KILLED  EXPIRED
    ALLOCATED ACQUIRED  RUNNING   COMPLETED  RELEASED  KILLED  EXPIRED
    ACQUIRED  x         RUNNING   COMPLETED  RELEASED  KILLED  EXPIRED
    RUNNING   .         .         COMPLETED  RELEASED  KILLED  x
    COMPLETED x         x         x          x         x       x
    RELEASED  x         x         x          x         x       x
    KILLED    x         x         x          x         x       x
    EXPIRED   x         x         x          x         x       x
    `,
    (status) => {
      const { h, attemptId } = world();
      const c = h.books.containers.get(h.allocate(attemptId, [{ count: 1, memoryMB: MB }]).allocated[0]!.id)!;
      c.state = status as never;
      return { b: h.books, c } as { b: typeof h.books; c: RmContainer };
    },
    (type): ContainerEvent => {
      switch (type) {
        case 'FINISHED':
          return {
            type,
            status: {
              containerId: 'c',
              appId: 'a',
              state: 'COMPLETE',
              exitStatus: 0,
              diagnostics: '',
              resource: { memoryMB: MB, vcores: 1 },
            },
          };
        case 'KILLED':
          return { type, exitStatus: -106, diagnostics: 'killed' };
        case 'EXPIRED':
          return { type, now: 2_000_000 };
        default:
          return { type } as ContainerEvent;
      }
    },
  );
});

describe('node lifecycle', () => {
  checkGrid(
    nodeLifecycle as never,
    `
             REGISTER  HEARTBEAT  EXPIRE  SHUTDOWN
    NEW      RUNNING   .          x       .
    RUNNING  RUNNING   .          LOST    SHUTDOWN
    LOST     RUNNING   .          .       SHUTDOWN
    SHUTDOWN RUNNING   .          .       .
    `,
    (status) => {
      const { h } = world();
      const node = h.books.nodes.get('10.0.0.1:4545')!;
      node.state = status as never;
      return { b: h.books, node } as { b: typeof h.books; node: RmNode };
    },
    (type): NodeEvent => {
      const now = 2_000_000;
      if (type === 'REGISTER')
        return {
          type,
          now,
          host: '10.0.0.1',
          port: 4545,
          capacity: { memoryMB: 8 * MB, vcores: 8 },
          labels: [],
          containers: [],
          runningApps: [],
        };
      if (type === 'HEARTBEAT') return { type, now, containers: [] };
      return { type, now } as NodeEvent;
    },
  );

  test('a heartbeat from a node that is not RUNNING is answered with resync', () => {
    const { h } = world();
    const node = h.books.nodes.get('10.0.0.1:4545')!;
    node.state = 'LOST';
    const r = nodeLifecycle.step({ b: h.books, node }, { type: 'HEARTBEAT', now: 1, containers: [] });
    assert.deepEqual(r.effects, [{ kind: 'reply', value: { resync: true, containersToKill: [], appsToCleanup: [] } }]);
  });
});
