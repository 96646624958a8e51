import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { frameHeader } from '../../src/rpc/frame.js';
import { dial, serve } from '../../src/rpc/index.js';

type Msg = { type: 'Echo'; n: number } | { type: 'Note'; s: string };
const parse = (b: unknown): Msg => {
  const m = b as Msg;
  if (!m || (m.type !== 'Echo' && m.type !== 'Note')) throw new Error('bad type');
  return m;
};

async function echoServer() {
  const notes: string[] = [];
  const srv = await serve<Msg, Msg>(
    { parse, secretFor: (p) => (p === 'cluster' ? 's3cret' : undefined) },
    () => (m, r) => {
      if (m.type === 'Echo') r?.reply({ n: m.n + 1 });
      else notes.push(m.s);
    },
  );
  return { srv, notes };
}

test('authenticated request/reply and one-way messages', async () => {
  const { srv, notes } = await echoServer();
  const c = await dial<Msg, Msg>({ host: '127.0.0.1', port: srv.port, principal: 'cluster', secret: 's3cret', parse });
  assert.deepEqual(await c.request({ type: 'Echo', n: 41 }), { n: 42 });
  c.send({ type: 'Note', s: 'hi' });
  assert.deepEqual(await c.request({ type: 'Echo', n: 1 }), { n: 2 });
  assert.deepEqual(notes, ['hi']);
  c.close();
  await srv.close();
});

test('wrong secret and unknown principal are refused with a clear error', async () => {
  const { srv } = await echoServer();
  await assert.rejects(
    dial({ host: '127.0.0.1', port: srv.port, principal: 'cluster', secret: 'wrong', parse }),
    /authentication .* refused/,
  );
  await assert.rejects(
    dial({ host: '127.0.0.1', port: srv.port, principal: 'app_x', secret: 's3cret', parse }),
    /refused/,
  );
  await srv.close();
});

test('malformed messages get an error reply; garbage frames close only that connection', async () => {
  const { srv } = await echoServer();
  const c = await dial<Msg, any>({ host: '127.0.0.1', port: srv.port, principal: 'cluster', secret: 's3cret', parse });
  await assert.rejects(c.request({ type: 'Bogus' }), /malformed message/);
  // a raw client that skips the handshake and sends garbage is dropped
  const raw = net.connect(srv.port, '127.0.0.1');
  await new Promise((r) => raw.once('connect', r));
  raw.resume();
  raw.write(frameHeader(3));
  raw.write(Buffer.from([0xc1, 0xc1, 0xc1]));
  await new Promise((r) => raw.once('close', r));
  assert.deepEqual(await c.request({ type: 'Echo', n: 9 }), { n: 10 });
  c.close();
  await srv.close();
});

test('unreachable address gives a clear connect error', async () => {
  await assert.rejects(
    dial({ host: '127.0.0.1', port: 1, principal: 'cluster', secret: 'x', parse, connectTimeoutMs: 2000 }),
    /could not connect/,
  );
});

test('binary parts travel after the reply body byte for byte; a frame whose part lengths lie closes the connection', async () => {
  const big = Buffer.alloc(3 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  const parts = [Buffer.from('first'), Buffer.alloc(0), big, Buffer.from([0xc1, 0, 255])];
  const srv = await serve<Msg, Msg>({ parse, secretFor: () => 's3cret' }, () => (m, r) => {
    if (m.type === 'Echo') r?.reply({ n: m.n }, m.n === 1 ? parts : undefined);
  });
  const c = await dial<Msg, Msg>({ host: '127.0.0.1', port: srv.port, principal: 'cluster', secret: 's3cret', parse });
  const got = await c.requestParts<{ n: number }>({ type: 'Echo', n: 1 });
  assert.deepEqual(got.body, { n: 1 });
  assert.equal(got.parts.length, parts.length);
  for (let i = 0; i < parts.length; i++) assert.ok(got.parts[i]!.equals(parts[i]!), `part ${i}`);
  // request() gives the body alone; a reply without parts has none
  assert.deepEqual(await c.request({ type: 'Echo', n: 1 }), { n: 1 });
  assert.deepEqual((await c.requestParts({ type: 'Echo', n: 2 })).parts, []);
  // an authenticated peer sending a parts frame whose lengths do not cover it exactly is dropped
  const { encode } = await import('../../src/common/serde.js');
  const env = encode({ v: 1, m: { type: 'Note', s: 'x' }, p: [10] });
  const bad = Buffer.concat([Buffer.from([0xc1, 0, 0, 0, 0]), env, Buffer.alloc(4)]);
  bad.writeUInt32LE(env.length, 1);
  const closed = new Promise((r) => c.once('close', r));
  c.socket.write(frameHeader(bad.length));
  c.socket.write(bad);
  await closed;
  // the server lives on
  const c2 = await dial<Msg, Msg>({ host: '127.0.0.1', port: srv.port, principal: 'cluster', secret: 's3cret', parse });
  assert.deepEqual(await c2.request({ type: 'Echo', n: 5 }), { n: 5 });
  c2.close();
  await srv.close();
});
