import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { page, raw } from '../../src/web/html.js';
import { serveStatic } from '../../src/web/static.js';
import { browserMissing, startBrowser } from '../harness/browser.js';

test('a page rendered with the shared layout loads in Chromium with its stylesheet and no errors', {
  skip: browserMissing(),
  timeout: 60_000,
}, async () => {
  const app = Fastify();
  serveStatic(app);
  app.get('/', async (_q, r) =>
    r.type('text/html').send(
      page({
        title: 'Hello <world>',
        product: 'Test',
        nav: [{ href: '/', label: 'Home' }],
        body: raw('<p id="x">ok</p>'),
      }),
    ),
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  const b = await startBrowser().catch(async (e) => {
    await app.close();
    throw e;
  });
  try {
    const { page: p, problems } = await b.open(`http://127.0.0.1:${port}/`);
    assert.equal(await p.title(), 'Hello <world> · Test');
    assert.equal(await p.textContent('#x'), 'ok');
    const bg = await p.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor");
    assert.equal(bg, 'rgb(35, 48, 61)', 'the stylesheet was served and applied');
    assert.deepEqual(problems, { consoleErrors: [], failedRequests: [], httpErrors: [] });
  } finally {
    await b.close();
    await app.close();
  }
});
