/**
 * The RM retry logic in process, on an injected clock (no real waiting): the backoff and its window,
 * which failures are retried, one warning per outage, and requests that must not be applied twice.
 * Expected waits and times are worked out by hand from the policy.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RM_RETRY_DEFAULTS, rmRetryPolicy } from '../../src/cluster/client.js';
import { CinderError } from '../../src/common/errors.js';
import { ReconnectingChannel, type RequestConn } from '../../src/rpc/reconnecting.js';
import { Backoff, type Clock, isTransportError, type RetryPolicy } from '../../src/rpc/retry.js';

const POLICY: RetryPolicy = { maxWaitMs: 5_000, retryIntervalMs: 250, maxRetryIntervalMs: 2_000 };

class FakeClock implements Clock {
  t = 0;
  readonly waits: number[] = [];
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.waits.push(ms);
    this.t += ms;
  }
}

type Msg = { type: string; n?: number };

function err(code: string, message = code): CinderError {
  return new CinderError(code, message);
}

/**
 * A server on the fake clock: down (connections refused) while `down(t)` says so; `answer` decides what
 * each request gets. It counts dials and what it applied.
 */
class FakeServer {
  dials = 0;
  readonly received: Msg[] = [];
  down: (t: number) => boolean = () => false;
  answer: (m: Msg, conn: FakeConn) => Promise<unknown> = async (m) => ({ ok: m.type });
  constructor(readonly clock: FakeClock) {}

  async dial(): Promise<FakeConn> {
    this.dials++;
    if (this.down(this.clock.now()))
      throw Object.assign(err('CONNECT_FAILED', 'connect ECONNREFUSED'), { errno: 'ECONNREFUSED' });
    return new FakeConn(this);
  }
}

class FakeConn implements RequestConn<Msg> {
  isClosed = false;
  constructor(private readonly server: FakeServer) {}
  async request<R>(msg: Msg, _timeoutMs?: number): Promise<R> {
    if (this.isClosed) throw err('CONNECTION_CLOSED');
    this.server.received.push(msg);
    return (await this.server.answer(msg, this)) as R;
  }
  /** the server goes away with this request unanswered */
  drop(): never {
    this.isClosed = true;
    throw err('CONNECTION_CLOSED', 'connection closed');
  }
  close(): void {
    this.isClosed = true;
  }
}

function setup(policy = POLICY) {
  const clock = new FakeClock();
  const server = new FakeServer(clock);
  const logs: { level: 'warn' | 'info'; msg: string }[] = [];
  const ch = new ReconnectingChannel<Msg, FakeConn>({
    peer: 'ResourceManager',
    address: '10.0.0.1:8032',
    dial: () => server.dial(),
    policy,
    clock,
    log: {
      warn: (_f, msg) => logs.push({ level: 'warn', msg }),
      info: (_f, msg) => logs.push({ level: 'info', msg }),
    },
  });
  return { clock, server, logs, ch };
}

describe('Backoff', () => {
  test('doubles from the interval to the cap and is clipped to the end of the window', () => {
    const clock = new FakeClock();
    const b = new Backoff(POLICY, clock);
    const waits: number[] = [];
    for (let w = b.wait(); w !== undefined; w = b.wait()) {
      waits.push(w);
      clock.t += w;
    }
    // 250 + 500 + 1000 + 2000 = 3750; 1250 ms left of the 5 s window
    assert.deepEqual(waits, [250, 500, 1000, 2000, 1250]);
    assert.equal(clock.t, 5_000);
  });

  test('a window that started earlier has less left', () => {
    const clock = new FakeClock();
    clock.t = 4_900;
    const b = new Backoff(POLICY, clock, 0);
    assert.equal(b.wait(), 100);
    clock.t = 5_000;
    assert.equal(b.wait(), undefined);
  });

  test('transport failures are retried; answers and unresolvable names are not', () => {
    assert.equal(isTransportError(err('CONNECT_FAILED')), true);
    assert.equal(isTransportError(Object.assign(err('CONNECT_FAILED'), { errno: 'ECONNREFUSED' })), true);
    assert.equal(isTransportError(Object.assign(err('CONNECT_FAILED'), { errno: 'ENOTFOUND' })), false);
    assert.equal(isTransportError(err('CONNECT_TIMEOUT')), true);
    assert.equal(isTransportError(err('CONNECTION_CLOSED')), true);
    assert.equal(isTransportError(err('RPC_TIMEOUT')), true);
    assert.equal(isTransportError(err('AUTH_TIMEOUT')), true);
    assert.equal(isTransportError(err('AUTH_FAILED')), false);
    assert.equal(isTransportError(err('UNKNOWN_APP')), false);
    assert.equal(isTransportError(err('ATTEMPT_ENDED')), false);
    assert.equal(isTransportError(new Error('plain')), false);
  });
});

describe('ReconnectingChannel', () => {
  test('an RM that is back after 1.7 s: three waits, one warning, one line when it answers', async () => {
    const { clock, server, logs, ch } = setup();
    server.down = (t) => t < 1_700;
    const r = await ch.request<{ ok: string }>({ type: 'GetApplicationReport' }, { timeoutMs: 1000 });
    assert.deepEqual(r, { ok: 'GetApplicationReport' });
    // tries at 0, 250, 750 fail; 1750 succeeds
    assert.deepEqual(clock.waits, [250, 500, 1000]);
    assert.equal(server.dials, 4);
    assert.deepEqual(logs, [
      { level: 'warn', msg: 'ResourceManager at 10.0.0.1:8032 unreachable, retrying for up to 5 s' },
      { level: 'info', msg: 'ResourceManager at 10.0.0.1:8032 reachable again after 1.8 s' },
    ]);
  });

  test('an RM that stays away: UNREACHABLE when the window ends, saying for how long and why', async () => {
    const { clock, server, logs, ch } = setup();
    server.down = () => true;
    await assert.rejects(ch.request({ type: 'GetApplications' }, { timeoutMs: 1000 }), (e: CinderError) => {
      assert.equal(e.code, 'UNREACHABLE');
      assert.match(
        e.message,
        /^could not reach the ResourceManager at 10\.0\.0\.1:8032 within 5 s \(last error: connect ECONNREFUSED\)/,
      );
      return true;
    });
    assert.equal(clock.t, 5_000);
    // dials at 0, 250, 750, 1750, 3750, 5000
    assert.equal(server.dials, 6);
    assert.equal(logs.filter((l) => l.level === 'warn').length, 1);
  });

  test('after giving up, a later request tries once and fails at once while the RM is still away', async () => {
    const { clock, server, ch } = setup();
    server.down = () => true;
    await assert.rejects(ch.request({ type: 'A' }, { timeoutMs: 1000 }));
    const dials = server.dials;
    await assert.rejects(ch.request({ type: 'B' }, { timeoutMs: 1000 }), /within 5 s/);
    assert.equal(server.dials, dials + 1);
    assert.equal(clock.t, 5_000);
    server.down = () => false;
    assert.deepEqual(await ch.request({ type: 'C' }, { timeoutMs: 1000 }), { ok: 'C' });
  });

  test("the server's answers are final, even refusals: no retry, no warning", async () => {
    const { clock, server, logs, ch } = setup();
    server.answer = async () => {
      throw err('UNKNOWN_APP', 'application x is not known');
    };
    await assert.rejects(ch.request({ type: 'GetApplicationReport' }, { timeoutMs: 1000 }), /is not known/);
    assert.equal(server.received.length, 1);
    assert.deepEqual(clock.waits, []);
    assert.deepEqual(logs, []);
  });

  test('bad credentials and a name that does not resolve fail at once', async () => {
    for (const e of [
      err('AUTH_FAILED', 'refused'),
      Object.assign(err('CONNECT_FAILED', 'getaddrinfo'), { errno: 'ENOTFOUND' }),
    ]) {
      const { clock, server, ch } = setup();
      server.dial = async () => {
        server.dials++;
        throw e;
      };
      await assert.rejects(ch.ready(), (x: CinderError) => x === e);
      assert.equal(server.dials, 1);
      assert.deepEqual(clock.waits, []);
    }
  });

  test('a repeatable request whose answer is lost is sent again on a new connection', async () => {
    const { clock, server, ch } = setup();
    let first = true;
    server.answer = async (m, conn) => {
      if (first) {
        first = false;
        conn.drop();
      }
      return { ok: m.type };
    };
    assert.deepEqual(await ch.request({ type: 'Allocate' }, { timeoutMs: 1000 }), { ok: 'Allocate' });
    assert.deepEqual(
      server.received.map((m) => m.type),
      ['Allocate', 'Allocate'],
    );
    assert.equal(server.dials, 2);
    assert.deepEqual(clock.waits, [250]);
  });

  test('a request that must not be applied twice: applied, answer lost -> recovered, not sent again', async () => {
    const { server, ch } = setup();
    let applied = 0;
    server.answer = async (m, conn) => {
      if (m.type === 'Submit') {
        applied++;
        conn.drop(); // applied, then the RM died before answering
      }
      return { state: applied ? 'ACCEPTED' : 'UNKNOWN' };
    };
    const r = await ch.request<{ state: string }>(
      { type: 'Submit' },
      {
        timeoutMs: 1000,
        recover: async (c) => {
          const rep = await c.request<{ state: string }>({ type: 'Report' }, 1000);
          return rep.state === 'UNKNOWN' ? undefined : rep;
        },
      },
    );
    assert.deepEqual(r, { state: 'ACCEPTED' });
    assert.equal(applied, 1);
    assert.deepEqual(
      server.received.map((m) => m.type),
      ['Submit', 'Report'],
    );
  });

  test('a request that must not be applied twice: lost before it was applied -> recover says so, sent again once', async () => {
    const { server, ch } = setup();
    let applied = 0;
    let drops = 1;
    server.answer = async (m, conn) => {
      if (m.type === 'Submit') {
        if (drops-- > 0) conn.drop(); // lost on the way in
        applied++;
        return { state: 'ACCEPTED' };
      }
      return { state: applied ? 'ACCEPTED' : 'UNKNOWN' };
    };
    let recovers = 0;
    const r = await ch.request<{ state: string }>(
      { type: 'Submit' },
      {
        timeoutMs: 1000,
        recover: async (c) => {
          recovers++;
          const rep = await c.request<{ state: string }>({ type: 'Report' }, 1000);
          return rep.state === 'UNKNOWN' ? undefined : rep;
        },
      },
    );
    assert.deepEqual(r, { state: 'ACCEPTED' });
    assert.equal(applied, 1);
    assert.equal(recovers, 1);
    assert.deepEqual(
      server.received.map((m) => m.type),
      ['Submit', 'Report', 'Submit'],
    );
  });

  test('a request that never left (the RM was down) is sent without asking recover', async () => {
    const { server, ch } = setup();
    server.down = (t) => t < 300;
    let recovers = 0;
    const r = await ch.request(
      { type: 'Submit' },
      {
        timeoutMs: 1000,
        recover: async () => {
          recovers++;
          return undefined;
        },
      },
    );
    assert.deepEqual(r, { ok: 'Submit' });
    assert.equal(recovers, 0);
    assert.deepEqual(
      server.received.map((m) => m.type),
      ['Submit'],
    );
  });

  test('concurrent requests in one outage warn once; a second outage warns again', async () => {
    const { server, logs, ch } = setup();
    server.down = (t) => t < 1_000;
    await Promise.all([
      ch.request({ type: 'A' }, { timeoutMs: 1000 }),
      ch.request({ type: 'B' }, { timeoutMs: 1000 }),
      ch.request({ type: 'C' }, { timeoutMs: 1000 }),
    ]);
    assert.equal(logs.filter((l) => l.level === 'warn').length, 1);
    server.down = (t) => t < 10_000;
    let first = true;
    server.answer = async (m, conn) => {
      if (first) {
        first = false;
        conn.drop();
      }
      return { ok: m.type };
    };
    await ch.request({ type: 'D' }, { timeoutMs: 1000 }).catch(() => {});
    assert.deepEqual(
      logs.map((l) => l.level),
      ['warn', 'info', 'warn'],
    );
  });

  test('close() ends a request that is waiting to retry', async () => {
    const server = new FakeServer(new FakeClock());
    server.down = () => true;
    const sleeping: Clock = {
      now: () => 0,
      sleep: (_ms, signal) => new Promise((res) => signal?.addEventListener('abort', () => res())),
    };
    const ch = new ReconnectingChannel<Msg, FakeConn>({
      peer: 'ResourceManager',
      address: '10.0.0.1:8032',
      dial: () => server.dial(),
      policy: POLICY,
      clock: sleeping,
      log: { warn: () => {}, info: () => {} },
    });
    const p = ch.request({ type: 'A' }, { timeoutMs: 1000 });
    await new Promise((r) => setImmediate(r));
    ch.close();
    await assert.rejects(p, (e: CinderError) => e.code === 'CLIENT_CLOSED');
  });
});

describe('rmRetryPolicy', () => {
  test('defaults: 60 s window, 250 ms doubling to 2 s; each key overrides its field', () => {
    assert.deepEqual(RM_RETRY_DEFAULTS, { maxWaitMs: 60_000, retryIntervalMs: 250, maxRetryIntervalMs: 2_000 });
    assert.deepEqual(rmRetryPolicy({}), { maxWaitMs: 60_000, retryIntervalMs: 250, maxRetryIntervalMs: 2_000 });
    assert.deepEqual(
      rmRetryPolicy({
        'cinder.rm.connect.maxWaitMs': '5000',
        'cinder.rm.connect.retryIntervalMs': '100',
        'cinder.rm.connect.maxRetryIntervalMs': '400',
      }),
      { maxWaitMs: 5_000, retryIntervalMs: 100, maxRetryIntervalMs: 400 },
    );
    assert.throws(() => rmRetryPolicy({ 'cinder.rm.connect.maxWaitMs': 'soon' }), /cinder\.rm\.connect\.maxWaitMs/);
    assert.throws(() => rmRetryPolicy({ 'cinder.rm.connect.retryIntervalMs': '-1' }), /not a number/);
  });
});
