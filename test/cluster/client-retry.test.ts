/**
 * ClusterClient against a small fake RM in this process, over real sockets: a submission or kill whose
 * answer is lost after the RM applied it is not applied twice, and an RM that restarted between
 * new-application and submit (forgetting the reservation) gives a clear RESERVATION_LOST error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ClusterClient } from '../../src/cluster/client.js';
import { issueIdentity } from '../../src/cluster/security/identity.js';
import { tokenPassword } from '../../src/cluster/security/tokens.js';
import { CinderError } from '../../src/common/errors.js';
import { parseToRm, type ToNm, type ToRm } from '../../src/protocol/cluster.js';
import { newSecret, type RpcServer, serve } from '../../src/rpc/index.js';

const key = Buffer.from(newSecret(), 'hex');
const identity = issueIdentity(key, 'alice', false, 3_600_000, Date.now());
const POLICY = { maxWaitMs: 5_000, retryIntervalMs: 20, maxRetryIntervalMs: 100 };

/** The parts of an RM a client sees; apps survive restart(), reservations do not (as in the real RM). */
class FakeRm {
  srv: RpcServer<ToRm, ToNm> | undefined;
  port = 0;
  seq = 0;
  pending = new Set<string>();
  readonly apps = new Map<string, string>();
  readonly received: string[] = [];
  /** message types applied and then answered by dropping the connection */
  readonly dropAfter = new Set<string>();

  async start(): Promise<void> {
    this.srv = await serve<ToRm, ToNm>(
      {
        parse: parseToRm,
        secretFor: (p) => (p === identity.token.identifier ? tokenPassword(key, p) : undefined),
        port: this.port,
        name: 'fake-rm',
      },
      (conn) => (m, reply) => {
        this.received.push(m.type);
        let r: unknown;
        try {
          r = this.handle(m);
        } catch (e) {
          return reply?.fail(e);
        }
        if (this.dropAfter.delete(m.type)) return conn.socket.destroy();
        reply?.reply(r);
      },
    );
    this.port = this.srv.port;
  }

  private report(id: string) {
    const state = this.apps.get(id);
    if (!state) throw new CinderError('UNKNOWN_APP', `application ${id} is not known to this ResourceManager`);
    return { id, state, finalStatus: state === 'KILLED' ? 'KILLED' : 'UNDEFINED', diagnostics: '' };
  }

  private handle(m: ToRm): unknown {
    switch (m.type) {
      case 'GetNewApplication': {
        const appId = `application_1_${String(++this.seq).padStart(4, '0')}`;
        this.pending.add(appId);
        return { appId, maxCapability: { memoryMB: 1024, vcores: 4 } };
      }
      case 'SubmitApplication': {
        const id = m.context.appId;
        if (!this.pending.delete(id))
          throw new CinderError(
            'UNKNOWN_APP',
            `application ${id} was not created by GetNewApplication or is already submitted`,
          );
        this.apps.set(id, 'ACCEPTED');
        return this.report(id);
      }
      case 'GetApplicationReport':
        return this.report(m.appId);
      case 'KillApplication': {
        const r = this.report(m.appId);
        if (r.state === 'KILLED') return { state: 'KILLED', alreadyTerminal: true };
        this.apps.set(m.appId, 'KILLED');
        return { state: 'KILLED', alreadyTerminal: false };
      }
      default:
        return {};
    }
  }

  /** SIGKILL and restart on the same port: reservations are gone, apps are not. */
  async restart(): Promise<void> {
    await this.srv?.close();
    this.pending = new Set();
    await this.start();
  }

  count(type: string): number {
    return this.received.filter((t) => t === type).length;
  }
}

const ctx = (appId: string) => ({
  appId,
  amResource: { memoryMB: 128, vcores: 1 },
  amLaunchContext: { command: ['true'] },
});

describe('ClusterClient over a fake RM', () => {
  const rm = new FakeRm();
  let client: ClusterClient;
  before(async () => {
    await rm.start();
    client = await ClusterClient.connect(`cinder://127.0.0.1:${rm.port}`, { identity, retry: POLICY });
  });
  after(async () => {
    client?.close();
    await rm.srv?.close();
  });

  test('a submission applied whose answer was lost is recovered from the report, not sent again', async () => {
    const { appId } = await client.newApplication();
    rm.dropAfter.add('SubmitApplication');
    const before = rm.count('SubmitApplication');
    const r = await client.submitApplication(ctx(appId));
    assert.equal(r.id, appId);
    assert.equal(r.state, 'ACCEPTED');
    assert.equal(rm.count('SubmitApplication') - before, 1, 'sent once');
  });

  test('a kill applied whose answer was lost reports KILLED, sent once', async () => {
    const { appId } = await client.newApplication();
    await client.submitApplication(ctx(appId));
    rm.dropAfter.add('KillApplication');
    const before = rm.count('KillApplication');
    assert.deepEqual(await client.kill(appId), { state: 'KILLED', alreadyTerminal: false });
    assert.equal(rm.count('KillApplication') - before, 1);
  });

  test('reads are simply repeated over a reconnect', async () => {
    const { appId } = await client.newApplication();
    await client.submitApplication(ctx(appId));
    rm.dropAfter.add('GetApplicationReport');
    assert.equal((await client.getApplication(appId)).state, 'ACCEPTED');
  });

  test('the RM restarted between new-application and submit: RESERVATION_LOST, saying so', async () => {
    const { appId } = await client.newApplication();
    await rm.restart();
    await assert.rejects(client.submitApplication(ctx(appId)), (e: CinderError) => {
      assert.equal(e.code, 'RESERVATION_LOST');
      assert.match(e.message, new RegExp(`restarted after reserving ${appId} and before it was submitted`));
      return true;
    });
    // a fresh reservation on the restarted RM works
    const again = await client.newApplication();
    assert.equal((await client.submitApplication(ctx(again.appId))).state, 'ACCEPTED');
  });
});
