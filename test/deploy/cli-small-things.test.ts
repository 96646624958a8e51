/**
 * Issue 19's small things, as a user meets them on the command line (each a real `cinder` process): clear
 * errors for bad flags before anything starts, the RM's own config error from `cluster up`, the secret
 * hint, `--driver-memory` in local mode, `--name` over the code's appName, saveAsTextFile's overwrite option.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CINDER } from '../harness/mini-cluster.js';
import { APPS } from './submit-harness.js';

const baseEnv = {
  ...process.env,
  CINDER_SECRET: '',
  CINDER_SECRET_FILE: '',
  CINDER_MASTER: '',
  CINDER_LOG_LEVEL: 'warn',
};

function cinder(args: string[], env: Record<string, string> = {}, timeout = 30_000) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CINDER, ...args], { encoding: 'utf8', env: { ...baseEnv, ...env }, timeout });
  return { ...r, ms: Date.now() - t0 };
}

function tempDir(t: { after(f: () => void): void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-small-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

test('cluster up --nodes abc / 0 / --memory-mb x are refused at once, starting nothing', { timeout: 30_000 }, (t) => {
  const dir = tempDir(t);
  for (const [flag, v] of [
    ['--nodes', 'abc'],
    ['--nodes', '0'],
    ['--nodes', '1.5'],
    ['--memory-mb', 'lots'],
  ] as const) {
    const r = cinder(['cluster', 'up', '--dir', dir, flag, v]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, new RegExp(`${flag}: '${v.replace('.', '\\.')}' is not a whole number of at least 1`));
    assert.ok(r.ms < 5000, `refused in ${r.ms} ms`);
    assert.equal(fs.existsSync(path.join(dir, 'cluster.json')), false);
  }
});

test('an RM config error from cluster up is reported as that error, at once', { timeout: 30_000 }, (t) => {
  const dir = tempDir(t);
  const r = cinder(['cluster', 'up', '--dir', dir, '--nodes', '1', '--rm-set', 'maxAttempts=zero']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /the ResourceManager exited at startup: invalid ResourceManager configuration: maxAttempts/);
  assert.doesNotMatch(r.stderr, /did not start within/);
  assert.ok(r.ms < 15_000, `reported in ${r.ms} ms`);
  assert.equal(fs.existsSync(path.join(dir, 'cluster.json')), false);
  // a second try with the same dir reports this run's error only, not the last one's log again
  const r2 = cinder(['cluster', 'up', '--dir', dir, '--nodes', '1', '--rm-set', 'livenessCheckMs=-5']);
  assert.match(r2.stderr, /livenessCheckMs/);
  assert.doesNotMatch(r2.stderr, /maxAttempts/);
});

test('apps --state BOGUS lists the valid states instead of a schema error', { timeout: 30_000 }, () => {
  const r = cinder(['apps', '--state', 'running,BOGUS', '--master', 'cinder://127.0.0.1:1']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--state: unknown application state 'BOGUS'/);
  assert.match(r.stderr, /valid states: NEW, SUBMITTED, ACCEPTED, RUNNING, FINISHED, FAILED, KILLED/);
  assert.doesNotMatch(r.stderr, /invalid_enum|invalid option|expected one of/i);
});

test('the "no cluster secret" error names only what works (no --secret-file)', { timeout: 30_000 }, (t) => {
  const dir = tempDir(t);
  const r = cinder(['resourcemanager', '--port', '0', '--rest-port', '-1', '--dir', dir]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /no cluster secret: set CINDER_SECRET_FILE/);
  assert.match(r.stderr, /--identity FILE or CINDER_IDENTITY/);
  assert.doesNotMatch(r.stderr, /--secret-file/);
});

test('submit --status/--kill without a cluster master say how to name one (CINDER_MASTER)', { timeout: 30_000 }, () => {
  const r = cinder(['submit', '--status', 'application_1_0001']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--status and --kill need a cluster master/);
  assert.match(r.stderr, /CINDER_MASTER/);
  const local = cinder(['submit', '--kill', 'application_1_0001'], { CINDER_MASTER: 'local[2]' });
  assert.match(local.stderr, /need a cluster master, got 'local\[2\]'/);
});

test('--driver-memory (or cinder.driver.memory) sets the driver heap in local mode; --name wins over the code appName', {
  timeout: 60_000,
}, () => {
  const app = path.join(APPS, 'heap.ts');
  const heap = (r: ReturnType<typeof cinder>) => Number(/heap-limit-mb (\d+)/.exec(r.stdout)?.[1]);
  const small = cinder(['submit', '--master', 'local[1]', '--driver-memory', '256m', app]);
  assert.equal(small.status, 0, small.stderr);
  assert.ok(heap(small) >= 256 && heap(small) < 340, `256m gave a heap of ${heap(small)} MB`);
  assert.match(small.stdout, /app-name named-in-code/);
  const big = cinder(['submit', '--master', 'local[1]', '--driver-memory', '1g', '--name', 'from-cli', app]);
  assert.equal(big.status, 0, big.stderr);
  assert.ok(heap(big) >= 1024 && heap(big) < 1110, `1g gave a heap of ${heap(big)} MB`);
  assert.match(big.stdout, /app-name from-cli/);
  // through --conf, the CLI itself restarts (the early read in bin/cinder.js leaves it to the CLI)
  const conf = cinder(['submit', '--master', 'local[1]', '--conf', 'cinder.driver.memory=300m', app]);
  assert.equal(conf.status, 0, conf.stderr);
  assert.ok(heap(conf) >= 300 && heap(conf) < 390, `cinder.driver.memory=300m gave a heap of ${heap(conf)} MB`);
  const bad = cinder(['submit', '--master', 'local[1]', '--driver-memory', 'lots', app]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /cinder\.driver\.memory/);
});

test('saveAsTextFile(path, { overwrite: true }) and (path, null, true) overwrite; plain refuses', {
  timeout: 60_000,
}, (t) => {
  const out = path.join(tempDir(t), 'out');
  const r = cinder(['submit', '--master', 'local[2]', path.join(APPS, 'save-overwrite.ts'), out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^options c,d$/m);
  assert.match(r.stdout, /^positional e$/m);
  assert.match(r.stdout, /^no-overwrite refused: /m);
});

test('a driver restarted for --driver-memory ends when its submit process is killed', {
  timeout: 60_000,
}, async (t) => {
  const { spawn } = await import('node:child_process');
  const marker = path.join(tempDir(t), 'marker');
  // the submit's own temp dir, to see that the restarted driver removes its dirs when it ends
  const tmp = path.join(tempDir(t), 'tmp');
  fs.mkdirSync(tmp);
  const child = spawn(
    process.execPath,
    [
      CINDER,
      'submit',
      '--master',
      'local[1]',
      '--driver-memory',
      '300m',
      path.join(APPS, 'slow.ts'),
      marker,
      '400',
      '1000',
    ],
    { env: { ...baseEnv, TMPDIR: tmp }, stdio: 'ignore' },
  );
  t.after(() => {
    child.kill('SIGKILL');
    for (const pid of drivers()) process.kill(Number(pid), 'SIGKILL');
  });
  const deadline = Date.now() + 30_000;
  while (!fs.existsSync(marker) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.ok(fs.existsSync(marker), 'the app started');
  const drivers = () =>
    fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
          return cmd.includes('--max-old-space-size=300') && cmd.includes(marker);
        } catch {
          return false;
        }
      });
  assert.equal(drivers().length, 1, 'the driver runs in a restarted process with the heap');
  child.kill('SIGKILL');
  const end = Date.now() + 20_000;
  while (drivers().length && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(drivers(), [], 'the restarted driver is gone');
  assert.deepEqual(
    fs.readdirSync(tmp).filter((d) => d.startsWith('cinder-')),
    [],
    'the restarted driver removed its temp dirs',
  );
});

test('a forgotten capture in a .ts app is reported at its line:column in the user’s file', { timeout: 60_000 }, () => {
  const app = path.join(APPS, 'forgot-capture.ts');
  // where the map call and its function are in the file, found by reading it (not from Cinder)
  const lines = fs.readFileSync(app, 'utf8').split('\n');
  const row = lines.findIndex((l) => l.includes('.map((r: Row)'));
  const mapCol = lines[row]!.indexOf('map(') + 1;
  const fnCol = lines[row]!.indexOf('(r: Row)') + 1;
  const r = cinder(['submit', '--master', 'local[1]', app]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /uses 'factor', 'typed', which are defined outside it and were not captured/);
  assert.ok(r.stderr.includes(`(the function is at ${app}:${row + 1}:${fnCol})`), r.stderr);
  assert.ok(r.stderr.includes(`at file://${app}:${row + 1}:${mapCol}`), r.stderr);
});

test('CSV fields holding quoted line breaks parse, through textFile partitions and whole files', {
  timeout: 60_000,
}, (t) => {
  const file = path.join(tempDir(t), 'notes.csv');
  fs.writeFileSync(
    file,
    'id,note,n\r\n1,"first line\r\nsecond, with ""quotes""",10\r\n2,plain,20\r\n3,"a\n\nb",30\r\n',
  );
  const expected = [
    ['id', 'note', 'n'],
    ['1', 'first line\nsecond, with "quotes"', '10'],
    ['2', 'plain', '20'],
    ['3', 'a\n\nb', '30'],
  ];
  const r = cinder(['submit', '--master', 'local[2]', path.join(APPS, 'csv-multiline.ts'), file]);
  assert.equal(r.status, 0, r.stderr);
  const got = (tag: string) => JSON.parse(new RegExp(`^${tag} (.*)$`, 'm').exec(r.stdout)?.[1] ?? 'null');
  assert.deepEqual(got('lines'), expected);
  assert.deepEqual(got('whole'), expected);
});
