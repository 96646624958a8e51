/**
 * A real Cinder job (`cinder submit`) on NMs that isolate containers (as root, the default): in cluster
 * mode the AM and executors run as the submitting user's uid, reach the engine, their localized app bundle,
 * HOME and TMPDIR, read a world-readable input and write into a world-writable dir; in client mode the
 * driver (root) hands the output dir to that uid, so the output is written as the user's uid too; an
 * output dir the uid cannot reach fails at once with an error naming the dir and the fix.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MiniCluster, repoClosedToOthers } from '../harness/mini-cluster.js';
import { APPS, outputLines, submit } from './submit-harness.js';

const root = process.getuid?.() === 0;

describe('a job on isolated containers', {
  skip: !root ? 'needs root' : repoClosedToOthers() && `other uids cannot reach the code under ${repoClosedToOthers()}`,
  timeout: 120_000,
}, () => {
  let mc: MiniCluster;
  let tmp: string;
  before(async () => {
    mc = await MiniCluster.start({
      nodes: 2,
      nodeMemoryMB: 4096,
      rm: { minAllocationMB: 128, containerUidRange: '23300-23309' },
      nm: { containerUidRange: '23300-23309' },
    });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-isolated-job-'));
    // a shared data dir, as /tmp is: anyone may create, nobody may remove another's files
    fs.chmodSync(tmp, 0o1777);
    fs.writeFileSync(path.join(tmp, 'in.txt'), Array.from({ length: 200 }, (_, i) => `w${i % 7} common`).join('\n'));
    fs.chmodSync(path.join(tmp, 'in.txt'), 0o644);
  });
  after(async () => {
    await mc?.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('cluster mode: word count runs as the app uid and writes its output', async () => {
    const out = path.join(tmp, 'out');
    const r = await submit(
      [
        '--master',
        mc.master,
        '--deploy-mode',
        'cluster',
        '--executor-memory',
        '256m',
        '--driver-memory',
        '256m',
        path.join(APPS, 'wc.ts'),
        path.join(tmp, 'in.txt'),
        out,
      ],
      { CINDER_IDENTITY: mc.identityFile() },
    ).done;
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.ok(outputLines(out).includes('common 200'));
    const uid = fs.statSync(path.join(out, '_SUCCESS')).uid;
    assert.ok(uid >= 23300 && uid <= 23309, `output written by the app uid (got ${uid})`);
    for (const f of fs.readdirSync(out).filter((x) => x.startsWith('part-')))
      assert.equal(fs.statSync(path.join(out, f)).uid, uid, `${f} written by an executor of the same app uid`);
  });

  test('client mode: the driver hands the output dir to the user uid; executors write it as that uid', async () => {
    const out = path.join(tmp, 'out-client');
    const r = await submit(
      ['--master', mc.master, '--executor-memory', '256m', path.join(APPS, 'wc.ts'), path.join(tmp, 'in.txt'), out],
      { CINDER_IDENTITY: mc.identityFile() },
    ).done;
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.ok(outputLines(out).includes('common 200'));
    // the same user as the cluster-mode job above: the same uid (it follows the user, not the app)
    const uid = fs.statSync(out).uid;
    assert.equal(uid, 23300, 'the output dir belongs to the user uid');
    assert.equal(fs.statSync(path.join(out, '_SUCCESS')).uid, uid);
    for (const f of fs.readdirSync(out).filter((x) => x.startsWith('part-')))
      assert.equal(fs.statSync(path.join(out, f)).uid, uid, `${f} written by an executor as the user uid`);
  });

  test('client mode: an output dir the user uid cannot enter fails at once, naming the dir and the fix', async () => {
    const closed = fs.mkdtempSync(path.join(tmp, 'closed-'));
    fs.chmodSync(closed, 0o700);
    const out = path.join(closed, 'out');
    const r = await submit(
      ['--master', mc.master, '--executor-memory', '256m', path.join(APPS, 'wc.ts'), path.join(tmp, 'in.txt'), out],
      { CINDER_IDENTITY: mc.identityFile(), CINDER_LOG_LEVEL: 'error' },
    ).done;
    assert.notEqual(r.code, 0);
    assert.ok(
      r.stderr.includes(
        `executors run as uid 23300 (the cluster runs containers as their submitting user's uid) and cannot enter ${closed}`,
      ),
      r.stderr,
    );
    assert.ok(r.stderr.includes(`chmod o+x ${closed}`), r.stderr);
    assert.equal(fs.existsSync(out), false, 'nothing left behind');
  });
});
