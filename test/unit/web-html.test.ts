import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, formatDuration, html, page, raw, table } from '../../src/web/html.js';

test('html escapes interpolated text and attributes but keeps raw fragments', () => {
  const name = '<script>alert("x")</script>&\'';
  assert.equal(
    html`<p title="${name}">${name}${raw('<b>ok</b>')}</p>`.html,
    '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;<b>ok</b></p>',
  );
  assert.equal(html`${[1, 'a<', null, undefined, false]}`.html, '1a&lt;');
});

test('a page links the stylesheet and nav under the base prefix and escapes the title', () => {
  const p = page({
    title: 'app <1>',
    product: 'ResourceManager',
    nav: [{ href: '/cluster/apps', label: 'Applications' }],
    active: '/cluster/apps',
    body: table(['a', 'b'], [[1, '<x>']]),
    base: '/proxy/application_1_0001',
  });
  assert.match(p, /<title>app &lt;1&gt; · ResourceManager<\/title>/);
  assert.match(p, /href="\/proxy\/application_1_0001\/static\/cinder.css"/);
  assert.match(p, /<a href="\/proxy\/application_1_0001\/cluster\/apps" class="active">Applications<\/a>/);
  assert.match(p, /<td>1<\/td><td>&lt;x&gt;<\/td>/);
});

test('bytes and durations read as a person would write them', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(3 * 1024 ** 3), '3.0 GiB');
  assert.equal(formatDuration(850), '850 ms');
  assert.equal(formatDuration(3200), '3.2 s');
  assert.equal(formatDuration(90 * 60_000), '1.5 h');
});

test('the proxy credential is bound to the app secret and the proxy base to a safe path', async () => {
  const { isProxyAuth, proxyAuthValue, proxyBase } = await import('../../src/web/proxy-auth.js');
  const v = proxyAuthValue('secret-a');
  assert.ok(isProxyAuth('secret-a', v));
  assert.ok(!isProxyAuth('secret-b', v));
  assert.ok(!isProxyAuth('secret-a', undefined));
  assert.ok(!isProxyAuth('secret-a', `${v}x`));
  assert.equal(proxyBase('/proxy/application_17_0002'), '/proxy/application_17_0002');
  assert.equal(proxyBase('/proxy/../etc'), '');
  assert.equal(proxyBase('https://evil.example/'), '');
});
