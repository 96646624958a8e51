/**
 * The application UI and event log on a real cluster (RM + 2 NMs as processes): in cluster and client
 * mode the running driver's UI serves HTTPS keyed by the app secret, which only the RM's web proxy
 * (and the app) hold: plain HTTP and TLS clients without that key get nothing; a cluster-mode driver's event log is aggregated into the
 * RM's store with its container logs (a client-mode driver's through the AM), and `cinder history-server` pointed at that store serves the
 * finished app, its deploy topology and Spark's REST.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import tls from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import { CINDER } from '../harness/mini-cluster.js';
import { readWhenWritten } from './outcome-harness.js';
import { APPS, appIdFrom, deployCluster, FAST, submit } from './submit-harness.js';

async function historyServer(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ url: string; line: string; stop(): void }> {
  const hs = spawn(process.execPath, [CINDER, 'history-server', ...args, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const [url, line] = await new Promise<[string, string]>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`no history server: ${out}`)), 20_000);
    hs.stdout!.on('data', (d) => {
      out += d;
      const m = /history server at (https?:\/\/\S+).*\n/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve([m[1] as string, m[0]]);
      }
    });
  });
  return { url, line, stop: () => hs.kill('SIGTERM') };
}

describe('application UI and event log on a cluster', { timeout: 180_000 }, () => {
  const fx = deployCluster('ui-cluster');

  for (const mode of ['cluster', 'client'] as const)
    test(`${mode} mode: the running driver UI answers through the RM proxy and refuses direct requests`, async () => {
      const marker = path.join(fx.tmp, `marker-${mode}`);
      const run = submit(
        [
          '--master',
          fx.mc.master,
          '--deploy-mode',
          mode,
          ...FAST,
          '--conf',
          `cinder.eventLog.dir=${path.join(fx.tmp, `events-${mode}`)}`,
          path.join(APPS, 'slow.ts'),
          marker,
          '300',
          '2',
        ],
        fx.env,
      );
      try {
        const appId = await readWhenWritten(fx.mc, marker, 60_000);
        const cl = await fx.mc.client();
        // the RM reports its own proxy address as the tracking URL; the attempt report keeps the driver's
        let direct = '';
        await fx.mc.waitFor(
          async () => {
            direct = (await cl.attempts(appId)).at(-1)?.trackingUrl ?? '';
            return direct.startsWith('http');
          },
          20_000,
          'tracking url',
        );
        // the driver UI serves HTTPS keyed by the app secret (decision 0027): plain HTTP gets no answer, nor
        // does a TLS client without the app's key (only the RM's proxy has it: pages below)
        assert.match(direct, /^https:\/\/[^/]+:\d+\/?$/);
        const port = new URL(direct).port;
        await assert.rejects(fetch(`http://127.0.0.1:${port}/jobs/`), 'plain HTTP to the driver UI');
        await assert.rejects(fetch(`${direct}/jobs/`), 'TLS without the app key');
        await assert.rejects(
          new Promise((resolve, reject) => {
            const s = tls.connect({
              host: '127.0.0.1',
              port: Number(port),
              minVersion: 'TLSv1.3',
              ciphers: 'TLS_AES_128_GCM_SHA256',
              checkServerIdentity: () => undefined,
              pskCallback: () => ({ psk: randomBytes(32), identity: 'cinder-ui' }),
            });
            s.once('secureConnect', () => resolve(s.end()));
            s.once('error', reject);
          }),
          'TLS with another key',
        );
        // through the RM's web proxy, with the user's token: the pages, links under the proxy path
        const proxied = (await cl.getApplication(appId)).trackingUrl;
        assert.match(proxied, new RegExp(`/proxy/${appId}/$`));
        const auth = { headers: { authorization: `Bearer ${fx.mc.restToken(fx.mc.defaultUser)}` } };
        const page = await fx.mc.fetch(`${proxied}jobs/`, auth);
        assert.equal(page.status, 200);
        const body = await page.text();
        assert.match(body, new RegExp(`href="/proxy/${appId}/stages/"`));
        const apps = (await (await fx.mc.fetch(`${proxied}api/v1/applications`, auth)).json()) as any[];
        assert.equal(apps[0].id, appId);
        // while it runs, its event log is readable through the RM (live from the NM holding the AM container)
        await fx.mc.waitFor(
          async () =>
            (await cl.getLogs(appId)).some(
              (l) => l.file === `${appId}.jsonl.inprogress` && l.data.includes('SparkListenerTaskEnd'),
            ),
          20_000,
          'the running event log through the RM',
        );
      } finally {
        const r = await run.done;
        assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      }
    });

  for (const mode of ['cluster', 'client'] as const)
    test(`${mode} mode: the event log reaches the RM store; the history server serves it`, async () => {
      const input = path.join(fx.tmp, 'in.txt');
      fs.writeFileSync(input, Array.from({ length: 200 }, (_, i) => `w${i % 7}`).join('\n'));
      const run = submit(
        [
          '--master',
          fx.mc.master,
          '--deploy-mode',
          mode,
          ...FAST,
          '--conf',
          `cinder.eventLog.dir=${path.join(fx.tmp, `events-wc-${mode}`)}`,
          path.join(APPS, 'wc.ts'),
          input,
          path.join(fx.tmp, `out-${mode}`),
        ],
        fx.env,
      );
      const r = await run.done;
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      // the driver's own copy names the app (client mode keeps one on the client machine as well)
      const localDir = path.join(fx.tmp, `events-wc-${mode}`);
      let appId: string;
      if (mode === 'cluster') {
        appId = appIdFrom(r.stdout + r.stderr);
        assert.ok(!fs.existsSync(localDir), 'a cluster-mode driver writes into its container log dir only');
      } else {
        const local = fs.readdirSync(localDir);
        appId = local[0]!.replace(/\.jsonl$/, '');
        assert.deepEqual(local, [`${appId}.jsonl`]);
      }
      const cl = await fx.mc.client();
      await fx.mc.waitFor(
        async () => (await cl.getApplication(appId)).logAggregationStatus === 'SUCCEEDED',
        20_000,
        'log aggregation',
      );
      const store = path.join(fx.mc.dir, 'rm', 'app-logs');
      const logs = await cl.getLogs(appId);
      assert.ok(
        logs.some((l) => l.file === `${appId}.jsonl` && l.data.includes('SparkListenerApplicationEnd')),
        `event log among ${logs.map((l) => l.file)}`,
      );
      // HTTPS with a certificate from the cluster CA: clients that trust the cluster's ca.pem trust it
      const hs = await historyServer([
        '--dir',
        store,
        '--ca-dir',
        fx.mc.dir,
        '--cache-dir',
        path.join(fx.tmp, 'hs-ca'),
      ]);
      const fetch = fx.mc.fetch;
      try {
        assert.match(hs.url, /^https:\/\//);
        await assert.rejects(globalThis.fetch(hs.url.replace('https:', 'http:')), 'plain HTTP is refused');
        await assert.rejects(globalThis.fetch(hs.url), 'the system roots do not vouch for it');
        const apps = (await (await fetch(`${hs.url}/api/v1/applications`)).json()) as any[];
        const app = apps.find((a) => a.id === appId);
        assert.ok(app, `${appId} in ${JSON.stringify(apps.map((a) => a.id))}`);
        assert.equal(app.attempts[0].completed, true);
        const prefix = mode === 'cluster' ? `${appId}/1` : appId;
        assert.equal(app.attempts[0].attemptId, mode === 'cluster' ? '1' : undefined);
        const jobs = (await (await fetch(`${hs.url}/api/v1/applications/${prefix}/jobs`)).json()) as any[];
        assert.ok(jobs.length > 0 && jobs.every((j) => j.status === 'SUCCEEDED'));
        const topo = await (await fetch(`${hs.url}/history/${appId}/topology/`)).text();
        assert.match(topo, new RegExp(`${mode} mode`));
        assert.match(topo, /ApplicationMaster/);
        assert.doesNotMatch(topo, /not registered yet/, 'the AM host is known in client mode too');
      } finally {
        hs.stop();
      }
    });

  test('the history server reads a cluster through the RM with a user identity: running and finished apps', async () => {
    const marker = path.join(fx.tmp, 'marker-remote');
    const run = submit(
      ['--master', fx.mc.master, '--deploy-mode', 'cluster', ...FAST, path.join(APPS, 'slow.ts'), marker, '300', '3'],
      fx.env,
    );
    const hs = await historyServer(
      ['--master', fx.mc.master, '--cache-dir', path.join(fx.tmp, 'hs-cache'), '--refresh', '300'],
      fx.env,
    );
    try {
      // against a cluster whose CA it cannot use: HTTPS with a self-signed certificate, its fingerprint printed
      const [, certFile, printed] =
        /self-signed certificate (\S+), SHA-256 fingerprint ([0-9A-F:]+)/.exec(hs.line) ?? [];
      assert.ok(certFile && printed, hs.line);
      const pem = fs.readFileSync(certFile);
      assert.equal(new X509Certificate(pem).fingerprint256, printed);
      await assert.rejects(globalThis.fetch(hs.url.replace('https:', 'http:')), 'plain HTTP is refused');
      const dispatcher = new Agent({ connect: { ca: pem } });
      const fetch = (u: string) => undiciFetch(u, { dispatcher });
      const appId = await readWhenWritten(fx.mc, marker, 60_000);
      const apps = async () => (await (await fetch(`${hs.url}/api/v1/applications`)).json()) as any[];
      // while it runs: listed as not completed, its jobs visible
      await fx.mc.waitFor(
        async () => (await apps()).some((a) => a.id === appId && a.attempts[0].completed === false),
        30_000,
        'the running app in the history server',
      );
      const r = await run.done;
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      await fx.mc.waitFor(
        async () => (await apps()).some((a) => a.id === appId && a.attempts[0].completed === true),
        30_000,
        'the finished app in the history server',
      );
      const jobs = (await (await fetch(`${hs.url}/api/v1/applications/${appId}/jobs`)).json()) as any[];
      assert.equal(jobs.length, 3);
      assert.ok(jobs.every((j) => j.status === 'SUCCEEDED'));
    } finally {
      hs.stop();
      await run.done;
    }
  });
});
