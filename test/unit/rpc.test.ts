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
