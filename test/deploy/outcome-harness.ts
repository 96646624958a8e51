import fs from 'node:fs';
import path from 'node:path';
import type { AppReport } from '../../src/protocol/cluster.js';
import { CINDER, type MiniCluster } from '../harness/mini-cluster.js';
import { APPS, type Run, FAST as SUBMIT_FAST, spawnCapture } from './submit-harness.js';

export const SLOW_SAVE = path.join(APPS, 'slow-save.ts');

/** the quick-test submit flags, and a faster status report interval */
export const FAST = [...SUBMIT_FAST, '--conf', 'cinder.yarn.report.interval=250'];

/** The lines slow-save.ts writes, sorted. */
export const SLOW_SAVE_LINES = Array.from({ length: 24 }, (_, i) => `n${i}`).sort();

/** The RM's record of an app (through a fresh client). */
export function record(mc: MiniCluster, appId: string): Promise<AppReport> {
  return mc.withClient((c) => c.getApplication(appId));
}

/** "STATE/FINAL_STATUS" of an app in the RM. */
export async function outcome(mc: MiniCluster, appId: string): Promise<string> {
  const r = await record(mc, appId);
  return `${r.state}/${r.finalStatus}`;
}

/** The log (stdout and stderr) of AM attempt n of appId, once its logs are aggregated. */
export async function amLog(mc: MiniCluster, appId: string, attempt = 1): Promise<string> {
  return mc.withClient(async (c) => {
    await mc.waitFor(
      async () => (await c.getApplication(appId)).logAggregationStatus === 'SUCCEEDED',
      15_000,
      'log aggregation',
    );
    const suffix = `_${String(attempt).padStart(2, '0')}_000001`;
    const logs = await c.getLogs(appId);
    // the AM's own lines go through the logger (stderr); main's output in cluster mode to stdout
    return logs
      .filter((l) => l.containerId.endsWith(suffix) && (l.file === 'stdout' || l.file === 'stderr'))
      .map((l) => l.data)
      .join('');
  });
}

/**
 * The log (stdout and stderr) of appId's AM container read from the NodeManagers' directories (while the RM is down and
 * cannot serve logs): the files named stdout or stderr under mc.dir whose path holds appId and "_000001".
 */
export function amLogOnDisk(mc: MiniCluster, appId: string): string {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if ((e.name === 'stdout' || e.name === 'stderr') && p.includes(appId) && p.includes('_000001'))
        found.push(fs.readFileSync(p, 'utf8'));
    }
  };
  walk(mc.dir);
  return found.join('');
}

/** Waits until path exists with some content, and returns it. */
export async function readWhenWritten(mc: MiniCluster, file: string, timeoutMs: number): Promise<string> {
  await mc.waitFor(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8').length > 0, timeoutMs, file);
  return fs.readFileSync(file, 'utf8').trim();
}

/** Runs the cinder CLI against mc, its stderr readable while it runs. */
export function cliLive(mc: MiniCluster, args: string[], env: Record<string, string> = {}): Run {
  const e: Record<string, string | undefined> = {
    ...process.env,
    CINDER_IDENTITY: mc.identityFile(),
    CINDER_MASTER: mc.master,
    ...env,
  };
  delete e.CINDER_SECRET;
  return spawnCapture([process.execPath, CINDER, ...args], e);
}
