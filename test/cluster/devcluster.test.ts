/** `cinder cluster up/down` as a user runs it: background daemons, master URL, nothing left afterwards. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fetch as undiciFetch } from 'undici';
import { clusterCaAgent } from '../../src/cluster/security/web-tls.js';
import { alive, CINDER } from '../harness/mini-cluster.js';

test('cluster up starts RM + N NMs in the background and prints the master; cluster down leaves no process', {
  timeout: 30_000,
}, async (t) => {
  // DIR is $CINDER_HOME/dev-cluster: the default dev cluster of clients given that CINDER_HOME
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-dev-'));
  const dir = path.join(home, 'dev-cluster');
  const env = { ...process.env, CINDER_SECRET: '', CINDER_SECRET_FILE: '' };
  const run = (args: string[]) =>
    spawnSync(process.execPath, [CINDER, ...args], { encoding: 'utf8', env, timeout: 25_000 });
  t.after(() => {
    if (fs.existsSync(path.join(dir, 'cluster.json'))) run(['cluster', 'down', '--dir', dir]);
    fs.rmSync(home, { recursive: true, force: true });
  });
  const up = run(['cluster', 'up', '--nodes', '2', '--dir', dir, '--memory-mb', '1024']);
  assert.equal(up.status, 0, up.stderr);
  assert.match(up.stdout.trim(), /^cinder:\/\/127\.0\.0\.1:\d+$/);
  const info = JSON.parse(fs.readFileSync(path.join(dir, 'cluster.json'), 'utf8'));
  assert.equal((fs.statSync(info.secretFile).mode & 0o777).toString(8), '600');
  // the dev cluster's admin identity: 0600, the clients' zero-config default, good for REST as a bearer token
  assert.equal(info.identityFile, path.join(dir, 'admin.identity'));
  assert.equal((fs.statSync(info.identityFile).mode & 0o777).toString(8), '600');
  const who = run(['whoami', '--dir', dir]);
  assert.equal(who.status, 0, who.stderr);
  assert.equal(who.stdout.trim(), `${os.userInfo().username} (admin)`);
  const token = run(['token', '--dir', dir]).stdout.trim();
  // the REST API is HTTPS with a certificate of the cluster CA (DIR/ca.pem): trusted through it, not otherwise
  assert.match(info.restUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(info.caFile, path.join(dir, 'ca.pem'));
  assert.equal((fs.statSync(path.join(dir, 'ca.key')).mode & 0o777).toString(8), '600');
  const agent = clusterCaAgent(info.caFile);
  t.after(() => agent.close());
  const url = `${info.restUrl}/ws/v1/cluster/nodes`;
  const rest = await undiciFetch(url, { headers: { authorization: `Bearer ${token}` }, dispatcher: agent });
  assert.equal(rest.status, 200);
  await assert.rejects(fetch(url, { headers: { authorization: `Bearer ${token}` } }), (e: Error) =>
    /self[- ]signed|unable to verify|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(String((e as { cause?: Error }).cause ?? e)),
  );
  const nodes = JSON.parse(run(['nodes', '--json', '--dir', dir]).stdout) as {
    state: string;
    capacity: { memoryMB: number };
  }[];
  assert.deepEqual(
    nodes.map((n) => [n.state, n.capacity.memoryMB]),
    [
      ['RUNNING', 1024],
      ['RUNNING', 1024],
    ],
  );
  // each NM's /metrics is HTTPS with a certificate of the same CA (decision 0027), behind the metrics token
  const rawNodes = (await (
    await undiciFetch(url, { headers: { authorization: `Bearer ${token}` }, dispatcher: agent })
  ).json()) as { nodes: { node: { nodeHTTPAddress: string }[] } };
  const metricsToken = run(['metrics-token', '--secret-file', info.secretFile]).stdout.trim();
  for (const n of rawNodes.nodes.node) {
    const m = `https://${n.nodeHTTPAddress}/metrics`;
    const r = await undiciFetch(m, { headers: { authorization: `Bearer ${metricsToken}` }, dispatcher: agent });
    assert.equal(r.status, 200, m);
    assert.match(await r.text(), /^cinder_nm_containers_running 0$/m);
    await assert.rejects(fetch(m.replace('https:', 'http:')), 'no plain HTTP');
  }
  // a history server for the dev cluster's master gets its certificate from the same CA by default
  const hs = spawn(
    process.execPath,
    [CINDER, 'history-server', '--master', info.master, '--port', '0', '--cache-dir', path.join(dir, 'hs')],
    { env: { ...env, CINDER_HOME: home }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    let line = '';
    for await (const d of hs.stdout!) {
      line += d;
      if (line.includes('\n')) break;
    }
    assert.match(line, /certificate signed by the cluster CA/);
    const hsUrl = /history server at (https:\/\/\S+)/.exec(line)?.[1];
    assert.ok(hsUrl, line);
    const apps = await undiciFetch(`${hsUrl}/api/v1/applications`, { dispatcher: agent });
    assert.equal(apps.status, 200);
  } finally {
    hs.kill('SIGTERM');
  }
  const again = run(['cluster', 'up', '--nodes', '1', '--dir', dir]);
  assert.notEqual(again.status, 0);
  assert.match(again.stderr, /already running/);
  for (const pid of [info.pids.rm, ...info.pids.nms]) {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    assert.ok(!cmd.includes(fs.readFileSync(info.secretFile, 'utf8')), 'no secret in argv');
  }
  const down = run(['cluster', 'down', '--dir', dir]);
  assert.equal(down.status, 0, down.stderr);
  for (const pid of [info.pids.rm, ...info.pids.nms]) assert.equal(alive(pid), false, `pid ${pid} gone`);
  assert.equal(fs.existsSync(path.join(dir, 'cluster.json')), false);
  assert.equal(fs.existsSync(path.join(dir, 'ca.key')), false, 'the CA key goes with the cluster');
});
