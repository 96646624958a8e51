/**
 * ResourceManager stories, in process with a manual clock: each drives the pure books through what
 * daemons would send (nodes registering and heartbeating, clients submitting and killing, AMs
 * registering, allocating and finishing, time passing, the RM restarting on its persisted state) and
 * checks the outcome and the books' invariants after every event.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SubmissionContext } from '../../src/protocol/cluster.js';
import { MB, RmHarness } from './rm-harness.js';

describe('RM restart', () => {
  test('an app whose AM ended while the RM was down gets a new attempt that is scheduled (it hung in ACCEPTED)', () => {
    const h = new RmHarness();
    h.registerNode(1);
    const app = h.submit();
    const at1 = h.amUp(app);
    const amContainer = h.attempt(app).amContainerId!;
    // RM is SIGKILLed; the client-mode AM exits while it is down; the RM restarts on its state store
    const r = h.restart();
    assert.equal(r.app(app).state, 'RUNNING');
    // the NM re-registers and reports the AM container as completed
    r.registerNode(1, { containers: [r.complete(amContainer, app, 1)], runningApps: [app] });
    assert.equal(r.books.state.apps[app]!.attempts[0]!.state, 'FAILED');
    const at2 = r.attempt(app);
    assert.equal(at2.n, 2);
    assert.equal(at2.state, 'ALLOCATED', 'attempt 2 got its AM container on the empty node');
    assert.equal(r.lastLaunch()?.attemptId, at2.attemptId);
    assert.match(r.app(app).diagnostics, /attempt 1 failed: AM container .* exited with status 1; starting attempt 2/);
    assert.notEqual(at1, at2.attemptId);
  });

  test('an app still waiting for its AM container before the restart is placed after it', () => {
    const h = new RmHarness();
    const app = h.submit(); // no node yet: the attempt waits SCHEDULED
    assert.equal(h.attempt(app).state, 'SCHEDULED');
    const r = h.restart();
    r.registerNode(1);
    assert.equal(r.attempt(app).state, 'ALLOCATED');
    assert.equal(r.attempt(app).n, 1);
  });

  test('a running AM re-registers after the restart, gets resync once, and its replacement executors are placed', () => {
    const h = new RmHarness();
    h.registerNode(1);
    const app = h.submit();
    const at = h.amUp(app);
    const first = h.allocate(at, [{ count: 2, memoryMB: 2 * MB }]);
    assert.equal(first.allocated.length, 2);
    h.heartbeat(1, [h.running(first.allocated[0]!.id, app, 2 * MB), h.running(first.allocated[1]!.id, app, 2 * MB)]);
    const amId = h.attempt(app).amContainerId!;
    const r = h.restart();
    // the NM comes back with the AM and one executor; the other executor died while the RM was down
    r.registerNode(1, {
      containers: [r.running(amId, app), r.running(first.allocated[0]!.id, app, 2 * MB)],
      runningApps: [app],
    });
    assert.deepEqual(r.used(1), { memoryMB: 3 * MB, vcores: 2 });
    const resync = r.allocate(at, [{ count: 9, memoryMB: 2 * MB }]);
    assert.equal(resync.resync, true, 'first allocate after a restart says resync');
    assert.equal(resync.allocated.length, 0, 'asks sent before the AM saw resync are dropped');
    r.ask({
      type: 'AmRegistered',
      now: r.now,
      attemptId: at,
      authAttempt: at,
      host: 'am-host',
      rpcPort: 7000,
      trackingUrl: '',
    });
    const again = r.allocate(at, [{ count: 1, memoryMB: 2 * MB }]);
    assert.equal(again.resync, false);
    assert.equal(again.allocated.length, 1, 'the replacement executor is placed');
    assert.deepEqual(r.used(1), { memoryMB: 5 * MB, vcores: 3 });
    const bye = r.allocate(at);
    assert.equal(bye.allocated.length, 0);
  });

  test('an app that ended while a node was away is handed back for cleanup when the node registers', () => {
    const h = new RmHarness();
    h.registerNode(1);
    const app = h.submit();
    const at = h.amUp(app);
    h.ask({
      type: 'AmFinished',
      now: h.now,
      attemptId: at,
      authAttempt: at,
      finalStatus: 'SUCCEEDED',
      diagnostics: '',
    });
    const r = h.restart();
    const reply = r.registerNode(1, { runningApps: [app, 'application_1_9999'] });
    assert.deepEqual(reply.appsToCleanup, [app, 'application_1_9999']);
  });

  test('an app the RM had accepted but not yet given an attempt before it died is accepted again', () => {
    const h = new RmHarness();
    h.registerNode(1);
    const app = h.submit();
    // the state store holds the app as SUBMITTED (the RM died between START and ACCEPT)
    const saved = structuredClone(h.persisted!);
    saved.apps[app]!.state = 'SUBMITTED';
    saved.apps[app]!.attempts = [];
    const r = new RmHarness({}, saved);
    r.registerNode(1);
    assert.equal(r.app(app).state, 'ACCEPTED');
    assert.equal(r.attempt(app).state, 'ALLOCATED');
  });
});

describe('NodeManager restart and loss', () => {
  test('an NM restarted without its executors: they complete as lost (-100) and used is back to the AM alone', () => {
    const h = new RmHarness();
    h.registerNode(1);
    const app = h.submit();
    const at = h.amUp(app);
    const amId = h.attempt(app).amContainerId!;
    const a = h.allocate(at, [{ count: 2, memoryMB: 2 * MB }]);
    h.heartbeat(1, [h.running(amId, app), ...a.allocated.map((c) => h.running(c.id, app, 2 * MB))]);
    assert.deepEqual(h.used(1), { memoryMB: 5 * MB, vcores: 3 });
    // SIGKILL + restart on the same port before the liveness timeout; the AM's container survived
    h.registerNode(1, { containers: [h.running(amId, app)], runningApps: [app] });
    assert.deepEqual(h.used(1), { memoryMB: 1 * MB, vcores: 1 }, 'never negative, never double-counted');
    const r = h.allocate(at);
    assert.deepEqual(
      r.completed.map((c) => [c.containerId, c.exitStatus]).sort(),
      a.allocated.map((c) => [c.id, -100]).sort(),
    );
    assert.match(r.completed[0]!.diagnostics, /node 10\.0\.0\.1:4545 re-registered without it/);
  });

  test('an NM restarted with its containers (work-preserving) keeps them and the books exactly', () => {
    const h = new RmHarness();
    h.registerNode(1);
    const app = h.submit();
    const at = h.amUp(app);
    const amId = h.attempt(app).amContainerId!;
    const a = h.allocate(at, [{ count: 2, memoryMB: 2 * MB }]);
    const all = [h.running(amId, app), ...a.allocated.map((c) => h.running(c.id, app, 2 * MB))];
    h.heartbeat(1, all);
    h.registerNode(1, { containers: all, runningApps: [app] });
    assert.deepEqual(h.used(1), { memoryMB: 5 * MB, vcores: 3 });
    assert.equal(h.allocate(at).completed.length, 0);
  });

  test('a node that stops heartbeating is LOST after nmLivenessMs; its executors reach the AM as -100; 0 MB used', () => {
    const h = new RmHarness({ nmLivenessMs: 5000 });
    h.registerNode(1);
    h.registerNode(2);
    const app = h.submit();
    const at = h.amUp(app);
    const amNode = h.attempt(app).nodeId!;
    const other = amNode === '10.0.0.1:4545' ? 2 : 1;
    const a = h.allocate(at, [{ count: 2, memoryMB: 2 * MB }]);
    const onOther = a.allocated.filter((c) => c.nodeId === `10.0.0.${other}:4545`);
    assert.ok(onOther.length > 0);
    h.advance(4000);
    h.heartbeat(other === 1 ? 2 : 1); // the AM's node keeps beating
    h.advance(2000);
    assert.equal(h.books.nodes.get(`10.0.0.${other}:4545`)!.state, 'LOST');
    assert.deepEqual(h.used(other), { memoryMB: 0, vcores: 0 });
    const r = h.allocate(at);
    assert.deepEqual(r.lostNodes, [`10.0.0.${other}:4545`]);
    assert.deepEqual(
      r.completed.map((c) => c.exitStatus),
      onOther.map(() => -100),
    );
    // and it comes back
    h.registerNode(other);
    assert.equal(h.books.nodes.get(`10.0.0.${other}:4545`)!.state, 'RUNNING');
    assert.deepEqual(h.heartbeat(other).containersToKill, []);
  });

  test('losing the AM node fails the attempt with a diagnostic and starts attempt 2 on another node', () => {
    const h = new RmHarness({ nmLivenessMs: 5000 });
    h.registerNode(1);
    const app = h.submit();
    h.amUp(app);
    h.registerNode(2);
    h.advance(3000);
    h.heartbeat(2);
    h.advance(3000);
    const [a1, a2] = h.app(app).attempts;
    assert.equal(a1!.state, 'FAILED');
    assert.match(a1!.diagnostics, /exited with status -100: container lost: node 10\.0\.0\.1:4545 is LOST/);
    assert.equal(a2!.state, 'ALLOCATED');
    assert.equal(a2!.nodeId, '10.0.0.2:4545');
    assert.equal(a1!.notCounted, true, 'a lost node does not use up an attempt');
  });

  test('a heartbeat from a node the RM does not know (or considers LOST) is told to resync', () => {
    const h = new RmHarness({ nmLivenessMs: 1000 });
    assert.equal(h.heartbeat(1).resync, true);
    h.registerNode(1);
    h.advance(2000);
    assert.equal(h.heartbeat(1).resync, true);
  });
});

describe('expiry', () => {
  test('a container allocated but never started expires: resources back, the AM told -100, the node told to kill', () => {
    const h = new RmHarness({ containerAllocationExpiryMs: 10_000 });
    h.registerNode(1);
    const app = h.submit();
    const at = h.amUp(app);
    const amId = h.attempt(app).amContainerId!;
    const a = h.allocate(at, [{ count: 1, memoryMB: 2 * MB }]);
    h.heartbeat(1, [h.running(amId, app)]);
    h.advance(5_000);
    h.allocate(at);
    h.heartbeat(1, [h.running(amId, app)]);
    h.advance(6_000);
    assert.deepEqual(h.used(1), { memoryMB: 1 * MB, vcores: 1 });
    const r = h.allocate(at);
    assert.deepEqual(
      r.completed.map((c) => [c.containerId, c.exitStatus]),
      [[a.allocated[0]!.id, -100]],
    );
    assert.match(r.completed[0]!.diagnostics, /allocated but not started within 10000 ms/);
    assert.deepEqual(
      h.heartbeat(1, [h.running(amId, app)]).containersToKill.map((k) => k.containerId),
      [a.allocated[0]!.id],
    );
  });

  test('an AM container whose launch is never acknowledged nor started expires and the attempt is retried', () => {
    const h = new RmHarness({ containerAllocationExpiryMs: 10_000, amLivenessMs: 60_000 });
    h.registerNode(1);
    const app = h.submit();
    h.advance(11_000);
    const [a1, a2] = h.app(app).attempts;
    assert.equal(a1!.state, 'FAILED');
    assert.match(a1!.diagnostics, /expired: allocated but not started/);
    assert.equal(a2!.state, 'ALLOCATED');
  });

  test('an application id that is never submitted is forgotten with its staged files', () => {
    const h = new RmHarness({ pendingAppExpiryMs: 60_000 });
    const { appId } = h.ask<{ appId: string }>({ type: 'AppCreated', now: h.now, user: 'bob' });
    h.send({ type: 'FileStaged', now: h.now, appId, name: 'app.tgz', file: { sha256: 'ab'.repeat(32), size: 10 } });
    h.advance(30_000);
    assert.ok(appId in h.books.state.pending);
    const fx = h.advance(31_000);
    assert.equal(appId in h.books.state.pending, false);
    const gc = fx.find((f) => f.kind === 'gcStaging');
    assert.ok(gc && gc.kind === 'gcStaging' && !gc.live.has('ab'.repeat(32)));
  });

  test('an AM that stops calling allocate expires; after max attempts the app FAILS saying why', () => {
    const h = new RmHarness({ amLivenessMs: 10_000, nmLivenessMs: 60_000, maxAttempts: 2 });
    h.registerNode(1);
    const app = h.submit();
    h.amUp(app);
    h.advance(11_000);
    h.amUp(app);
    h.advance(11_000);
    assert.equal(h.app(app).state, 'FAILED');
    assert.equal(h.app(app).finalStatus, 'FAILED');
    assert.match(
      h.app(app).diagnostics,
      /failed 2 times \(max attempts 2\); last attempt: ApplicationMaster for attempt .* timed out/,
    );
    assert.deepEqual(h.used(1), { memoryMB: 0, vcores: 0 });
  });
});

describe('ending applications', () => {
  test('kill: every container killed on its node, resources back, diagnostic names who, the nodes clean up', () => {
    const h = new RmHarness();
    h.registerNode(1);
    const app = h.submit();
    const at = h.amUp(app);
    const amId = h.attempt(app).amContainerId!;
    const a = h.allocate(at, [{ count: 2, memoryMB: 1 * MB }]);
    const r = h.ask<{ state: string; alreadyTerminal: boolean }>({
      type: 'AppKillRequested',
      now: h.now,
      appId: app,
      user: 'ops',
      reason: 'redeploy',
    });
    assert.deepEqual(r, { state: 'KILLED', alreadyTerminal: false });
    assert.equal(h.app(app).finalStatus, 'KILLED');
    assert.equal(h.app(app).diagnostics, `Application ${app} killed by user ops: redeploy`);
    assert.equal(h.attempt(app).state, 'KILLED');
    assert.deepEqual(h.used(1), { memoryMB: 0, vcores: 0 });
    const hb = h.heartbeat(1);
    assert.deepEqual(
      hb.containersToKill.map((k) => k.containerId).sort(),
      [amId, ...a.allocated.map((c) => c.id)].sort(),
    );
    assert.deepEqual(hb.appsToCleanup, [app]);
    // a second kill changes nothing
    assert.deepEqual(h.ask({ type: 'AppKillRequested', now: h.now, appId: app, user: 'ops', reason: undefined }), {
      state: 'KILLED',
      alreadyTerminal: true,
    });
    // the ended AM can no longer talk
    assert.throws(() => h.allocate(at), /this AM must exit/);
  });

  test('AM finish with FAILED keeps its diagnostic; later reports about its containers are ignored', () => {
    const h = new RmHarness();
    h.registerNode(1);
    const app = h.submit();
    const at = h.amUp(app);
    const amId = h.attempt(app).amContainerId!;
    h.ask({
      type: 'AmFinished',
      now: h.now,
      attemptId: at,
      authAttempt: at,
      finalStatus: 'FAILED',
      diagnostics: 'Error: boom\n    at main (app.ts:3:9)',
    });
    assert.equal(h.app(app).state, 'FINISHED');
    assert.equal(h.app(app).finalStatus, 'FAILED');
    assert.match(h.app(app).diagnostics, /boom[\s\S]*app\.ts:3:9/);
    h.heartbeat(1, [h.complete(amId, app, 0)]);
    assert.equal(h.attempt(app).state, 'FINISHED');
    assert.equal(h.app(app).attempts.length, 1);
  });

  test('a submission to an unknown queue is refused with a reason and recorded FAILED', () => {
    const h = new RmHarness();
    h.registerNode(1);
    assert.throws(() => h.submit({ queue: 'nope' }), /queue "nope" does not exist/);
    const app = Object.values(h.books.state.apps)[0]!;
    assert.equal(app.state, 'FAILED');
    assert.match(app.diagnostics, /^rejected at submission: queue "nope" does not exist/);
  });

  test('a non-AM container exit reaches the AM with its status; used drops by its size', () => {
    const h = new RmHarness();
    h.registerNode(1);
    const app = h.submit();
    const at = h.amUp(app);
    const a = h.allocate(at, [{ count: 1, memoryMB: 2 * MB }]);
    const c = a.allocated[0]!.id;
    h.heartbeat(1, [h.running(c, app, 2 * MB)]);
    h.heartbeat(1, [{ ...h.complete(c, app, 137, 2 * MB), diagnostics: 'killed by signal SIGKILL' }]);
    const r = h.allocate(at);
    assert.deepEqual(
      r.completed.map((x) => [x.containerId, x.exitStatus, x.diagnostics]),
      [[c, 137, 'killed by signal SIGKILL']],
    );
    assert.deepEqual(h.used(1), { memoryMB: 1 * MB, vcores: 1 });
  });
});

test('a reservation survives a restart: the client submits after it, its staged files kept; an expired one goes', () => {
  const h = new RmHarness({ pendingAppExpiryMs: 60_000 });
  h.registerNode(1);
  const { appId } = h.ask<{ appId: string }>({ type: 'AppCreated', now: h.now, user: 'alice' });
  h.send({ type: 'FileStaged', now: h.now, appId, name: 'app.tgz', file: { sha256: 'bb'.repeat(32), size: 1 } });
  const { appId: orphan } = h.ask<{ appId: string }>({ type: 'AppCreated', now: h.now, user: 'bob' });
  h.send({ type: 'FileStaged', now: h.now, appId: orphan, name: 'x', file: { sha256: 'aa'.repeat(32), size: 1 } });
  const r = h.restart();
  const gc = r.effects.find((f) => f.kind === 'gcStaging');
  assert.ok(gc && gc.kind === 'gcStaging');
  assert.deepEqual([...gc.live].sort(), ['aa'.repeat(32), 'bb'.repeat(32)]);
  r.registerNode(1);
  const ctx = SubmissionContext.parse({
    appId,
    user: 'alice',
    amResource: { memoryMB: 1024, vcores: 1 },
    amLaunchContext: {
      command: ['node', 'am.js'],
      localResources: { 'app.tgz': { sha256: 'bb'.repeat(32), size: 1, type: 'ARCHIVE' } },
    },
  });
  r.ask({ type: 'AppSubmitted', now: r.now, ctx, secret: 's' });
  assert.equal(r.app(appId).state, 'ACCEPTED');
  // a repeated submission (its answer was lost) changes nothing and is not an error
  r.ask({ type: 'AppSubmitted', now: r.now, ctx, secret: 's' });
  assert.equal(r.app(appId).attempts.length, 1);
  const fx = r.advance(61_000);
  assert.equal(orphan in r.books.state.pending, false);
  const gc2 = fx.find((f) => f.kind === 'gcStaging');
  assert.ok(gc2 && gc2.kind === 'gcStaging');
  assert.deepEqual([...gc2.live], ['bb'.repeat(32)]); // the live app keeps its files, the orphan's go
});

test('a repeated unregister is answered as the first one was', () => {
  const h = new RmHarness();
  h.registerNode(1);
  const app = h.submit();
  const at = h.amUp(app);
  h.ask({ type: 'AmFinished', now: h.now, attemptId: at, authAttempt: at, finalStatus: 'SUCCEEDED', diagnostics: '' });
  h.ask({ type: 'AmFinished', now: h.now, attemptId: at, authAttempt: at, finalStatus: 'FAILED', diagnostics: 'late' });
  assert.equal(h.app(app).finalStatus, 'SUCCEEDED');
  assert.throws(() => h.allocate(at), /this AM must exit/);
});

test('a node back after being LOST: its containers already reported lost are killed, late completions dropped', () => {
  const h = new RmHarness({ nmLivenessMs: 5000 });
  h.registerNode(1);
  h.registerNode(2);
  const app = h.submit();
  const at = h.amUp(app);
  const amNode = h.attempt(app).nodeId!;
  const other = amNode === '10.0.0.1:4545' ? 2 : 1;
  const a = h.allocate(at, [{ count: 3, memoryMB: 2 * MB }]);
  const [c1, c2] = a.allocated.filter((c) => c.nodeId === `10.0.0.${other}:4545`).map((c) => c.id);
  assert.ok(c1 && c2, 'two of the three executors on the node without the AM (spread by free memory)');
  h.advance(3000);
  h.heartbeat(other === 1 ? 2 : 1);
  h.advance(3000);
  assert.deepEqual(
    h
      .allocate(at)
      .completed.map((c) => c.containerId)
      .sort(),
    [c1, c2].sort(),
    'the AM hears of both as lost',
  );
  // the node comes back (a partition healed): one executor still runs, the other exited meanwhile
  h.registerNode(other, {
    containers: [h.running(c1, app, 2 * MB), h.complete(c2, app, 1, 2 * MB)],
    runningApps: [app],
  });
  assert.deepEqual(h.used(other), { memoryMB: 0, vcores: 0 }, 'not adopted again');
  assert.deepEqual(
    h.heartbeat(other).containersToKill.map((k) => k.containerId),
    [c1],
  );
  assert.equal(h.allocate(at).completed.length, 0, 'no second completion');
});

test('an allocate whose answer was lost is answered again, not applied twice (lastResponseId)', () => {
  const h = new RmHarness();
  h.registerNode(1);
  const app = h.submit();
  const at = h.amUp(app);
  const first = h.allocate(at, [{ count: 2, memoryMB: MB }], [], 0);
  assert.equal(first.responseId, 1);
  assert.equal(first.allocated.length, 2);
  // the reply never reached the AM: it sends the same request again, still saying it last saw 0
  const again = h.allocate(at, [{ count: 2, memoryMB: MB }], [], 0);
  assert.deepEqual(again, first);
  assert.deepEqual(h.used(1), { memoryMB: 3 * MB, vcores: 3 }, 'two executors and the AM, not four');
  const next = h.allocate(at, [], [], 1);
  assert.equal(next.responseId, 2);
  assert.equal(next.allocated.length, 0);
});
