/**
 * Limits with clear errors (issue 16, items 5/7/8 outside the RPC layer): free-text lengths refused,
 * diagnostics clipped with a marker, container asks bounded per ask and per app, staging refused by
 * declared size before any byte is kept, prototype keys as app ids answer 404, control characters
 * escaped in CLI output, reserved link names refused at submit. Every live refusal is followed by a
 * normal request the daemon must still serve.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { esc } from '../../src/cli/escape.js';
import { StagingStore } from '../../src/cluster/resourcemanager/staging.js';
import { LIMITS } from '../../src/common/text-limits.js';
import { linkOf } from '../../src/deploy/client/staging.js';
import { parseToNm, parseToRm, type ToNm, type ToRm } from '../../src/protocol/cluster.js';
import { dial } from '../../src/rpc/index.js';
import { MiniCluster } from '../harness/mini-cluster.js';
import { MB, RmHarness } from './rm-harness.js';

const ctx = (o: Record<string, unknown>) => ({
  type: 'SubmitApplication',
  context: {
    appId: 'application_1_0001',
    user: 'alice',
    amResource: { memoryMB: 512, vcores: 1 },
    amLaunchContext: { command: ['node', 'am.js'] },
    ...o,
  },
});

test('schemas refuse over-long names, queues, tags and huge asks with the field and the limit', () => {
  assert.throws(() => parseToRm(ctx({ name: 'x'.repeat(257) })), /context\.name: application name is longer than 256/);
  assert.equal((parseToRm(ctx({ name: 'x'.repeat(256) })) as { context: { name: string } }).context.name.length, 256);
  assert.throws(() => parseToRm(ctx({ queue: 'q'.repeat(300) })), /queue name is longer than 256/);
  assert.throws(() => parseToRm(ctx({ tags: ['t'.repeat(129)] })), /tag is longer than 128/);
  assert.throws(() => parseToRm(ctx({ tags: Array(65).fill('t') })), /at most 64 tags/);
  const ask = (count: number) => ({
    type: 'Allocate',
    attemptId: 'appattempt_1_0001_000001',
    asks: [{ count, resource: { memoryMB: 512, vcores: 1 } }],
  });
  assert.throws(() => parseToRm(ask(1e12)), /a container ask is for at most 10000 containers/);
  assert.doesNotThrow(() => parseToRm(ask(LIMITS.askCount)));
  // diagnostics are accepted and clipped with a marker
  const fin = parseToRm({
    type: 'FinishApplicationMaster',
    attemptId: 'appattempt_1_0001_000001',
    finalStatus: 'FAILED',
    diagnostics: 'd'.repeat(100_000),
  }) as Extract<ToRm, { type: 'FinishApplicationMaster' }>;
  assert.ok(fin.diagnostics.length < LIMITS.diagnostics + 100);
  assert.match(fin.diagnostics, /… \[95904 more characters truncated\]$/);
  const stop = parseToNm({ type: 'StopContainer', containerId: 'c', diagnostics: 'e'.repeat(10_000) }) as Extract<
    ToNm,
    { type: 'StopContainer' }
  >;
  assert.match(stop.diagnostics!, /truncated\]$/);
});

test('outstanding containers per app are capped: refused whole, nothing applied, the AM can ask again', () => {
  const h = new RmHarness({ maxPendingContainersPerApp: 100 });
  h.registerNode(1, { capacity: { memoryMB: 2 * MB, vcores: 2 } });
  const app = h.submit();
  const at = h.amUp(app);
  h.allocate(at, [{ count: 60, memoryMB: 1 * MB }]);
  assert.throws(
    () => h.allocate(at, [{ count: 50, memoryMB: 1 * MB }], [], undefined),
    /asks for 50 more containers with 59 still outstanding: over the limit of 100 .*maxPendingContainersPerApp/,
  );
  // nothing of the refused request was kept: 41 more still fit
  assert.doesNotThrow(() => h.allocate(at, [{ count: 41, memoryMB: 1 * MB }]));
});

test('staging refuses by declared size before keeping any byte, and counts unfinished uploads against the quota', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-staging-limits-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const s = new StagingStore(dir, 1000, 1500);
  const partial = () => fs.readdirSync(path.join(dir, 'partial'));
  assert.throws(
    () => s.receive('app1', 'big', { size: 210 * 1024 * 1024, offset: 0, data: Buffer.alloc(10) }, 0, 0),
    /staged file big is 220200960 bytes, over the limit of 1000 bytes \(stagingMaxFileBytes\)/,
  );
  assert.deepEqual(partial(), [], 'no byte of the refused file was kept');
  // a chunked upload: 900 declared, 400 in
  assert.deepEqual(s.receive('app1', 'a', { size: 900, offset: 0, data: Buffer.alloc(400, 1) }, 0, 0), {
    received: 400,
  });
  // the unfinished 900 count: another 700 would bring the app over 1500
  assert.throws(
    () => s.receive('app1', 'b', { size: 700, offset: 0, data: Buffer.alloc(1) }, 0, 0),
    /would bring the app to 1600 bytes, over the limit of 1500 \(stagingMaxAppBytes\)/,
  );
  const done = s.receive('app1', 'a', { size: 900, offset: 400, data: Buffer.alloc(500, 1) }, 0, 1);
  assert.ok('file' in done && done.file.size === 900);
  assert.deepEqual(partial(), []);
  assert.throws(
    () => s.receive('app1', 'c', { size: 10, offset: 5, data: Buffer.alloc(5) }, 0, 2),
    /no upload of c for app1 is in progress/,
  );
  // unfinished uploads expire
  s.receive('app1', 'd', { size: 100, offset: 0, data: Buffer.alloc(10) }, 0, 3);
  s.expirePartials(10_000_000);
  assert.deepEqual(partial(), []);
});

test('control characters in user strings are escaped for the terminal', () => {
  assert.equal(esc('ok name'), 'ok name');
  assert.equal(esc('a\x1b[31mred\x1b[0m\nfake line\r\u202e'), 'a\\x1b[31mred\\x1b[0m\\nfake line\\r\\u202e');
});

test("link names that collide with the app's own resources are refused at submit", () => {
  for (const spec of ['evil.tgz#__app__', 'x#cinder-work', '/tmp/__app__.tgz', 'y#.cinder-tmp'])
    assert.throws(() => linkOf(spec), /is reserved/, spec);
  assert.deepEqual(linkOf('data.csv#input'), { file: 'data.csv', link: 'input' });
});

describe('limits on a live cluster', { timeout: 60_000 }, () => {
  let mc: MiniCluster;
  before(async () => {
    mc = await MiniCluster.start({
      nodes: 1,
      rm: { stagingMaxFileBytes: 1024 * 1024, stagingMaxAppBytes: 1536 * 1024 },
    });
  });
  after(async () => {
    await mc?.cleanup();
  });

  test('a 10 MB app name, a 1e12 ask and an oversized upload are refused clearly; the RM serves on', async () => {
    const cl = await mc.client('alice');
    try {
      const { appId } = await cl.newApplication();
      await assert.rejects(
        cl.submitApplication({
          appId,
          name: 'n'.repeat(10 * 1024 * 1024),
          amResource: { memoryMB: 256, vcores: 1 },
          amLaunchContext: { command: ['true'] },
        }),
        /application name is longer than 256 characters/,
      );
      await assert.rejects(
        cl.uploadFile(appId, 'big.bin', Buffer.alloc(5 * 1024 * 1024)),
        /over the limit of 1048576 bytes/,
      );
      // a 210 MB upload is refused by its declared size: the RM does not take it in (it grew by ~275 MB before)
      const rss = () =>
        Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${mc.rm.proc.pid}/status`, 'utf8'))?.[1]) * 1024;
      const before = rss();
      await assert.rejects(
        cl.uploadFile(appId, 'huge.bin', Buffer.alloc(210 * 1024 * 1024)),
        /staged file huge.bin is 220200960 bytes, over the limit of 1048576 bytes \(stagingMaxFileBytes\)/,
      );
      const grew = rss() - before;
      assert.ok(grew < 32 * 1024 * 1024, `the RM grew by ${(grew / 1024 / 1024).toFixed(1)} MB`);
      await cl.uploadFile(appId, 'a.bin', Buffer.alloc(1024 * 1024));
      await assert.rejects(
        cl.uploadFile(appId, 'b.bin', Buffer.alloc(1024 * 1024)),
        /over the limit of 1572864 \(stagingMaxAppBytes\)/,
      );
      // chunked upload of a file over one chunk (4 MiB) works under a larger quota elsewhere; here a small one
      const ok = await cl.uploadFile(appId, 'c.bin', Buffer.alloc(1000, 7));
      assert.equal(ok.size, 1000);
      const conn = await dial<ToRm, ToRm>({
        host: '127.0.0.1',
        port: mc.rm.port,
        principal: 'cluster',
        secret: mc.secret,
        parse: parseToRm,
        name: 'test->rm',
        connectTimeoutMs: 2_000,
      });
      try {
        await assert.rejects(
          conn.request(
            {
              type: 'Allocate',
              attemptId: 'appattempt_1_0001_000001',
              asks: [{ count: 1e12, resource: { memoryMB: 256, vcores: 1 } }],
            } as never,
            5_000,
          ),
          /a container ask is for at most 10000 containers/,
        );
      } finally {
        conn.close();
      }
      assert.equal((await cl.clusterInfo()).state, 'STARTED', 'the RM serves on');
      // the app itself is still submittable with a sane name
      const r = await cl.submitApplication({
        appId,
        name: 'fine',
        amResource: { memoryMB: 256, vcores: 1 },
        amLaunchContext: { command: ['/bin/sh', '-c', 'exit 0'] },
      });
      assert.equal(r.name, 'fine');
    } finally {
      cl.close();
    }
  });

  test('REST: prototype keys as app ids answer 404, and the API serves on', async () => {
    const base = mc.restBase;
    const auth = { authorization: `Bearer ${mc.restToken('alice')}` };
    for (const id of [
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      '__proto__/appattempts',
      '__proto__/state',
    ]) {
      const r = await mc.fetch(`${base}/apps/${id}`, { headers: auth });
      const body = (await r.json()) as { RemoteException?: { exception: string; message: string } };
      assert.equal(r.status, 404, `${id}: ${JSON.stringify(body)}`);
      assert.equal(body.RemoteException?.exception, 'UNKNOWN_APP');
    }
    assert.equal((await mc.fetch(`${base}/apps`, { headers: auth })).status, 200);
  });

  test('cinder apps / status / logs print names with control characters escaped', async () => {
    const cl = await mc.client('alice');
    try {
      const evil = 'evil\x1b[2J\x1b[31mname\nFAKE-LINE\r';
      const id = await mc.submitSimple(cl, { containers: 0, command: ['true'], name: evil });
      await cl.waitForState(id, ['FINISHED', 'FAILED', 'KILLED'], 20_000);
      for (const args of [['apps'], ['status', id]]) {
        const r = await mc.cli(args, { user: 'alice' });
        assert.equal(r.code, 0, r.stderr);
        assert.ok(!r.stdout.includes('\x1b'), `${args[0]}: no raw escape`);
        assert.ok(!/^FAKE-LINE/m.test(r.stdout), `${args[0]}: no injected line`);
        assert.ok(r.stdout.includes('evil\\x1b[2J\\x1b[31mname\\nFAKE-LINE\\r'), r.stdout);
      }
    } finally {
      cl.close();
    }
  });
});
