/**
 * The RM's identity checks, in process (issue 16): a node speaks only for the node its connection
 * registered as and uploads logs only for apps it ran containers of; an AM acts only on the attempt of
 * its AM token; a node cannot report another node's AM container as ended (even after an RM restart,
 * before the real node is back); each role may send only its own messages (callers.ts); tokens are
 * checked for signature, kind and expiry.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { callerOf, checkRole } from '../../src/cluster/resourcemanager/callers.js';
import { mintToken, parseIdentifier, tokenPassword, verifyToken } from '../../src/cluster/security/tokens.js';
import type { ToRm } from '../../src/protocol/cluster.js';
import { RmHarness } from './rm-harness.js';

const NODE1 = '10.0.0.1:4545';
const NODE2 = '10.0.0.2:4545';

describe('RM: nodes speak only for themselves', () => {
  test('a heartbeat for another node (or from a connection that never registered) is refused, books unchanged', () => {
    const h = new RmHarness();
    h.registerNode(1);
    h.registerNode(2);
    const app = h.submit();
    h.amUp(app);
    const am = h.attempt(app).amContainerId!;
    const onNode = h.attempt(app).nodeId!;
    const other = onNode === NODE1 ? NODE2 : NODE1;
    const forged = { type: 'NodeHeartbeat' as const, now: h.now, nodeId: onNode, containers: [h.complete(am, app, 1)] };
    assert.throws(() => h.send({ ...forged, authNode: other }), /NOT_YOUR_NODE|this connection is node .*, not/);
    assert.throws(() => h.send({ ...forged, authNode: '' }), /this connection is not a registered node/);
    assert.equal(h.attempt(app).state, 'RUNNING', 'the AM attempt did not fail');
    assert.throws(
      () => h.send({ type: 'NodeUnregistered', now: h.now, nodeId: onNode, authNode: other }),
      /this connection is node/,
    );
    assert.equal(h.books.nodes.get(onNode)!.state, 'RUNNING');
  });

  test('a node reporting another node’s AM container as ended changes nothing', () => {
    const h = new RmHarness();
    h.registerNode(1);
    const app = h.submit();
    h.amUp(app);
    const am = h.attempt(app).amContainerId!;
    h.registerNode(2);
    // its own heartbeat, naming a container the RM placed on node 1
    h.send({ type: 'NodeHeartbeat', now: h.now, nodeId: NODE2, authNode: NODE2, containers: [h.complete(am, app, 1)] });
    assert.equal(h.attempt(app).state, 'RUNNING');
    // after an RM restart, before node 1 is back: the AM container is unknown to the books, still not node 2's
    const r = h.restart();
    r.registerNode(2, { containers: [r.complete(am, app, 1)], runningApps: [app] });
    assert.equal(r.attempt(app).state, 'RUNNING', 'node 2 cannot fail an attempt whose AM ran on node 1');
  });

  test('logs are accepted only from a node that ran containers of the app', () => {
    const h = new RmHarness();
    h.registerNode(1);
    h.registerNode(2);
    const app = h.submit();
    h.amUp(app);
    const onNode = h.attempt(app).nodeId!;
    const other = onNode === NODE1 ? NODE2 : NODE1;
    assert.throws(
      () => h.send({ type: 'LogsUploaded', now: h.now, appId: app, nodeId: other, authNode: other }),
      /NOT_YOUR_CONTAINER|ran no container of/,
    );
    assert.throws(
      () => h.send({ type: 'LogsUploaded', now: h.now, appId: app, nodeId: onNode, authNode: other }),
      /this connection is node/,
    );
    h.send({ type: 'LogsUploaded', now: h.now, appId: app, nodeId: onNode, authNode: onNode });
    assert.deepEqual(h.app(app).logsUploaded, [onNode]);
  });
});

describe('RM: an AM acts only on its own attempt', () => {
  test('register, allocate and finish for another attempt are refused with the books unchanged', () => {
    const h = new RmHarness({
      queues: { 'root.default': { capacity: 100, maxCapacity: 100, maxAmPercent: 100, state: 'RUNNING' } },
    });
    h.registerNode(1, { capacity: { memoryMB: 16 * 1024, vcores: 16 } });
    const alice = h.submit({ user: 'alice' });
    const bob = h.submit({ user: 'bob' });
    const a = h.amUp(alice);
    const b = h.amUp(bob);
    const before = JSON.stringify(h.books.state);
    assert.throws(
      () =>
        h.send({
          type: 'AmAllocate',
          now: h.now,
          attemptId: a,
          authAttempt: b,
          asks: [{ count: 50, resource: { memoryMB: 512, vcores: 1 } }],
          releases: [],
          progress: 0,
          trackingUrl: undefined,
          lastResponseId: undefined,
        }),
      new RegExp(`AmAllocate for ${a} refused: this connection holds the AM token of ${b}`),
    );
    assert.throws(
      () =>
        h.send({
          type: 'AmFinished',
          now: h.now,
          attemptId: a,
          authAttempt: b,
          finalStatus: 'SUCCEEDED',
          diagnostics: '',
        }),
      /NOT_YOUR_ATTEMPT|holds the AM token of/,
    );
    assert.throws(
      () =>
        h.send({
          type: 'AmRegistered',
          now: h.now,
          attemptId: a,
          authAttempt: b,
          host: 'evil',
          rpcPort: 1,
          trackingUrl: 'http://evil',
        }),
      /holds the AM token of/,
    );
    assert.equal(JSON.stringify(h.books.state), before);
    assert.equal(h.app(alice).state, 'RUNNING');
  });

  test('the AM launch carries the app secret in credentials, never in the env', () => {
    const h = new RmHarness();
    h.registerNode(1);
    h.submit();
    const l = h.lastLaunch()!;
    assert.equal(l.message.credentials?.CINDER_APP_SECRET, 's3cret');
    assert.ok(!Object.values(l.message.launchContext.env ?? {}).includes('s3cret'));
    assert.equal(l.message.launchContext.env?.CINDER_APP_SECRET, undefined);
  });
});

describe('roles and tokens', () => {
  const key = Buffer.alloc(32, 7);
  const user = mintToken(key, { kind: 'user', name: 'bob', admin: false, exp: Date.now() + 60_000, iat: 0 });
  const am = mintToken(key, {
    kind: 'am',
    attemptId: 'appattempt_1_0001_000001',
    appId: 'application_1_0001',
    user: 'bob',
    exp: Date.now() + 60_000,
  });
  const node: ToRm = { type: 'NodeHeartbeat', nodeId: 'n:1', containers: [] };

  test('each role may send only its own messages', () => {
    assert.throws(
      () => checkRole(callerOf(user.identifier), node),
      /NodeHeartbeat needs the NodeManagers’ cluster credential; this connection is user bob/,
    );
    assert.throws(
      () => checkRole(callerOf(am.identifier), node),
      /this connection is the AM of appattempt_1_0001_000001/,
    );
    assert.throws(
      () => checkRole(callerOf(am.identifier), { type: 'KillApplication', appId: 'application_1_0001' }),
      /KillApplication needs a user identity/,
    );
    assert.throws(
      () => checkRole(callerOf('cluster'), { type: 'GetApplications' }),
      /GetApplications needs a user identity; this connection is a NodeManager/,
    );
    assert.throws(
      () =>
        checkRole(callerOf(user.identifier), { type: 'Allocate', attemptId: 'x', asks: [], releases: [], progress: 0 }),
      /Allocate needs an AM token/,
    );
    checkRole(callerOf('cluster'), node);
    checkRole(callerOf(am.identifier), { type: 'GetApplicationReport', appId: 'application_1_0001' });
    assert.throws(() =>
      checkRole(callerOf(am.identifier), { type: 'GetApplicationReport', appId: 'application_1_0002' }),
    );
  });

  test('a token is its identifier’s HMAC: a changed identifier, another key, another kind or an old one is refused', () => {
    assert.equal(parseIdentifier(user.identifier)?.kind, 'user');
    assert.equal(verifyToken(key, user, 'user', Date.now()).name, 'bob');
    const id = parseIdentifier(user.identifier)!;
    const admin = `ct1.${Buffer.from(JSON.stringify({ ...id, admin: true })).toString('base64url')}`;
    assert.throws(
      () => verifyToken(key, { identifier: admin, password: user.password }, 'user', Date.now()),
      /not one this cluster signed/,
    );
    assert.throws(() => verifyToken(Buffer.alloc(32, 8), user, 'user', Date.now()), /not one this cluster signed/);
    assert.throws(() => verifyToken(key, am, 'user', Date.now()), /expected a user token, got a am token/);
    assert.throws(() => verifyToken(key, user, 'user', Date.now() + 120_000), /TOKEN_EXPIRED|expired/);
    assert.equal(tokenPassword(key, user.identifier), user.password);
    assert.equal(parseIdentifier('cluster'), undefined);
  });
});
