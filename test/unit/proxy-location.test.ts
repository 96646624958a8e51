import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rewriteLocation } from '../../src/cluster/resourcemanager/web/proxy.js';

const target = new URL('http://10.0.0.5:4040/');
const base = '/proxy/application_1_0001';

test('a redirect of the proxied app stays in the proxy, and is not prefixed twice', () => {
  assert.equal(rewriteLocation('/jobs/', target, base), `${base}/jobs/`);
  assert.equal(rewriteLocation('http://10.0.0.5:4040/jobs/?x=1', target, base), `${base}/jobs/?x=1`);
  // the driver UI already prefixes its links with the base the proxy told it
  assert.equal(rewriteLocation(`${base}/jobs/`, target, base), `${base}/jobs/`);
  assert.equal(rewriteLocation(`http://10.0.0.5:4040${base}/jobs/`, target, base), `${base}/jobs/`);
  // elsewhere and relative locations are left alone; a look-alike prefix is not the base
  assert.equal(rewriteLocation('https://example.org/x', target, base), 'https://example.org/x');
  assert.equal(rewriteLocation('jobs/', target, base), 'jobs/');
  assert.equal(rewriteLocation(`${base}0/jobs/`, target, base), `${base}${base}0/jobs/`);
});
