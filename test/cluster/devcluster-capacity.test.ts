/**
 * The development cluster out of the box (`cinder cluster up` defaults: 2 nodes): a client-mode service
 * and two cluster-mode batch apps run at once (issue 19). Also, on that cluster: `submit --status` and
 * `--kill` find it through CINDER_MASTER, and `--name` names a client-mode app.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { APPS, submit } from '../deploy/submit-harness.js';
import { alive, CINDER, sharedTempDir } from '../harness/mini-cluster.js';

/**
 * A home for one dev cluster (`$CINDER_HOME/dev-cluster`, so no command needs --dir), a temp dir other
 * uids can write, an env without any other cluster's settings, and `cinder` run in it; torn down (the
 * cluster included) after the test.
 */
function devClusterHome(t: { after(fn: () => void): void }, prefix: string, timeoutMs: number) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `cinder-${prefix}-`));
  const dir = path.join(home, 'dev-cluster');
  const tmp = sharedTempDir(`cinder-${prefix}-io-`);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    CINDER_SECRET: '',
    CINDER_SECRET_FILE: '',
    CINDER_IDENTITY: '',
    CINDER_HOME: home,
    CINDER_LOG_LEVEL: 'warn',
  };
  delete env.CINDER_DEV_DIR;
  delete env.CINDER_MASTER;
  const cli = (args: string[]) =>
    spawnSync(process.execPath, [CINDER, ...args], { encoding: 'utf8', env, timeout: timeoutMs });
  t.after(() => {
    if (fs.existsSync(path.join(dir, 'cluster.json'))) cli(['cluster', 'down']);
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  return { dir, tmp, env, cli };
}

interface App {
  id: string;
  name: string;
  state: string;
  finalStatus: string;
}

test('cluster up defaults run a client-mode service and two cluster-mode batch apps at once', {
  timeout: 180_000,
}, async (t) => {
  const runs: ReturnType<typeof submit>[] = [];
  // registered first, so it runs before the cluster is taken down
  t.after(() => {
    for (const r of runs) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  });
  const { dir, tmp, env, cli } = devClusterHome(t, 'devcap', 40_000);
  const up = cli(['cluster', 'up']);
  assert.equal(up.status, 0, up.stderr);
  const master = up.stdout.trim();
  env.CINDER_MASTER = master;
  const apps = (): App[] => {
    const r = cli(['apps', '--json']);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as App[];
  };
  const waitFor = async (what: string, ms: number, ok: () => boolean) => {
    const end = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(apps())}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };

  // the service: client mode (CINDER_MASTER, no --master), named on the command line
  const ready = path.join(tmp, 'service-ready');
  const service = submit(['--name', 'my-service', path.join(APPS, 'http-service.ts'), ready], env);
  runs.push(service);
  await waitFor('the service to listen', 60_000, () => fs.existsSync(ready) || service.child.exitCode !== null);
  assert.ok(fs.existsSync(ready), service.stderr());
  const serviceId = fs.readFileSync(ready, 'utf8').split(' ')[1]!;

  // two batch apps, cluster mode, while the service runs
  for (const i of [1, 2])
    runs.push(
      submit(['--deploy-mode', 'cluster', path.join(APPS, 'slow.ts'), path.join(tmp, `batch-${i}`), '300', '6'], env),
    );
  await waitFor('three apps RUNNING at once', 90_000, () => apps().filter((a) => a.state === 'RUNNING').length === 3);
  const running = apps().filter((a) => a.state === 'RUNNING');
  assert.deepEqual(running.map((a) => a.name).sort(), ['my-service', 'slow', 'slow']);
  assert.equal(running.find((a) => a.name === 'my-service')?.id, serviceId);

  // the service answers while the batch apps run
  const port = Number(fs.readFileSync(ready, 'utf8').split(' ')[0]);
  assert.equal((await (await fetch(`http://127.0.0.1:${port}/sum`)).text()).trim(), 'sum 20');

  // submit --status finds the cluster through CINDER_MASTER
  const status = cli(['submit', '--status', serviceId]);
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, /RUNNING/);

  for (const r of runs.slice(1)) {
    const done = await r.done;
    assert.equal(done.code, 0, done.stderr);
  }
  // and submit --kill ends the service (through CINDER_MASTER as well)
  const kill = cli(['submit', '--kill', serviceId]);
  assert.equal(kill.status, 0, kill.stderr);
  assert.match(kill.stdout, new RegExp(`${serviceId} KILLED`));
  const end = await service.done;
  assert.notEqual(end.code, 0);
  const after = apps();
  assert.deepEqual(after.map((a) => `${a.name} ${a.state}/${a.finalStatus}`).sort(), [
    'my-service KILLED/KILLED',
    'slow FINISHED/SUCCEEDED',
    'slow FINISHED/SUCCEEDED',
  ]);
  const info = JSON.parse(fs.readFileSync(path.join(dir, 'cluster.json'), 'utf8')) as { pids: { rm: number } };
  assert.ok(alive(info.pids.rm));
});

test('cluster up --rm-set queues=JSON configures the queues apps are submitted to', { timeout: 120_000 }, async (t) => {
  const { tmp, env, cli } = devClusterHome(t, 'devq', 60_000);
  const queues = { 'root.default': { capacity: 60, maxAmPercent: 30 }, 'root.batch': { capacity: 40 } };
  const up = cli(['cluster', 'up', '--nodes', '1', '--rm-set', `queues=${JSON.stringify(queues)}`]);
  assert.equal(up.status, 0, up.stderr);
  env.CINDER_MASTER = up.stdout.trim();
  const input = path.join(tmp, 'in.txt');
  fs.writeFileSync(input, 'b a b\n');
  const run = cli([
    'submit',
    '--deploy-mode',
    'cluster',
    '--queue',
    'batch',
    path.join(APPS, 'wc.ts'),
    input,
    path.join(tmp, 'out'),
  ]);
  assert.equal(run.status, 0, run.stderr);
  const apps = JSON.parse(cli(['apps', '--json']).stdout) as { queue: string; finalStatus: string }[];
  assert.deepEqual(
    apps.map((a) => `${a.queue} ${a.finalStatus}`),
    ['batch SUCCEEDED'],
  );
  const nope = cli([
    'submit',
    '--deploy-mode',
    'cluster',
    '--queue',
    'nope',
    path.join(APPS, 'wc.ts'),
    input,
    path.join(tmp, 'o2'),
  ]);
  assert.notEqual(nope.status, 0);
  assert.match(nope.stderr, /nope/);
  assert.match(nope.stderr, /batch/);
});
