/**
 * RegisterNode.runningApps on a real NodeManager (in-process) against a scripted RM: the NM reports
 * every app it holds dirs for, and cleans up the ended ones the reply names (logs aggregated to the RM,
 * dirs deleted) exactly as after a heartbeat; a reply without appsToCleanup (an RM that predates it)
 * cleans up nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { NmConfig } from '../../src/cluster/common/config.js';
import { startNodeManager } from '../../src/cluster/nodemanager/nm.js';
import { parseToRm, type ToNm, type ToRm } from '../../src/protocol/cluster.js';
import { newSecret, serve } from '../../src/rpc/index.js';

const APP_ENDED = 'application_1700000000000_0001';
const APP_LIVE = 'application_1700000000000_0002';
const C_ENDED = 'container_1700000000000_0001_01_000002';
const C_LIVE = 'container_1700000000000_0002_01_000001';

type Msg<T extends ToRm['type']> = Extract<ToRm, { type: T }>;

/** An RM that records what it is sent; `answer` shapes the RegisterNode reply. */
async function scriptedRm(secret: string, answer: (m: Msg<'RegisterNode'>) => object) {
  const seen = { registrations: [] as Msg<'RegisterNode'>[], uploads: [] as Msg<'UploadLogs'>[], heartbeats: 0 };
  const srv = await serve<ToRm, ToNm>(
    {
      parse: parseToRm,
      secretFor: (p) => (p === 'cluster' ? secret : undefined),
      host: '127.0.0.1',
      port: 0,
      name: 'rm',
    },
    () => (m, r) => {
      switch (m.type) {
        case 'RegisterNode':
          seen.registrations.push(m);
          r?.reply(answer(m));
          return;
        case 'NodeHeartbeat':
          seen.heartbeats++;
          r?.reply({ resync: false, containersToKill: [], appsToCleanup: [] });
          return;
        case 'UploadLogs':
          seen.uploads.push(m);
          r?.reply({});
          return;
        default:
          r?.reply({});
      }
    },
  );
  return { srv, seen };
}

/** An NM dir holding the leftovers of two apps (as after an NM restart): work and log dirs. */
function nmDirWithLeftovers(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-nm-reg-'));
  fs.mkdirSync(path.join(dir, 'work', APP_ENDED, C_ENDED), { recursive: true });
  fs.mkdirSync(path.join(dir, 'logs', APP_ENDED, C_ENDED), { recursive: true });
  fs.writeFileSync(path.join(dir, 'logs', APP_ENDED, C_ENDED, 'stdout'), 'output of an app that ended meanwhile\n');
  fs.mkdirSync(path.join(dir, 'logs', APP_LIVE, C_LIVE), { recursive: true });
  fs.writeFileSync(path.join(dir, 'logs', APP_LIVE, C_LIVE, 'stderr'), 'still running elsewhere\n');
  return dir;
}

async function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('the NM reports its apps at registration and cleans up the ended ones the RM names', {
  timeout: 20_000,
}, async (t) => {
  const secret = newSecret();
  const { srv, seen } = await scriptedRm(secret, (m) => ({
    nodeId: `${m.host}:${m.port}`,
    clusterTimestamp: 1,
    appsToCleanup: m.runningApps.filter((a) => a === APP_ENDED),
  }));
  // closed even when the NM fails to start (an open server keeps the test file's process alive)
  t.after(() => srv.close());
  const dir = nmDirWithLeftovers();
  const conf = NmConfig.parse({ rm: `127.0.0.1:${srv.port}`, dir, heartbeatMs: 100, httpPort: -1 });
  const { nm } = await startNodeManager(conf, secret);
  try {
    assert.deepEqual(seen.registrations[0]?.runningApps, [APP_ENDED, APP_LIVE]);
    await waitFor(
      () => seen.uploads.length === 1 && !fs.existsSync(path.join(dir, 'logs', APP_ENDED)),
      10_000,
      'the ended app cleaned up',
    );
    const up = seen.uploads[0]!;
    assert.deepEqual(
      [up.appId, up.nodeId, up.logs.map((l) => [l.containerId, l.file, Buffer.from(l.data).toString()])],
      [APP_ENDED, nm.nodeId, [[C_ENDED, 'stdout', 'output of an app that ended meanwhile\n']]],
    );
    assert.equal(fs.existsSync(path.join(dir, 'work', APP_ENDED)), false, 'work dir deleted');
    assert.equal(fs.existsSync(path.join(dir, 'logs', APP_LIVE, C_LIVE, 'stderr')), true, 'a live app is untouched');
  } finally {
    await nm.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a registration reply without appsToCleanup cleans up nothing and the NM runs on', {
  timeout: 20_000,
}, async (t) => {
  const secret = newSecret();
  const { srv, seen } = await scriptedRm(secret, (m) => ({ nodeId: `${m.host}:${m.port}`, clusterTimestamp: 1 }));
  t.after(() => srv.close());
  const dir = nmDirWithLeftovers();
  const { nm } = await startNodeManager(
    NmConfig.parse({ rm: `127.0.0.1:${srv.port}`, dir, heartbeatMs: 50, httpPort: -1 }),
    secret,
  );
  try {
    await waitFor(() => seen.heartbeats >= 3, 10_000, 'heartbeats after registration');
    assert.deepEqual(seen.uploads, []);
    assert.equal(fs.existsSync(path.join(dir, 'logs', APP_ENDED, C_ENDED, 'stdout')), true);
    assert.equal(fs.existsSync(path.join(dir, 'work', APP_ENDED, C_ENDED)), true);
  } finally {
    await nm.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
