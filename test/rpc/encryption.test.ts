/**
 * Every RPC channel is encrypted by default (decision 0012): what a passive observer and an on-path
 * attacker between two real processes can do, and the CINDER_RPC_ENCRYPTION=off switch.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { ensureClusterCa, issueServerCert } from '../../src/cluster/security/web-tls.js';
import { encode } from '../../src/common/serde.js';
import { frameHeader } from '../../src/rpc/frame.js';
import { writeHs } from '../../src/rpc/handshake.js';
import { dial, type RpcConnection } from '../../src/rpc/index.js';
import { type PeerProcess, startPeer, startProxy } from './harness.js';
import { type PeerMsg, peerParse } from './peer-server.js';

const peers: PeerProcess[] = [];
after(() => {
  for (const p of peers) p.stop();
});
async function peer(env: Record<string, string> = {}): Promise<PeerProcess> {
  const p = await startPeer(env);
  peers.push(p);
  return p;
}
const connect = (port: number, encryption?: boolean, secret = 's3cret') =>
  dial<PeerMsg, PeerMsg>({
    host: '127.0.0.1',
    port,
    principal: 'cluster',
    secret,
    parse: peerParse,
    connectTimeoutMs: 5000,
    ...(encryption === undefined ? {} : { encryption }),
  });

test('a passive observer between two processes sees neither a request body nor its reply (encrypted by default)', {
  timeout: 15_000,
}, async () => {
  const p = await peer();
  const proxy = await startProxy(p.port);
  const marker = `MARKER-${randomBytes(8).toString('hex')}`;
  const c = await connect(proxy.port);
  assert.deepEqual(await c.request({ type: 'Echo', s: marker }), { s: marker });
  c.close();
  proxy.close();
  assert.ok(
    p.handled().some((l) => l.includes(marker)),
    'the server handled the request',
  );
  for (const [dir, bytes] of [
    ['client to server', proxy.up()],
    ['server to client', proxy.down()],
  ] as const) {
    assert.ok(bytes.length > 0);
    assert.equal(bytes.includes(marker), false, `${dir}: the marker is on the wire in plaintext`);
    assert.equal(bytes.includes('Echo'), false, `${dir}: the message type is on the wire in plaintext`);
  }
});

test('with the switch off on both ends the channel is plaintext and works (the observer does see the marker)', {
  timeout: 15_000,
}, async () => {
  const p = await peer({ CINDER_RPC_ENCRYPTION: 'off' });
  const proxy = await startProxy(p.port);
  const marker = `MARKER-${randomBytes(8).toString('hex')}`;
  const c = await connect(proxy.port, false);
  assert.deepEqual(await c.request({ type: 'Echo', s: marker }), { s: marker });
  c.close();
  proxy.close();
  assert.ok(proxy.up().includes(marker), 'plaintext, as asked');
});

test('ends that disagree on encryption fail at once with a clear error, both ways', { timeout: 15_000 }, async () => {
  const on = await peer();
  const off = await peer({ CINDER_RPC_ENCRYPTION: 'off' });
  const t0 = Date.now();
  await assert.rejects(connect(on.port, false), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'ENCRYPTION_MISMATCH');
    assert.match(e.message, /encryption on .* this process has it off .*both ends must agree/);
    return true;
  });
  await assert.rejects(connect(off.port, true), /RPC encryption off .*both ends must agree/);
  assert.ok(Date.now() - t0 < 3000, 'no hang');
  await sleep(100);
  assert.match(on.output(), /refused caller:.*both ends must agree/);
  // both still serve a client that agrees
  const a = await connect(on.port, true);
  const b = await connect(off.port, false);
  assert.deepEqual(await a.request({ type: 'Echo', s: 'x' }), { s: 'x' });
  assert.deepEqual(await b.request({ type: 'Echo', s: 'y' }), { s: 'y' });
  a.close();
  b.close();
});

test('a frame injected by an on-path proxy after a real handshake closes the connection and is never handled', {
  timeout: 15_000,
}, async () => {
  const p = await peer();
  const proxy = await startProxy(p.port);
  const c: RpcConnection<PeerMsg, PeerMsg> = await connect(proxy.port);
  assert.deepEqual(await c.request({ type: 'Echo', s: 'before' }), { s: 'before' });
  const closed = new Promise((r) => c.once('close', r));
  const body = encode({ v: 1, id: 999, m: { type: 'Echo', s: 'INJECTED' } });
  proxy.injectUp(Buffer.concat([frameHeader(body.length), body]));
  await closed;
  await sleep(200);
  assert.equal(
    p.handled().some((l) => l.includes('INJECTED')),
    false,
    'the server handled the injected message',
  );
  await assert.rejects(c.request({ type: 'Echo', s: 'after' }), /closed/);
  proxy.close();
  const c2 = await connect(p.port);
  assert.deepEqual(await c2.request({ type: 'Echo', s: 'still serving' }), { s: 'still serving' });
  c2.close();
});

test('a recorded handshake and request replayed on a new connection are not accepted', {
  timeout: 15_000,
}, async () => {
  const p = await peer();
  const proxy = await startProxy(p.port);
  const c = await connect(proxy.port);
  assert.deepEqual(await c.request({ type: 'Echo', s: 'once' }), { s: 'once' });
  c.close();
  await sleep(100);
  proxy.close();
  const recorded = proxy.up();
  const raw = net.connect(p.port, '127.0.0.1');
  raw.on('error', () => {});
  raw.resume();
  await new Promise((r) => raw.once('connect', r));
  raw.write(recorded);
  await new Promise((r) => raw.once('close', r));
  await sleep(100);
  assert.equal(p.handled().filter((l) => l.includes('once')).length, 1, 'the replayed request was handled');
});

test('a wrong secret fails the encrypted handshake with a clear error, and nothing is handled', {
  timeout: 15_000,
}, async () => {
  const p = await peer();
  const before = p.handled().length;
  await assert.rejects(connect(p.port, true, 'wrong'), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'AUTH_FAILED');
    assert.match(e.message, /refused: bad credentials/);
    return true;
  });
  assert.equal(p.handled().length, before);
});

test('error replies carry the message and code but not the server stack (which stays in its log)', {
  timeout: 15_000,
}, async () => {
  const p = await peer();
  const c = await connect(p.port);
  const plain = await c.request({ type: 'Boom' }).then(
    () => assert.fail('should fail'),
    (e: Error) => e,
  );
  assert.equal(plain.message, 'kaboom');
  assert.equal(String(plain.stack).includes('serverSideThrower'), false, `stack leaked: ${plain.stack}`);
  assert.equal(String(plain.stack).includes('peer-server'), false, `stack leaked: ${plain.stack}`);
  const coded = await c.request({ type: 'Boom', coded: true }).then(
    () => assert.fail('should fail'),
    (e: Error & { code?: string }) => e,
  );
  assert.equal(coded.code, 'NOPE');
  assert.equal(coded.message, 'refused on purpose');
  assert.equal(String(coded.stack).includes('serverSideThrower'), false);
  c.close();
  await sleep(100);
  assert.match(p.output(), /serverSideThrower/, 'the server logs the stack of the unexpected failure');
});

test('a server on the path that answers the key offer with a certificate the client trusts gets no request', {
  timeout: 20_000,
}, async () => {
  // an impostor that speaks the plaintext exchange, then a certificate handshake with a certificate of a
  // CA the client process trusts (NODE_EXTRA_CA_CERTS), as a certificate from a public CA would be. The RPC
  // channel's TLS context trusts no CA (PSK_TLS), so the handshake fails on the certificate; were it to
  // pass, the client refuses a server that showed one

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-rpc-cert-'));
  const { caFile } = ensureClusterCa(dir);
  const web = issueServerCert(dir, path.join(dir, 'impostor'), ['127.0.0.1']);
  const ctx = tls.createSecureContext({ key: fs.readFileSync(web.keyFile), cert: fs.readFileSync(web.certFile) });
  const got = { secure: 0, bytes: 0 };
  const srv = net.createServer((sock) => {
    sock.on('error', () => {});
    writeHs(sock, { type: 'AuthChallenge', serverNonce: randomBytes(32), encryption: true });
    sock.once('data', () => {
      writeHs(sock, { type: 'AuthOk' });
      const t = new tls.TLSSocket(sock, { isServer: true, secureContext: ctx });
      t.on('error', () => {});
      t.once('secure', () => got.secure++);
      t.on('data', (d: Buffer) => (got.bytes += d.length));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  try {
    const script = fileURLToPath(new URL('./cert-fallback-client.js', import.meta.url));
    const port = String((srv.address() as net.AddressInfo).port);
    // not spawnSync: the impostor answers from this process's event loop
    const child = spawn(process.execPath, [script, port], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 15_000,
      env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile, CINDER_RPC_ENCRYPTION: 'on' },
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    await new Promise((r) => child.once('exit', r));
    assert.match(out, /^REFUSED .*(certificate instead of the key|unable to verify the first certificate)/m, out);
    assert.equal(got.bytes, 0, 'the impostor received application data');
  } finally {
    srv.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
