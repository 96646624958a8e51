/**
 * HTTPS on the RM's REST port (decision 0016): a client trusting the cluster CA gets answers; one that
 * does not (the system roots, another cluster's CA) is refused by certificate verification; plain HTTP
 * to the port gets no API; webTls=false serves plain HTTP (the documented single-host switch); an RM
 * set to HTTPS without a certificate refuses to start, saying how to get one; so does a NodeManager with a
 * /metrics listener (decision 0027); `cinder history-server --tls-cert/--tls-key` serves HTTPS.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fetch as undiciFetch } from 'undici';
import { clusterCaAgent, ensureClusterCa } from '../../src/cluster/security/web-tls.js';
import { CINDER, MiniCluster, sharedTempDir } from '../harness/mini-cluster.js';

const verifyFailure = (e: unknown) =>
  /self[- ]signed|unable to verify|SELF_SIGNED|UNABLE_TO_VERIFY|certificate/i.test(
    String((e as { cause?: Error }).cause ?? e),
  );

describe('HTTPS on the RM REST port', { timeout: 60_000 }, () => {
  let mc: MiniCluster;
  let other: string;
  before(async () => {
    mc = await MiniCluster.start({ nodes: 1 });
    other = sharedTempDir('cinder-other-ca-');
  });
  after(async () => {
    await mc?.cleanup();
    fs.rmSync(other, { recursive: true, force: true });
  });

  test('trusted through the cluster CA only; plain HTTP gets no API', async () => {
    const auth = { authorization: `Bearer ${mc.restToken()}` };
    assert.match(mc.restBase, /^https:/);
    const ok = await mc.fetch(`${mc.restBase}/nodes`, { headers: auth });
    assert.equal(ok.status, 200);
    // the certificate names the REST host and is signed by the cluster CA
    const cert = new X509Certificate(fs.readFileSync(path.join(mc.dir, 'rm', 'web.pem')));
    assert.match(cert.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.ok(cert.verify(new X509Certificate(fs.readFileSync(mc.caFile)).publicKey));
    // the system's roots do not know the cluster CA; nor does another cluster's CA
    await assert.rejects(fetch(`${mc.restBase}/nodes`, { headers: auth }), verifyFailure);
    const stranger = clusterCaAgent(ensureClusterCa(other).caFile);
    try {
      await assert.rejects(undiciFetch(`${mc.restBase}/nodes`, { headers: auth, dispatcher: stranger }), verifyFailure);
    } finally {
      await stranger.close();
    }
    // plain HTTP to the HTTPS port: no API answer (the TLS server cannot parse it)
    const plain = await fetch(`${mc.restBase.replace('https:', 'http:')}/nodes`, { headers: auth }).then(
      (r) => r.status,
      () => 'refused',
    );
    assert.notEqual(plain, 200);
  });
});

/** `cinder cluster cert` for hosts into out, with its CA in dir/ca; the files it names. */
function clusterCert(dir: string, hosts: string[], out: string): { caFile: string; certFile: string; keyFile: string } {
  const r = spawnSync(
    process.execPath,
    [CINDER, 'cluster', 'cert', '--ca-dir', path.join(dir, 'ca'), ...hosts.flatMap((h) => ['--host', h]), '--out', out],
    { encoding: 'utf8', timeout: 20_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { caFile: string; certFile: string; keyFile: string };
}

test('webTls=false serves plain HTTP (trusted single-host use)', { timeout: 60_000 }, async () => {
  const mc = await MiniCluster.start({ nodes: 1, rm: { webTls: 'false' } });
  try {
    assert.match(mc.restBase, /^http:/);
    const r = await fetch(`${mc.restBase}/nodes`, { headers: { authorization: `Bearer ${mc.restToken()}` } });
    assert.equal(r.status, 200);
  } finally {
    await mc.cleanup();
  }
});

test('cinder cluster cert makes a CA and a server certificate for the hosts given', { timeout: 30_000 }, () => {
  const dir = sharedTempDir('cinder-cert-');
  try {
    const files = clusterCert(dir, ['rm.example', '10.1.2.3'], path.join(dir, 'rm-web'));
    const cert = new X509Certificate(fs.readFileSync(files.certFile));
    assert.equal(cert.subjectAltName, 'DNS:rm.example, IP Address:10.1.2.3');
    assert.ok(cert.verify(new X509Certificate(fs.readFileSync(files.caFile)).publicKey));
    assert.equal(fs.statSync(files.keyFile).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.join(dir, 'ca', 'ca.key')).mode & 0o777, 0o600);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an RM set to HTTPS without a certificate refuses to start and says how to get one', { timeout: 30_000 }, () => {
  const dir = sharedTempDir('cinder-no-cert-');
  try {
    fs.writeFileSync(path.join(dir, 'secret'), 'x'.repeat(64), { mode: 0o600 });
    const r = spawnSync(
      process.execPath,
      [CINDER, 'resourcemanager', '--port', '0', '--rest-port', '0', '--dir', path.join(dir, 'rm')],
      { encoding: 'utf8', env: { ...process.env, CINDER_SECRET_FILE: path.join(dir, 'secret') }, timeout: 20_000 },
    );
    assert.notEqual(r.status, 0);
    const out = r.stdout + r.stderr;
    assert.match(out, /serves HTTPS \(webTls\) but has no certificate: webCertFile and webKeyFile are not set/);
    assert.match(out, /cinder cluster up` makes them/);
    assert.match(out, /webTls=false/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a NodeManager with a /metrics listener and no certificate refuses to start and says how to get one', {
  timeout: 30_000,
}, () => {
  const dir = sharedTempDir('cinder-nm-no-cert-');
  try {
    fs.writeFileSync(path.join(dir, 'secret'), 'x'.repeat(64), { mode: 0o600 });
    // no RM at that address: the refusal comes before the NodeManager dials it
    const r = spawnSync(
      process.execPath,
      [CINDER, 'nodemanager', '--rm', '127.0.0.1:1', '--dir', path.join(dir, 'nm')],
      {
        encoding: 'utf8',
        env: { ...process.env, CINDER_SECRET_FILE: path.join(dir, 'secret') },
        timeout: 20_000,
      },
    );
    assert.notEqual(r.status, 0);
    const out = r.stdout + r.stderr;
    assert.match(out, /serves \/metrics over HTTPS \(webTls\) but has no certificate/);
    assert.match(out, /cinder cluster cert --ca-dir CA_DIR --host THIS_HOST/);
    assert.match(out, /--http-port -1/);
    assert.match(out, /webTls=false/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('cinder history-server serves HTTPS with --tls-cert/--tls-key; bad TLS flags are refused saying why', {
  timeout: 30_000,
}, async () => {
  const dir = sharedTempDir('cinder-hs-tls-');
  const hs = (args: string[]) =>
    spawn(process.execPath, [CINDER, 'history-server', '--dir', path.join(dir, 'logs'), '--port', '0', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  try {
    fs.mkdirSync(path.join(dir, 'logs'));
    const files = clusterCert(dir, ['127.0.0.1'], path.join(dir, 'hs'));
    for (const [args, why] of [
      [['--tls-cert', files.certFile], /--tls-cert and --tls-key go together/],
      [['--plain-http', '--tls-cert', files.certFile, '--tls-key', files.keyFile], /--plain-http cannot be combined/],
      [['--tls-cert', path.join(dir, 'nope.pem'), '--tls-key', files.keyFile], /no such file: .*nope\.pem/],
    ] as const) {
      const p = hs([...args]);
      let err = '';
      p.stderr!.on('data', (d) => (err += d));
      const code = await new Promise((r) => p.once('exit', r));
      assert.notEqual(code, 0);
      assert.match(err, why);
    }
    const p = hs(['--tls-cert', files.certFile, '--tls-key', files.keyFile]);
    try {
      let out = '';
      for await (const d of p.stdout!) {
        out += d;
        if (out.includes('\n')) break;
      }
      const url = /history server at (https:\/\/\S+)/.exec(out)?.[1];
      assert.ok(url, out);
      const agent = clusterCaAgent(files.caFile);
      try {
        assert.equal((await undiciFetch(`${url}/api/v1/applications`, { dispatcher: agent })).status, 200);
      } finally {
        await agent.close();
      }
      await assert.rejects(fetch(url), verifyFailure);
      await assert.rejects(fetch(url.replace('https:', 'http:')), 'no plain HTTP');
    } finally {
      p.kill('SIGTERM');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
