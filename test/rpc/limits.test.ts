/**
 * Limits of the RPC layer (src/rpc/limits.ts): each answers with a clear refusal or closes the
 * offending connection, and the server keeps answering a good client.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { decode } from '../../src/common/serde.js';
import type { ServeOptions } from '../../src/rpc/connection.js';
import { frameHeader } from '../../src/rpc/frame.js';
import { dial, type RpcServer, serve } from '../../src/rpc/index.js';
import { type PeerProcess, startPeer } from './harness.js';
import { type PeerMsg, peerParse } from './peer-server.js';

const servers: RpcServer<PeerMsg, PeerMsg>[] = [];
const peers: PeerProcess[] = [];
after(async () => {
  for (const s of servers) await s.close();
  for (const p of peers) p.stop();
});

async function server(o: Partial<ServeOptions<PeerMsg>> = {}) {
  const handled: PeerMsg[] = [];
  const srv = await serve<PeerMsg, PeerMsg>(
    { parse: peerParse, secretFor: (p) => (p === 'cluster' ? 's3cret' : undefined), ...o },
    () => (m, r) => {
      handled.push(m);
      if (m.type === 'Echo') r?.reply({ s: m.s });
    },
  );
  servers.push(srv);
  return { srv, handled };
}
const connect = (port: number, principal = 'cluster') =>
  dial<PeerMsg, PeerMsg>({
    host: '127.0.0.1',
    port,
    principal,
    secret: 's3cret',
    parse: peerParse,
    connectTimeoutMs: 5000,
  });

async function stillServes(port: number): Promise<void> {
  const c = await connect(port);
  assert.deepEqual(await c.request({ type: 'Echo', s: 'ok' }), { s: 'ok' });
  c.close();
}

/** A raw TCP client: what the server sends it (decoded handshake frames) and when it is closed. */
async function rawClient(port: number) {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  const chunks: Buffer[] = [];
  s.on('data', (d) => chunks.push(d));
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  await new Promise((r) => s.once('connect', r));
  const frames = () => {
    const all = Buffer.concat(chunks);
    const out: any[] = [];
    for (let at = 0; at + 4 <= all.length; ) {
      const len = all.readUInt32BE(at);
      if (at + 4 + len > all.length) break;
      out.push(decode<{ m: unknown }>(all.subarray(at + 4, at + 4 + len)).m);
      at += 4 + len;
    }
    return out;
  };
  return { s, closed, frames };
}

test('a pre-authentication frame over 4 KiB is refused with a clear error and the connection closed', {
  timeout: 15_000,
}, async () => {
  const { srv } = await server();
  const raw = await rawClient(srv.port);
  raw.s.write(frameHeader(32 * 1024));
  raw.s.write(Buffer.alloc(32 * 1024, 1));
  await raw.closed;
  const failed = raw.frames().find((m) => m.type === 'AuthFailed');
  assert.ok(failed, `no refusal: ${JSON.stringify(raw.frames())}`);
  assert.equal(failed.code, 'FRAME_TOO_LARGE');
  assert.match(failed.reason, /frame of 32768 bytes exceeds the pre-authentication limit of 4096 bytes/);
  await stillServes(srv.port);
});

test('a silent caller is closed when the handshake deadline passes', { timeout: 15_000 }, async () => {
  const { srv } = await server({ handshakeTimeoutMs: 300 });
  const raw = await rawClient(srv.port);
  const t0 = Date.now();
  await raw.closed;
  assert.ok(Date.now() - t0 < 2000, 'closed by the deadline');
  await stillServes(srv.port);
});

test('an authenticated peer that stalls in the middle of a 250 MiB frame is closed, not buffered forever', {
  timeout: 15_000,
}, async () => {
  const { srv, handled } = await server({ frameStallMs: 300 });
  const c = await connect(srv.port);
  const closed = new Promise((r) => c.once('close', r));
  c.socket.write(frameHeader(250 * 1024 * 1024));
  c.socket.write(Buffer.alloc(1024 * 1024, 7));
  const t0 = Date.now();
  await closed;
  assert.ok(Date.now() - t0 < 3000, `closed after ${Date.now() - t0} ms`);
  assert.equal(handled.length, 0);
  await stillServes(srv.port);
});

test('a frame trickled slower than the minimum rate is closed even though bytes keep coming', {
  timeout: 15_000,
}, async () => {
  const { srv } = await server({ frameStallMs: 300, minFrameRate: 200 * 1024 });
  const c = await connect(srv.port);
  let open = true;
  c.once('close', () => (open = false));
  c.socket.write(frameHeader(100 * 1024));
  const t0 = Date.now();
  // 100 bytes every 50 ms: never stalled, far too slow (the frame is allowed 300 + 500 ms)
  while (open && Date.now() - t0 < 5000) {
    c.socket.write(Buffer.alloc(100, 1));
    await sleep(50);
  }
  assert.equal(open, false, 'still open after 5 s of trickling');
  assert.ok(Date.now() - t0 < 3000);
  await stillServes(srv.port);
});

test('too many unauthenticated connections from one address: the next is refused at once, others are served after', {
  timeout: 15_000,
}, async () => {
  const { srv } = await server({ preauthPerPeer: 4, handshakeTimeoutMs: 60_000 });
  const holders = await Promise.all([1, 2, 3, 4].map(() => rawClient(srv.port)));
  await sleep(100);
  await assert.rejects(connect(srv.port), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'TOO_MANY_CONNECTIONS');
    assert.match(e.message, /too many unauthenticated connections from 127\.0\.0\.1/);
    return true;
  });
  for (const h of holders) h.s.destroy();
  await Promise.all(holders.map((h) => h.closed));
  await sleep(50);
  await stillServes(srv.port);
});

test('a 60 KB or a 2 KB principal is refused with a clear error and never logged verbatim', {
  timeout: 15_000,
}, async () => {
  const p = await startPeer();
  peers.push(p);
  for (let i = 0; i < 5; i++) {
    await assert.rejects(connect(p.port, 'x'.repeat(60_000)), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'FRAME_TOO_LARGE');
      assert.match(e.message, /frame of \d+ bytes exceeds the pre-authentication limit of 4096 bytes/);
      return true;
    });
    await assert.rejects(connect(p.port, 'x'.repeat(2000)), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'PRINCIPAL_TOO_LONG');
      assert.match(e.message, /principal of 2000 bytes exceeds the limit of 1024 bytes/);
      return true;
    });
  }
  const c = await connect(p.port);
  assert.deepEqual(await c.request({ type: 'Echo', s: 'ok' }), { s: 'ok' });
  c.close();
  await sleep(100);
  const out = p.output();
  assert.match(out, /principal of 2000 bytes exceeds/, 'the refusal is logged');
  assert.match(out, /exceeds the pre-authentication limit/, 'the refusal is logged');
  assert.equal(out.includes('x'.repeat(200)), false, 'the principal was logged verbatim');
  assert.ok(out.length < 10 * 1000, `log grew by ${out.length} bytes for 10 refusals`);
});
